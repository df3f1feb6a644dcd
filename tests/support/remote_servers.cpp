#include "support/remote_servers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>

namespace velin::testing {
namespace {

std::string NodeDir() {
  const char* dir = std::getenv("VELIN_TEST_NODE_DIR");
  return dir && *dir ? dir : "/opt/velin-test";
}

void Require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

ServerProcess StartServer(std::vector<std::string> argv, const std::string& log) {
  // The log of a previous start (a restart in the same directory) goes first: its "ready" line,
  // read before the new server's shell truncates the file, passed for the new server's (an
  // ASan run failed a restart so: the port was not yet open a second later).
  std::error_code ignored;
  std::filesystem::remove(log, ignored);
  ProcessOptions options;
  // sh only redirects output into the log; exec replaces it so the pid is the server's.
  std::string command = "exec";
  for (const std::string& a : argv) command += " '" + a + "'";
  command += " >'" + log + "' 2>&1";
  options.argv = {"/bin/sh", "-c", command};
  options.stdout_mode = Stdio::kNull;
  options.stderr_mode = Stdio::kNull;
  auto process = Subprocess::Start(options);
  Require(process.has_value(), "cannot start " + argv[0]);
  return ServerProcess(std::move(*process));
}

std::string ReadLog(const std::string& path) {
  try {
    return ReadFileOrDie(path);
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

bool WaitForPort(int port, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Until the log at `path` holds `needle`, or `timeout_ms` passed. A server that says it
// listens is the one on its port: an open port alone may be another test's server that took
// the port between FreeLoopbackPort and this one's bind (this one then exits; s3rver's client
// read sshd's banner as "HTTP/0.9" once, under load).
static bool WaitForLog(const std::string& path, const std::string& needle, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadLog(path).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

ServerProcess& ServerProcess::operator=(ServerProcess&& other) noexcept {
  Stop();
  process_ = std::move(other.process_);
  other.process_.reset();
  return *this;
}

// Every process below `root` (sshd and vsftpd serve each connection in a child that leaves
// the process group), found through /proc's parent links.
static std::vector<pid_t> Descendants(pid_t root) {
  std::vector<std::pair<pid_t, pid_t>> links;  // pid, parent
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat;
    try {
      stat = ReadFileOrDie(entry.path() / "stat");
    } catch (const std::exception&) {
      continue;
    }
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    int parent = 0;
    char state = 0;
    if (std::sscanf(stat.c_str() + paren + 1, " %c %d", &state, &parent) == 2) {
      links.emplace_back(std::stoi(name), parent);
    }
  }
  std::vector<pid_t> out{root};
  for (size_t i = 0; i < out.size(); ++i) {
    for (auto [pid, parent] : links) {
      if (parent == out[i]) out.push_back(pid);
    }
  }
  out.erase(out.begin());
  return out;
}

void ServerProcess::Stop() {
  if (!process_) return;
  // The servers need no graceful shutdown (tests also use this as "the server died"), but
  // their per-connection children must go too, or open connections would keep working.
  std::vector<pid_t> children = Descendants(process_->pid());
  for (pid_t child : children) ::kill(child, SIGKILL);
  process_->Kill(SIGKILL);
  (void)process_->Wait();
  process_.reset();
}

RunOptions S3Server::RunEnv(const TempDir& cache) {
  RunOptions o;
  o.env = {{"AWS_ACCESS_KEY_ID", kAccessKey},
           {"AWS_SECRET_ACCESS_KEY", kSecretKey},
           {"VELIN_CACHE_DIR", cache.path()}};
  return o;
}

S3Server::S3Server(bool check_signatures) : check_signatures_(check_signatures) {
  for (int attempt = 1; attempt < 3; ++attempt) {  // a port taken meanwhile: another one
    port_ = FreeLoopbackPort();
    if (Launch()) return;
  }
  port_ = FreeLoopbackPort();
  Start();
}

void S3Server::Start() {
  Require(Launch(), "s3rver did not start on port " + std::to_string(port_) + ": " +
                        ReadLog(dir_ / "s3rver.log"));
}

bool S3Server::Launch() {
  std::string module = check_signatures_ ? NodeDir() + "/s3rver-sig/node_modules/@20minutes/s3rver"
                                         : NodeDir() + "/s3rver/node_modules/s3rver";
  Require(std::filesystem::exists(module),
          module + " is missing: run scripts/install-deps.sh (scripts/deps/remote.sh)");
  std::string script = dir_ / "run.js";
  WriteFile(script,
            "const [mod, port, dir, bucket] = process.argv.slice(2);\n"
            "const S3rver = require(mod);\n"
            "new S3rver({port: +port, address: '127.0.0.1', directory: dir, silent: true,\n"
            "  configureBuckets: [{name: bucket}]}).run().then(() => console.log('ready'),\n"
            "  (e) => { console.error(e); process.exit(1); });\n");
  std::filesystem::create_directories(dir_ / "data");
  // s3rver makes continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
  process_ = StartServer({"node", "--openssl-legacy-provider", script, module,
                          std::to_string(port_), dir_ / "data", kBucket},
                         dir_ / "s3rver.log");
  if (WaitForLog(dir_ / "s3rver.log", "ready\n", 15000) && WaitForPort(port_, 1000)) return true;
  process_.Stop();
  return false;
}

void S3Server::PinRepositoryDirectories(const std::string& key_prefix) const {
  const std::string repo = dir_ / ("data/" + std::string(kBucket) + "/" + key_prefix);
  std::vector<std::string> dirs = {"locks", "index", "snapshots", "keys", "state"};
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 256; ++i) dirs.push_back(std::string("data/") + hex[i / 16] + hex[i % 16]);
  for (const auto& d : dirs) WriteFile(repo + "/" + d + "/.pinned-by-test", "");
}

SshServer::SshServer(const std::string& time_zone) : time_zone_(time_zone) {
  passwd* pw = getpwuid(getuid());
  Require(pw != nullptr, "no passwd entry for the current user");
  user_ = pw->pw_name;
  Require(std::filesystem::exists("/usr/sbin/sshd"),
          "/usr/sbin/sshd is missing: run scripts/install-deps.sh (openssh-server)");
  std::filesystem::create_directories("/run/sshd");
  std::filesystem::create_directories(dir_ / "files");
  for (const char* key : {"hostkey", "userkey"}) {
    auto r = RunProgram({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir_ / key});
    Require(r.exit_code == 0, "ssh-keygen failed: " + r.out + r.err);
  }
  WriteFile(dir_ / "authorized_keys", ReadFileOrDie(dir_ / "userkey.pub"), 0600);
  std::string host_pub = ReadFileOrDie(dir_ / "hostkey.pub");
  std::string key_type_and_blob = host_pub.substr(0, host_pub.find(' ', host_pub.find(' ') + 1));
  for (int attempt = 1;; ++attempt) {  // a port taken meanwhile: another one
    port_ = FreeLoopbackPort();
    if (Launch(key_type_and_blob)) return;
    Require(attempt < 3, "sshd did not start on port " + std::to_string(port_) + ": " +
                             ReadLog(dir_ / "sshd.log"));
  }
}

bool SshServer::Launch(const std::string& key_type_and_blob) {
  WriteFile(dir_ / "known_hosts",
            "[127.0.0.1]:" + std::to_string(port_) + " " + key_type_and_blob + "\n");
  // SetEnv SHLVL=1: bash, started by sshd for each command (the fleet's `velin` on a host),
  // reads the user's ~/.bashrc only as a top-level shell (SHLVL < 2 after its own increment).
  // This machine kind's root .bashrc runs `pyenv init`: 0.57 s of CPU per command, where a
  // fleet test runs dozens; a real host's rc is the host's business, not what these test.
  WriteFile(dir_ / "sshd_config",
            "Port " + std::to_string(port_) + "\nListenAddress 127.0.0.1\nHostKey " +
                (dir_ / "hostkey") + "\nAuthorizedKeysFile " + (dir_ / "authorized_keys") +
                "\nPasswordAuthentication no\nKbdInteractiveAuthentication "
                "no\nStrictModes no\nUsePAM no\nPidFile " +
                (dir_ / "sshd.pid") + "\nSubsystem sftp internal-sftp\nSetEnv SHLVL=1\n");
  std::vector<std::string> argv = {"/usr/sbin/sshd", "-f", dir_ / "sshd_config", "-D", "-e"};
  if (!time_zone_.empty()) argv.insert(argv.begin(), {"/usr/bin/env", "TZ=" + time_zone_});
  process_ = StartServer(argv, dir_ / "sshd.log");
  const std::string listening = "Server listening on 127.0.0.1 port " + std::to_string(port_);
  if (WaitForLog(dir_ / "sshd.log", listening, 10000) && WaitForPort(port_, 1000)) return true;
  process_.Stop();
  return false;
}

std::string SshServer::Url(const std::string& path) const { return UrlAs(user_, path); }

std::string SshServer::StorageConfig() const {
  return "\n[storage.sftp]\nkey_file = \"" + key_file() + "\"\nknown_hosts = \"" + known_hosts() +
         "\"\n";
}

std::string SshServer::UrlAs(const std::string& user, const std::string& path) const {
  std::string p = path;
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  return "sftp://" + user + "@127.0.0.1:" + std::to_string(port_) + "/" + p;
}

void SshServer::AuthorizeKey(const std::string& public_key_file) {
  const std::string keys = dir_ / "authorized_keys";
  const auto mode = static_cast<unsigned>(std::filesystem::status(keys).permissions());
  WriteFile(keys, ReadFileOrDie(keys) + ReadFileOrDie(public_key_file), mode);
}

void SshServer::AdmitOtherUsers() {
  namespace fs = std::filesystem;
  const auto all_read = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                        fs::perms::others_read | fs::perms::others_exec;
  fs::permissions(dir_.path(), all_read);
  fs::permissions(files_dir(), all_read);
  fs::permissions(dir_ / "authorized_keys", fs::perms::owner_read | fs::perms::owner_write |
                                                fs::perms::group_read | fs::perms::others_read);
}

SilentServer::SilentServer() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("SilentServer: cannot listen on loopback");
  }
  port_ = ntohs(addr.sin_port);
}

SilentServer::~SilentServer() { ::close(fd_); }

}  // namespace velin::testing
