#include "velin/core/process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>

#include "velin/core/i18n.hpp"
#include "velin/core/url_password.hpp"

extern char** environ;

namespace velin {
namespace {

void CloseFd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

// The open-file limit velin started with, while RaiseOpenFileLimit has raised it: children
// get it back between fork and exec.
std::atomic<bool> g_files_raised{false};
rlimit g_started_files{};

std::mutex& SecretsMutex() {
  static std::mutex m;
  return m;
}

std::set<std::string, std::less<>>& RegisteredSecrets() {
  static std::set<std::string, std::less<>> names;
  return names;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// What every child may see: where programs are, who and where it is, language and time zone.
bool IsBaseVariable(std::string_view name) {
  static constexpr std::string_view kBase[] = {"PATH",  "HOME",     "USER",  "LOGNAME",
                                               "SHELL", "LANG",     "TZ",    "TMPDIR",
                                               "TERM",  "LANGUAGE", "LC_ALL"};
  for (std::string_view b : kBase) {
    if (name == b) return true;
  }
  return StartsWith(name, "LC_");
}

std::string_view NameOf(std::string_view entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

void RegisterSecretEnvironmentVariable(const std::string& name) {
  if (name.empty()) return;
  std::lock_guard lock(SecretsMutex());
  RegisteredSecrets().insert(name);
}

bool IsSecretEnvironmentVariable(std::string_view name) {
  // The database clients' own password variables too: velin's connection uses them when no
  // password_env is configured (docs/databases.md), and its tools get them on purpose.
  static constexpr std::string_view kAlways[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                 "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                                                 "PGPASSWORD",        "MYSQL_PWD"};
  for (std::string_view a : kAlways) {
    if (name == a) return true;
  }
  if (StartsWith(name, "VELIN_") && !EndsWith(name, "_PASSWORD_ENV") &&
      !EndsWith(name, "_PASSWORD_FILE")) {
    for (std::string_view word : {"PASSWORD", "PASSPHRASE", "SECRET", "TOKEN"}) {
      if (name.find(word) != std::string_view::npos) return true;
    }
  }
  std::lock_guard lock(SecretsMutex());
  return RegisteredSecrets().find(name) != RegisteredSecrets().end();
}

void KeepStandardDescriptorsOpen() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    // The lowest free number: `fd` itself, since the ones below it are open by now.
    const int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd < 0) return;  // no /dev/null (a bare chroot): nothing better to put there
    if (null_fd != fd) {
      ::dup2(null_fd, fd);
      ::close(null_fd);
    }
  }
}

void RaiseOpenFileLimit() {
  static constexpr rlim_t kMost = 65536;
  rlimit lim{};
  if (g_files_raised.load() || ::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const rlim_t want = std::min(lim.rlim_max, kMost);
  if (lim.rlim_cur >= want) return;
  const rlimit started = lim;
  lim.rlim_cur = want;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return;  // as it was: the restore keeps within it
  g_started_files = started;
  g_files_raised.store(true);
}

void RestoreOpenFileLimit() {
  if (!g_files_raised.exchange(false)) return;
  ::setrlimit(RLIMIT_NOFILE, &g_started_files);
}

size_t OpenFileLimit() {
  static constexpr rlim_t kUnlimited = rlim_t{1} << 20;
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return kUnlimited;
  return static_cast<size_t>(std::min(lim.rlim_cur, kUnlimited));
}

std::vector<std::string> ChildEnvironment(const ProcessOptions& options) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = NameOf(entry);
    if (IsSecretEnvironmentVariable(name)) continue;
    bool replaced = false;
    for (const auto& [key, value] : options.extra_env) replaced = replaced || name == key;
    if (replaced) continue;
    if (options.env == ChildEnv::kMinimal && !IsBaseVariable(name)) {
      bool wanted = false;
      for (const std::string& prefix : options.pass_env_prefixes) {
        wanted = wanted || StartsWith(name, prefix);
      }
      if (!wanted) continue;
    }
    env.emplace_back(entry);
  }
  // velin's own tools speak English whatever the user's language (gettext reads LANGUAGE
  // first and finds no English catalogue): their errors are read by velin (DescribeToolFailure
  // looks for the line that says "error"; a German "Fehler:" line was passed over for the last
  // line, "Läuft der Server auf diesem Host ...?"). The server's own words keep its language.
  if (options.env == ChildEnv::kMinimal) {
    bool set = false;
    for (const auto& [key, value] : options.extra_env) set = set || key == "LANGUAGE";
    std::erase_if(env, [](const std::string& e) { return NameOf(e) == "LANGUAGE"; });
    if (!set) env.emplace_back("LANGUAGE=en");
  }
  for (const auto& [key, value] : options.extra_env) env.push_back(key + "=" + value);
  return env;
}

namespace {

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Sets FD_CLOEXEC on every descriptor from 3 up. Runs between fork and exec: system calls
// only, no allocation. close_range(CLOSE_RANGE_CLOEXEC) since Linux 5.11; before, the open
// descriptors as /proc/self/fd lists them, read with getdents64.
void MarkCloseOnExecFrom3() {
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  const int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return;
  alignas(8) char buffer[4096];
  for (;;) {
    const long n = ::syscall(SYS_getdents64, dir, buffer, sizeof buffer);
    if (n <= 0) break;
    for (long at = 0; at < n;) {
      struct Entry {
        uint64_t ino;
        int64_t off;
        unsigned short reclen;
        unsigned char type;
        char name[1];
      };
      const auto* e = reinterpret_cast<const Entry*>(buffer + at);
      int fd = 0;
      bool number = e->name[0] != '\0';
      for (const char* c = e->name; *c != '\0'; ++c) {
        if (*c < '0' || *c > '9') number = false;
        fd = fd * 10 + (*c - '0');
      }
      if (number && fd >= 3 && fd != dir) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      at += e->reclen;
    }
  }
  ::close(dir);
}

}  // namespace

Result<Subprocess> Subprocess::Start(const ProcessOptions& options) {
  if (options.argv.empty())
    return Failure(std::string(Tr("cannot start a process without a program name")));
  std::vector<std::string> argv_strings = options.argv;
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<std::string> env_strings = ChildEnvironment(options);
  std::vector<char*> envp = CStrings(env_strings);

  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  int exec_pipe[2] = {-1, -1};  // reports an exec failure's errno back to the parent
  int gate_pipe[2] = {-1, -1};  // on_started: a byte lets the child go on, EOF ends it
  auto close_all = [&] {
    for (int* p : {in_pipe, out_pipe, err_pipe, exec_pipe, gate_pipe}) {
      CloseFd(p[0]);
      CloseFd(p[1]);
    }
  };
  if ((options.stdin_mode == Stdio::kPipe && ::pipe2(in_pipe, O_CLOEXEC) != 0) ||
      (options.stdout_mode == Stdio::kPipe && ::pipe2(out_pipe, O_CLOEXEC) != 0) ||
      (options.stderr_mode == Stdio::kPipe && !options.merge_stderr_into_stdout &&
       ::pipe2(err_pipe, O_CLOEXEC) != 0) ||
      ::pipe2(exec_pipe, O_CLOEXEC) != 0 ||
      (options.on_started && ::pipe2(gate_pipe, O_CLOEXEC) != 0)) {
    int err = errno;
    close_all();
    return ErrnoError(TrFormat("cannot create a pipe for {}", options.argv[0]), err);
  }

  const pid_t velin_pid = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    close_all();
    return ErrnoError(TrFormat("cannot start {}", options.argv[0]), err);
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    // Not counted by gcov (exec and _exit discard the child's counters), so left out of the
    // coverage figure; Process.* tests check what it does (fds, cwd, environment, signals).
    // GCOVR_EXCL_START
    if (options.new_session) {
      ::setsid();
    } else if (options.new_process_group) {
      ::setpgid(0, 0);
    }
    if (options.die_with_velin) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != velin_pid) ::_exit(127);  // velin died before that: nobody waits
    }
    if (gate_pipe[0] >= 0) {
      // Not before velin has recorded this child: its write end closed here, an end of file
      // means velin died (or on_started failed) first, and the program must not run.
      ::close(gate_pipe[1]);
      char go = 0;
      ssize_t got;
      do {
        got = ::read(gate_pipe[0], &go, 1);
      } while (got < 0 && errno == EINTR);
      if (got != 1) ::_exit(127);
    }
    auto redirect = [](int fd, int target) {
      if (fd >= 0 && fd != target) ::dup2(fd, target);
    };
    auto null_fd = [] { return ::open("/dev/null", O_RDWR); };
    if (options.stdin_mode == Stdio::kPipe) redirect(in_pipe[0], 0);
    if (options.stdin_mode == Stdio::kNull) redirect(null_fd(), 0);
    if (options.stdout_mode == Stdio::kPipe) redirect(out_pipe[1], 1);
    if (options.stdout_mode == Stdio::kNull) redirect(null_fd(), 1);
    if (options.merge_stderr_into_stdout) {
      ::dup2(1, 2);
    } else {
      if (options.stderr_mode == Stdio::kPipe) redirect(err_pipe[1], 2);
      if (options.stderr_mode == Stdio::kNull) redirect(null_fd(), 2);
    }
    // Nothing else of velin's reaches the child: a descriptor opened without O_CLOEXEC (spdlog's
    // log file, the MariaDB client's logged-in socket) would stay open in a dump tool or in a
    // daemon a hook starts, past log rotation and with velin's database session. Marked
    // close-on-exec rather than closed: exec_pipe must stay open until the exec.
    MarkCloseOnExecFrom3();
    // The pipes velin hands the child on purpose (a MariaDB option file as /dev/fd/N).
    for (int fd : options.pass_fds) ::fcntl(fd, F_SETFD, 0);
    // Signals ignored by velin must not stay ignored in the child, nor its raised limit.
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGXFSZ, SIG_DFL);
    if (g_files_raised.load(std::memory_order_relaxed)) {
      ::setrlimit(RLIMIT_NOFILE, &g_started_files);
    }
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
      int err = -errno;  // negative: the directory failed, not the program
      (void)!::write(exec_pipe[1], &err, sizeof err);
      ::_exit(127);
    }
    ::environ = envp.data();
    ::execvp(argv[0], argv.data());
    int err = errno;
    (void)!::write(exec_pipe[1], &err, sizeof err);
    ::_exit(127);
    // GCOVR_EXCL_STOP
  }

  // Parent.
  CloseFd(exec_pipe[1]);
  if (options.on_started) {
    CloseFd(gate_pipe[0]);
    // The child may not have made its process group yet: made here too, so that a kill of
    // the group the caller records reaches it (setpgid from both sides, as shells do).
    if (options.new_process_group && !options.new_session) ::setpgid(pid, pid);
    Status recorded = options.on_started(pid);
    if (recorded) {
      const char go = 1;
      (void)!::write(gate_pipe[1], &go, 1);
    }
    CloseFd(gate_pipe[1]);  // without the byte: the child ends without running the program
    if (!recorded) {
      CloseFd(exec_pipe[0]);
      CloseFd(in_pipe[1]);
      CloseFd(out_pipe[0]);
      CloseFd(err_pipe[0]);
      CloseFd(in_pipe[0]);
      CloseFd(out_pipe[1]);
      CloseFd(err_pipe[1]);
      int status;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return tl::unexpected(recorded.error());
    }
  }
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  CloseFd(exec_pipe[0]);
  CloseFd(in_pipe[0]);
  CloseFd(out_pipe[1]);
  CloseFd(err_pipe[1]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    CloseFd(in_pipe[1]);
    CloseFd(out_pipe[0]);
    CloseFd(err_pipe[0]);
    if (child_errno < 0) {
      return ErrnoError(TrFormat("cannot run '{}' in {}", options.argv[0], options.cwd),
                        -child_errno);
    }
    return ErrnoError(TrFormat("cannot run '{}'", options.argv[0]), child_errno);
  }
  Subprocess p;
  p.pid_ = pid;
  p.own_group_ = options.new_process_group || options.new_session;
  p.stdin_fd_ = in_pipe[1];
  p.stdout_fd_ = out_pipe[0];
  p.stderr_fd_ = err_pipe[0];
  return p;
}

