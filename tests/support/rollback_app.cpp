#include "support/rollback_app.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace velin::testing {
namespace {

const char* kServer = R"PY(import http.server, os, sys
here = os.path.dirname(os.path.realpath(__file__))
version = open(os.path.join(here, "VERSION")).read().strip()
broken = os.path.exists(os.path.join(here, "BROKEN"))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("version=" + version + "\n").encode()
        self.send_response(503 if broken else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer.allow_reuse_address = True
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
)PY";

}  // namespace

std::map<std::string, std::string> ClockAhead(std::chrono::seconds ahead,
                                              std::map<std::string, std::string> env) {
  env["VELIN_NOW"] = UtcFromNow(ahead.count());
  return env;
}

// The toy server stops and starts on its port at every switch: an ephemeral port (bind(0))
// could be taken by some connect() while it is down; FreeLoopbackPort's are below that range.
int FreePort() { return FreeLoopbackPort(); }

void KillPid(long pid) {
  if (pid <= 1) return;
  ::kill(static_cast<pid_t>(pid), SIGKILL);
}

long ReadPidFile(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  in >> pid;
  return pid;
}

long WatchdogPid(const std::string& state_dir) {
  std::ifstream in(state_dir + "/transaction.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::smatch m;
  std::string text = ss.str();
  // Never destroyed: ~ToyApp calls this, also for apps held in statics that outlive a
  // function-local static regex at exit (a use-after-free under ASan).
  static const std::regex& kPid = *new std::regex("\"watchdog_pid\":\\s*([0-9]+)");
  return std::regex_search(text, m, kPid) ? std::stol(m[1]) : 0;
}

// Debian's interpreter by its path (scripts/deps/rollback.apt installs it): the `python3` first
// on PATH may be a version manager's shim, and pyenv's cost 0.42 s of CPU per start against
// 0.04 s on the machine kind of 2026-12-02, where toy servers start thousands of times a run.
static std::string Python3() {
  return ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

ToyApp::ToyApp(ToyAppOptions options) : port_(FreePort()) {
  std::string app = this->app();
  std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/health";
  std::string toml =
      "[app]\nroot = \"app\"\n\n[rollback]\n"
      "artifacts = [\"bin\", \"scripts\"]\nconfig = [\".env\"]\n"
      "state_dir = \".velin\"\ncurrent = \"current\"\nkeep_versions = 10\n"
      "health_timeout = \"" +
      options.health_timeout + "\"\n";
  if (options.with_service) {
    toml += "start = \"nohup " + Python3() + " current/bin/server.py " + std::to_string(port_) +
            " >server.log 2>&1 </dev/null & echo $! > server.pid\"\n";
    // A kill that fails while the process is still there (another user's: EPERM) is a failed
    // stop; one that fails because the process is gone (it crashed) is not: nothing runs.
    toml +=
        "stop = \"if [ -f server.pid ]; then p=$(cat server.pid); "
        "if ! kill $p 2>/dev/null && [ -e /proc/$p/status ]; then echo cannot stop $p >&2; exit 1; "
        "fi; "
        "while kill -0 $p 2>/dev/null; do sleep 0.05; done; rm -f server.pid; fi\"\n";
    toml += options.health_as_url ? "health = \"" + url + "\"\n"
                                  : "health = \"curl -fsS --max-time 2 " + url + "\"\n";
  }
  toml += options.extra_rollback;
  WriteFile(config(), toml);
  WriteFile(app + "/.env", "MODE=production\n");
}

ToyApp::~ToyApp() {
  KillPid(WatchdogPid(state()));
  KillServer();
}

void ToyApp::KillServer() {
  long pid = ReadPidFile(app() + "/server.pid");
  KillPid(pid);
  ::unlink((app() + "/server.pid").c_str());
}

RunResult ToyApp::BuildVersion(const std::string& name) {
  Build(name);
  return Velin({"rollback", "create-version", name});
}

void ToyApp::Build(const std::string& name, bool broken) {
  WriteFile(app() + "/bin/server.py", kServer, 0755);
  WriteFile(app() + "/bin/VERSION", name + "\n");
  WriteFile(app() + "/bin/lib.dat", std::string(64 * 1024, 'L'));
  WriteFile(app() + "/scripts/migrate.sh", "#!/bin/sh\necho migrate\n", 0755);
  std::string marker = app() + "/bin/BROKEN";
  if (broken) {
    WriteFile(marker, "1\n");
  } else {
    ::unlink(marker.c_str());
  }
}

RunResult ToyApp::Velin(std::vector<std::string> args, std::map<std::string, std::string> env) {
  args.insert(args.begin(), {"--config", config()});
  RunOptions options;
  options.cwd = root();
  options.env = std::move(env);
  options.timeout_seconds = 120;
  return RunVelin(args, options);
}

std::string ToyApp::Health() {
  RunOptions options;
  options.timeout_seconds = 10;
  RunResult r = RunProgram(
      {"curl", "-fsS", "--max-time", "2", "http://127.0.0.1:" + std::to_string(port_) + "/health"},
      options);
  if (r.exit_code != 0) return "";
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string ToyApp::Current() {
  char buf[4096];
  ssize_t n = ::readlink((app() + "/current").c_str(), buf, sizeof buf);
  if (n <= 0) return "";
  std::string target(buf, static_cast<size_t>(n));
  return target.substr(target.find_last_of('/') + 1);
}

bool ToyApp::WaitForVersion(const std::string& version, double seconds) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    if (Health() == "version=" + version) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

bool ToyApp::WaitForTransactionEnd(double seconds) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    if (!std::filesystem::exists(state() + "/transaction.json")) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

}  // namespace velin::testing
