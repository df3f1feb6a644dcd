#include "support/test_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "support/child_process.hpp"

extern char** environ;

namespace velin::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/velin-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  // Make everything writable first so read-only dirs made by tests can be removed.
  for (auto it = fs::recursive_directory_iterator(path_, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
  }
  fs::remove_all(path_, ec);
  // std::filesystem names each entry by its whole path, which a tree nested past PATH_MAX (the
  // deep-tree tests') outgrows; rm walks by descriptors.
  if (ec || fs::exists(path_, ec)) (void)RunProgram({"rm", "-rf", "--", path_});
}

SmallTmpfs::SmallTmpfs(const std::string& dir, const std::string& size) : dir_(dir) {
  std::filesystem::create_directories(dir);
  mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
}

SmallTmpfs::~SmallTmpfs() {
  if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
}

void FillLeaving(const std::string& file, uint64_t room) {
  struct statvfs st {};
  const std::string dir = fs::path(file).parent_path().string();
  if (::statvfs(dir.c_str(), &st) != 0) return;
  const uint64_t free = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  uint64_t take = free > room ? free - room : 0;
  std::ofstream out(file, std::ios::binary);
  const std::string block(4096, 'x');
  while (take >= block.size() && out.write(block.data(), block.size())) take -= block.size();
  out.flush();
}

void WriteFile(const std::string& path, const std::string& content, unsigned mode) {
  fs::create_directories(fs::path(path).parent_path());
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write " + path);
    f << content;
  }
  fs::permissions(path, static_cast<fs::perms>(mode), fs::perm_options::replace);
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string ReadStream(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

namespace {

// Binds 127.0.0.1:`port` (0: any) and releases it; the port bound, or 0 when it is taken.
int TryBindLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof addr;
  int bound = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    bound = ntohs(addr.sin_port);
  }
  ::close(fd);
  return bound;
}

// The first port of the kernel's ephemeral range (ip_local_port_range; 32768 by default).
int EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  if (!(in >> low) || low <= 0) low = 32768;
  return low;
}

}  // namespace

int FreeLoopbackPort() {
  // Below the ephemeral range: a port of that range (what bind(0) gives) may be handed to any
  // process's connect() or bind(0) between this check and the test server's bind, and a toy
  // server that restarts on its port keeps that window open for the whole test (a flake on a
  // busy machine). Below it only another test picking the same port at the same moment can
  // take it: candidates vary by pid and call (a seeded generator), so those odds are about 1 in
  // the range's size for two servers starting at once.
  static std::atomic<uint32_t> calls{0};
  const int low = 20000, high = EphemeralLow();
  if (high - low >= 1000) {
    std::mt19937 rng(static_cast<uint32_t>(::getpid()) * 2654435761u + calls++);
    std::uniform_int_distribution<int> pick(low, high - 1);
    for (int attempt = 0; attempt < 100; ++attempt) {
      if (int port = TryBindLoopback(pick(rng)); port != 0) return port;
    }
  }
  if (int port = TryBindLoopback(0); port != 0) return port;
  throw std::runtime_error("cannot find a free loopback port");
}

std::string VelinBinary() { return VELIN_BINARY; }
std::string SourceDir() { return VELIN_SOURCE_DIR; }

std::string UtcFromNow(int64_t seconds) {
  const std::time_t t = std::time(nullptr) + static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

uint64_t SweepStride() {
  const char* v = std::getenv("VELIN_TEST_SWEEP_STRIDE");
  if (v == nullptr || *v == '\0') return 1;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 10);
  return (*end == '\0' && n >= 1 && n <= 1000) ? n : 1;
}

RunResult CollectUntilExit(pid_t pid, int out_fd, int err_fd, int timeout_seconds) {
  RunResult result;
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_count = 2;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  char buf[65536];
  while (open_count > 0) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    int r = ::poll(fds, 2, left);
    if (r < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {  // a pty answers EIO once the last holder of its other side is gone
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::vector<std::string> ChildEnvironment(const RunOptions& options) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string key = entry.substr(0, entry.find('='));
    if (options.env.count(key)) continue;
    bool unset = false;
    for (const auto& u : options.unset_env) unset = unset || u == key;
    if (!unset) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
  return env_strings;
}

std::vector<char*> NullTerminated(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

RunResult RunProgram(const std::vector<std::string>& argv_in, const RunOptions& options) {
  std::vector<std::string> env_strings = ChildEnvironment(options);
  std::vector<char*> envp = NullTerminated(env_strings);
  std::vector<std::string> argv_strings = argv_in;
  std::vector<char*> argv = NullTerminated(argv_strings);

  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC)) {
    throw std::runtime_error("pipe failed");
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
    if (options.open_files_hard > 0) {
      const rlimit files{options.open_files_soft, options.open_files_hard};
      if (::setrlimit(RLIMIT_NOFILE, &files) != 0) ::_exit(125);
    }
    if (options.file_size_limit > 0) {
      const rlimit size{options.file_size_limit, options.file_size_limit};
      if (::setrlimit(RLIMIT_FSIZE, &size) != 0) ::_exit(125);
    }
    if (options.stack_soft > 0) {
      rlimit stack{};
      ::getrlimit(RLIMIT_STACK, &stack);
      stack.rlim_cur = options.stack_soft;
      if (::setrlimit(RLIMIT_STACK, &stack) != 0) ::_exit(125);
    }
    if (options.address_space_limit > 0) {
      const rlimit as{options.address_space_limit, options.address_space_limit};
      if (::setrlimit(RLIMIT_AS, &as) != 0) ::_exit(125);
    }
    if (options.process_limit > 0) {
      const rlimit nproc{options.process_limit, options.process_limit};
      if (::setrlimit(RLIMIT_NPROC, &nproc) != 0) ::_exit(125);
    }
    if (options.user) {
      const unsigned id = *options.user;
      if (::setgroups(0, nullptr) != 0 || ::setresgid(id, id, id) != 0 ||
          ::setresuid(id, id, id) != 0) {
        ::_exit(125);
      }
    }
    ::environ = envp.data();
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  // Feed stdin (small inputs only) and close it.
  if (!options.stdin_data.empty()) {
    (void)!::write(in_pipe[1], options.stdin_data.data(), options.stdin_data.size());
  }
  ::close(in_pipe[1]);
  return CollectUntilExit(pid, out_pipe[0], err_pipe[0], options.timeout_seconds);
}

RunResult RunVelin(const std::vector<std::string>& args, const RunOptions& options) {
  std::vector<std::string> argv{VelinBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, options);
}

}  // namespace velin::testing