Subprocess::Subprocess(Subprocess&& other) noexcept { *this = std::move(other); }

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    CloseStdin();
    CloseStdout();
    CloseStderr();
    pid_ = std::exchange(other.pid_, -1);
    own_group_ = other.own_group_;
    stdin_fd_ = std::exchange(other.stdin_fd_, -1);
    stdout_fd_ = std::exchange(other.stdout_fd_, -1);
    stderr_fd_ = std::exchange(other.stderr_fd_, -1);
  }
  return *this;
}

Subprocess::~Subprocess() {
  CloseStdin();
  CloseStdout();
  CloseStderr();
}

void Subprocess::CloseStdin() { CloseFd(stdin_fd_); }
void Subprocess::CloseStdout() { CloseFd(stdout_fd_); }
void Subprocess::CloseStderr() { CloseFd(stderr_fd_); }

Result<int> Subprocess::Wait() {
  if (pid_ < 0) return Failure(std::string(Tr("no process to wait for")));
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR)
      return ErrnoError(TrFormat("waiting for process {}", std::to_string(pid_)), errno);
  }
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  // Without WUNTRACED, waitpid reports an exit or a death by signal, nothing else.
  return 128 + WTERMSIG(status);
}

void Subprocess::Kill(int sig) {
  if (pid_ < 0) return;
  if (own_group_) {
    ::kill(-pid_, sig);
  } else {
    ::kill(pid_, sig);
  }
}

