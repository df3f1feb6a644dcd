// Deploys across several hosts (docs/rollback.md#fleet): `velin rollback --fleet begin |
// to-version | commit | rollback | status` runs the same rollback command with the velin of
// every host in [fleet] hosts, over OpenSSH's ssh client (host keys checked, BatchMode, no
// secret in any argument), in parallel, and reads each host's --json answer.
//
// Guarantees: `to-version` is all-or-nothing: when a host fails its switch or health check,
// every host that switched goes back to the version it ran before (exit code 5 once every host
// is confirmed back, 1 when one could not be). `commit` commits only when every host answers
// with its transaction open; otherwise it commits nowhere, and each host's watchdog (armed by
// `begin`) rolls it back at its deadline, so a dead network or CI runner still ends with every
// host on its old version. The fleet reports through Reporter and never prints.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "velin/core/duration.hpp"
#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"

namespace velin::rollback {

struct FleetHost {
  std::string name;         // for messages and JSON: the destination (unique in the fleet)
  std::string destination;  // what ssh connects to: "web1", "deploy@web2", "ssh://h:2222"
  std::string config;       // the velin.toml on that host
};

// Parses a [fleet] hosts entry: an ssh destination, optionally followed by ":/abs/velin.toml"
// (the config on that host; default `default_config`). Refuses what ssh would take for an
// option (a leading '-') and what no destination holds (spaces, quotes, control characters).
// `name` is the destination; a fleet naming one destination twice names them by entry
// (UniqueHostNames).
Result<FleetHost> ParseFleetHost(const std::string& entry, const std::string& default_config);

// Names each host by its whole entry when a destination appears twice (one host, two apps).
void UniqueHostNames(std::vector<FleetHost>& hosts, const std::vector<std::string>& entries);

// `word` as one word for a POSIX shell: ssh hands the remote command to the host's shell, and
// migrate_down's {level} is pasted into a command line for `sh -c`.
std::string ShellQuote(const std::string& word);

struct FleetSettings {
  std::vector<FleetHost> hosts;
  std::string velin = "velin";           // a command line for the hosts' shell
  std::vector<std::string> ssh_options;  // after velin's own -o options (which win)
  Duration connect_timeout = Duration(10'000);
  Duration command_timeout = Duration(1'800'000);
};

// What one host answered to one velin command.
struct HostReply {
  bool reached = false;     // velin ran there and answered with a JSON document
  int exit_code = 0;        // velin's exit code there (ssh's 255 when the host was not reached)
  nlohmann::json document;  // the --json document (null when none)
  std::string error;        // one line, when exit_code is not 0
};

// Runs `velin --config CONFIG ARGS... --json` on one host: the seam between the fleet's logic
// and ssh. Must be callable from several threads at once.
class HostRunner {
 public:
  virtual ~HostRunner() = default;
  virtual HostReply Run(const FleetHost& host, const std::vector<std::string>& args) = 0;
};

// OpenSSH's ssh client, run through the process runner (core/process).
class SshRunner : public HostRunner {
 public:
  explicit SshRunner(FleetSettings settings) : settings_(std::move(settings)) {}
  HostReply Run(const FleetHost& host, const std::vector<std::string>& args) override;
  // The ssh argv that runs velin ARGS on `host`.
  std::vector<std::string> Argv(const FleetHost& host, const std::vector<std::string>& args) const;

 private:
  FleetSettings settings_;
};

// One host's part in a fleet command.
struct HostOutcome {
  std::string host;  // its [fleet] hosts entry
  bool ok = false;
  int exit_code = 0;           // its velin's (255: not reached)
  std::string message;         // one line: what happened there
  nlohmann::json reply;        // its JSON document of the command (null when none)
  std::string before;          // to-version: the version live before ("" when unknown)
  std::string current;         // to-version: the version live at the end ("" when unknown)
  bool switched_back = false;  // to-version: the fleet switched it back (another host failed)
};

struct FleetResult {
  std::string command;             // "begin", "to-version", "commit", "rollback", "status"
  std::vector<HostOutcome> hosts;  // in [fleet] hosts order
  Status status;                   // the command's outcome: exit code and one line
};

class Fleet {
 public:
  Fleet(FleetSettings settings, HostRunner& runner, Reporter& reporter);

  // `timeout`: passed on as --timeout ("" = each host's transaction_timeout).
  FleetResult Begin(const std::string& timeout, const std::string& reason);
  FleetResult ToVersion(const std::string& name, const std::string& reason);
  FleetResult PlanToVersion(const std::string& name);  // --dry-run on every host
  FleetResult Commit();
  FleetResult RollbackNow(const std::string& reason);
  FleetResult Inspect();

 private:
  // Runs args_of(i) on host i, every host at once; replies in host order.
  std::vector<HostReply> RunAll(const std::vector<std::string>& args);
  // Calls work(i) for every host index at once, and waits for all.
  void ForEachHost(const std::function<void(size_t)>& work);
  std::vector<size_t> All() const;  // every host's index
  // The hosts' names joined: "web1, web2".
  std::string Names(const std::vector<size_t>& indexes) const;
  // Undoes a failed fleet switch on host i; true when the host is confirmed on `before`.
  bool SwitchBack(HostOutcome& o, const HostReply& switched, const std::string& reason);

  FleetSettings settings_;
  HostRunner& runner_;
  Reporter& reporter_;
};

}  // namespace velin::rollback
