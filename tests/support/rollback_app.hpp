// A real toy application for the rollback tests: a tiny Python HTTP server started and stopped
// by the configured rollback.start/stop commands (pid file), running from the `current`
// symlink, whose /health answers "version=NAME" read from its release (503 when the release
// holds a BROKEN marker). Each ToyApp has its own temp dir and a free port; the destructor
// kills the server and any watchdog it can find, even when the test failed.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace velin::testing {

struct ToyAppOptions {
  std::string health_timeout = "8s";  // a Python start on a loaded CI VM took over 3 s
  bool with_service = true;           // false: no stop/start/health (fast races)
  bool health_as_url = false;         // health = "http://…/health" instead of a curl command
  std::string extra_rollback;         // more lines for [rollback]
};

// A toy app with no service: no stop/start/health commands (fast registry and race tests).
inline ToyAppOptions NoService() {
  ToyAppOptions o;
  o.with_service = false;
  return o;
}

class ToyApp {
 public:
  explicit ToyApp(ToyAppOptions options = {});
  ~ToyApp();
  ToyApp(const ToyApp&) = delete;
  ToyApp& operator=(const ToyApp&) = delete;

  // Writes the artifacts of version `name` into app/ (server and a large library are the same
  // for every version, VERSION differs); `broken` adds bin/BROKEN.
  void Build(const std::string& name, bool broken = false);
  // Build(name), then `velin rollback create-version name`: its result.
  RunResult BuildVersion(const std::string& name);
  // Runs velin with --config pointing at this app.
  RunResult Velin(std::vector<std::string> args, std::map<std::string, std::string> env = {});
  // GET /health: "version=NAME", or "" when nothing answers with 200.
  std::string Health();
  // The release `current` points at ("" when none).
  std::string Current();
  // Polls Health() until it says `version` or `seconds` pass.
  bool WaitForVersion(const std::string& version, double seconds);
  // Polls until no transaction is open (state/transaction.json is gone) or `seconds` pass.
  bool WaitForTransactionEnd(double seconds);
  void KillServer();

  std::string root() const { return dir_.path(); }
  std::string app() const { return dir_ / "app"; }
  std::string state() const { return dir_ / ".velin"; }
  std::string config() const { return dir_ / "velin.toml"; }
  int port() const { return port_; }

 private:
  TempDir dir_;
  int port_ = 0;
};

// {"VELIN_NOW": the wall clock `ahead` from now} for Velin(): a command run "later", which sees
// a transaction's deadline passed without the test sleeping until it does (a sleep with a small
// margin over a deadline is a flake on a loaded machine: the commands before it may be slower).
std::map<std::string, std::string> ClockAhead(std::chrono::seconds ahead,
                                              std::map<std::string, std::string> env = {});

int FreePort();
// Sends SIGKILL to `pid` (and its group when it leads one) if it is alive.
void KillPid(long pid);
long ReadPidFile(const std::string& path);
// The watchdog pid recorded in state_dir/transaction.json (0 when none).
long WatchdogPid(const std::string& state_dir);

}  // namespace velin::testing