namespace {

// A child's output kept within a bound: the first kHead bytes and the last kTail, what lies
// between counted and left out (1 MiB in all, as when only the first MiB was kept). The tail
// matters as much as the head: a failing hook or tool says why in its last line, after any
// amount of chatter.
class BoundedOutput {
 public:
  static constexpr size_t kHead = 960 << 10;
  static constexpr size_t kTail = 64 << 10;

  void Append(const char* data, size_t n) {
    const size_t to_head = std::min(n, kHead - std::min(kHead, head_.size()));
    head_.append(data, to_head);
    tail_.append(data + to_head, n - to_head);
    if (tail_.size() > 2 * kTail) {  // trimmed now and then, not at every read
      const size_t drop = tail_.size() - kTail;
      tail_.erase(0, drop);
      left_out_ += drop;
    }
  }

  // The head up to its last whole line, a line saying how much was left out, and the tail from
  // its first whole line: no line is shown cut in two.
  std::string Take() {
    if (tail_.size() > kTail) {
      left_out_ += tail_.size() - kTail;
      tail_.erase(0, tail_.size() - kTail);
    }
    if (left_out_ > 0) {
      if (const size_t nl = head_.rfind('\n'); nl != std::string::npos && nl + 1 < head_.size()) {
        left_out_ += head_.size() - (nl + 1);
        head_.resize(nl + 1);
      }
      if (const size_t nl = tail_.find('\n'); nl != std::string::npos && nl + 1 < tail_.size()) {
        left_out_ += nl + 1;
        tail_.erase(0, nl + 1);
      }
      head_ += (head_.empty() || head_.back() == '\n' ? "" : "\n") +
               TrFormat("[{} bytes of output left out]", std::to_string(left_out_)) + "\n";
    }
    return head_ + tail_;
  }

 private:
  std::string head_;
  std::string tail_;
  uint64_t left_out_ = 0;
};

// Whether the child (not reaped: WNOWAIT leaves that to Wait) has ended.
bool LeaderExited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

// A descriptor that polls readable once `pid` has ended (pidfd, Linux 5.3), or -1 without one:
// then the next poll slice notices the end instead.
int OpenEndedFd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // close-on-exec already
#else
  (void)pid;
  return -1;
#endif
}

// Reads the child's stdout (and stderr, when piped apart) until the child has ended and both
// pipes are closed, or `timeout` passes (0 = none); then kills its process group, and reaps it.
// A command is done when the child itself has ended, even while the pipes stay open: a `start`
// that launches a daemon (`./server &`, `setsid app &`) hands it the pipes' write ends, and
// waiting for their end made a started service a start that "did not finish within"
// start_timeout, and the switch went back. Once the child has ended, what is in the pipes is
// read until they are quiet for kQuietAfterExit (at most kDrainAfterExit), and the rest left to
// the daemon. Nor is it done when its pipes close before it ends: a hook that sends its output
// elsewhere (`exec >log 2>&1; ...`) is still timed, and killed at its timeout.
Result<CommandResult> CaptureUntilExit(Subprocess child, Duration timeout) {
  constexpr auto kPollSlice = std::chrono::milliseconds(50);
  constexpr auto kQuietAfterExit = std::chrono::milliseconds(100);
  constexpr auto kDrainAfterExit = std::chrono::milliseconds(1000);
  CommandResult result;
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  std::optional<Clock::time_point> exited_at;
  char buf[4096];
  BoundedOutput out[2];  // stdout (or both, merged), stderr
  bool killed = false;
  const int ended_fd = OpenEndedFd(child.pid());
  for (;;) {
    const bool reading = child.stdout_fd() >= 0 || child.stderr_fd() >= 0;
    const auto now = Clock::now();
    if (!exited_at && LeaderExited(child.pid())) exited_at = now;
    if (exited_at && (!reading || now - *exited_at >= kDrainAfterExit)) break;
    auto slice = exited_at ? kQuietAfterExit : kPollSlice;
    if (timeout.count() > 0 && !exited_at) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
      if (left.count() <= 0) {  // timed out: the whole process group goes
        result.timed_out = true;
        child.Kill(SIGTERM);
        killed = true;
        break;
      }
      slice = std::min(slice, left);
    }
    // A negative fd is ignored: with both pipes closed, this waits for the child to end.
    pollfd pfds[3] = {{child.stdout_fd(), POLLIN, 0},
                      {child.stderr_fd(), POLLIN, 0},
                      {exited_at ? -1 : ended_fd, POLLIN, 0}};
    int r = ::poll(pfds, 3, static_cast<int>(slice.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      if (exited_at) break;  // ended, and nothing more came: the rest is a daemon's
      continue;
    }
    for (int i = 0; i < 2; ++i) {
      if (pfds[i].fd < 0 || pfds[i].revents == 0) continue;
      ssize_t n = ::read(pfds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        i == 0 ? child.CloseStdout() : child.CloseStderr();
      } else {
        out[i].Append(buf, static_cast<size_t>(n));
      }
    }
  }
  if (ended_fd >= 0) ::close(ended_fd);
  child.CloseStdout();
  child.CloseStderr();
  result.output = out[0].Take();
  result.error_output = out[1].Take();
  if (killed) {
    // Give it a moment to stop, then insist on the whole group: a member that ignores SIGTERM
    // must not outlive the timeout. The leader is not reaped before that (WNOWAIT), so its
    // pid, the group's id, cannot have been reused.
    for (int i = 0; i < 20; ++i) {
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(child.pid()), &info, WEXITED | WNOHANG | WNOWAIT) ==
              0 &&
          info.si_pid == child.pid()) {
        break;
      }
      ::usleep(50'000);
    }
    child.Kill(SIGKILL);
  }
  VELIN_ASSIGN(result.exit_code, child.Wait());
  return result;
}

}  // namespace

Result<CommandResult> RunCommand(ProcessOptions options, Duration timeout) {
  options.stdout_mode = Stdio::kPipe;
  options.merge_stderr_into_stdout = true;
  VELIN_ASSIGN(Subprocess child, Subprocess::Start(options));
  return CaptureUntilExit(std::move(child), timeout);
}

Result<CommandResult> RunCommandSplit(ProcessOptions options, Duration timeout) {
  options.stdout_mode = Stdio::kPipe;
  options.stderr_mode = Stdio::kPipe;
  options.merge_stderr_into_stdout = false;
  VELIN_ASSIGN(Subprocess child, Subprocess::Start(options));
  return CaptureUntilExit(std::move(child), timeout);
}

Result<CommandResult> RunShellCommand(const std::string& command, Duration timeout,
                                      const std::string& cwd,
                                      std::vector<std::pair<std::string, std::string>> extra_env) {
  ProcessOptions options;
  options.argv = {"/bin/sh", "-c", command};
  options.cwd = cwd;
  options.extra_env = std::move(extra_env);
  return RunCommand(std::move(options), timeout);
}

std::string DescribeExit(int exit_code) {
  if (exit_code > 128 && exit_code < 128 + 65) {
    int sig = exit_code - 128;
    const char* name = sigabbrev_np(sig);
    if (name == nullptr) return TrFormat("killed by signal {}", sig);
    return TrFormat("killed by signal {} (SIG{})", sig, name);
  }
  return TrFormat("exit code {}", exit_code);
}

void LogCommandOutput(std::string_view key, std::string_view output) {
  while (!output.empty()) {
    const size_t nl = output.find('\n');
    std::string_view line = output.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) spdlog::info("{}: {}", key, MaskUrlPasswords(line));
    if (nl == std::string_view::npos) break;
    output.remove_prefix(nl + 1);
  }
}

std::string LastLine(std::string_view output) {
  constexpr std::string_view kBlank = " \t\r\n";
  const size_t end = output.find_last_not_of(kBlank);
  if (end == std::string_view::npos) return "";
  const size_t nl = output.rfind('\n', end);
  std::string_view line = output.substr(nl == std::string_view::npos ? 0 : nl + 1);
  line = line.substr(0, line.find_last_not_of(kBlank) + 1);
  return std::string(line.substr(std::min(line.find_first_not_of(kBlank), line.size())));
}

}  // namespace velin
