#include "tool.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <utility>

#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/io/env.hpp"

namespace velin::db::internal {
namespace {

constexpr size_t kPipeRead = 1 << 20;
// The size asked for the pipe from a dump tool and for the one into a restore tool.
constexpr int kToolPipeSize = 1 << 20;
// 1 ms of a dump tool writing 200-500 MB/s is well within the 1 MiB pipe.
constexpr std::chrono::microseconds kCatchUpPause{1000};
constexpr size_t kKeepMessages = 16 << 10;
// The stdio buffers a database tool gets through stdbuf (WithLargeStdioBuffer): the pipe's size.
constexpr const char* kToolStdoutBuffer = "-o1M";
constexpr const char* kToolStdinBuffer = "-i1M";

bool IsExecutable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

void KeepTail(std::string& messages, const char* data, size_t n) {
  messages.append(data, n);
  if (messages.size() > 2 * kKeepMessages) messages.erase(0, messages.size() - kKeepMessages);
}

// write() that turns a closed pipe into EPIPE without letting SIGPIPE kill the process, even
// in programs (tests) that do not ignore SIGPIPE.
ssize_t WriteWithoutSigpipe(int fd, const char* data, size_t n) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t r = ::write(fd, data, n);
  int err = errno;
  if (r < 0 && err == EPIPE && !was_pending) {
    timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = err;
  return r;
}

// Reads what is available on `fd` into `messages`; false at end of stream.
bool DrainInto(int fd, std::string& messages) {
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  KeepTail(messages, buf, static_cast<size_t>(n));
  return true;
}

Result<ChildOutcome> KillAndFail(Subprocess& child, const Error& error) {
  child.Kill(SIGKILL);
  child.CloseStdin();
  child.CloseStdout();
  child.CloseStderr();
  (void)child.Wait();
  return tl::unexpected(error);
}

// A stdbuf that cannot run a program (its libstdbuf.so missing from a stripped-down coreutils)
// exits 125 before the tool starts: every dump and restore would fail for the sake of speed.
// So each stdbuf found is tried once per process, on itself (`stdbuf -o1M -i1M stdbuf
// --version`: ~8 ms here, where starting /bin/true takes 3.4 ms), and left out if it fails.
bool StdbufRuns(const std::string& stdbuf) {
  static std::mutex mutex;
  static std::map<std::string, bool> tried;
  std::lock_guard lock(mutex);
  auto known = tried.find(stdbuf);
  if (known != tried.end()) return known->second;
  ProcessOptions probe;
  probe.env = ChildEnv::kMinimal;
  probe.argv = {stdbuf, kToolStdoutBuffer, kToolStdinBuffer, stdbuf, "--version"};
  Result<CommandResult> r = RunCommand(probe, Duration(30'000));
  const bool runs = r && r->exit_code == 0 && !r->timed_out;
  tried.emplace(stdbuf, runs);
  return runs;
}

// pg_dump and mariadb-dump write their output through stdio, which on a pipe buffers one page
// (the pipe's st_blksize): a 500 MB dump is 125,000 write() calls (`dump | cat`: 1.3-1.8 s of
// system time; docs/databases.md, "2026-12-02 night"), and pg_restore reads a dump 4 KiB a
// read() the same way. coreutils' stdbuf gives the tool's stdout (`-o1M`) or stdin (`-i1M`) a
// 1 MiB buffer instead (it preloads libstdbuf.so and execs the tool, so the tool keeps the
// process, its arguments, its exit status and its inherited descriptors). A tool that does
// not use stdio there (the mariadb client reads its input itself) is unaffected. Without
// stdbuf in PATH, or with one that does not run (StdbufRuns), the tool runs as it is: the
// data is the same, only slower.
void WithLargeStdioBuffer(ProcessOptions& options, const char* which) {
  Result<std::string> stdbuf = FindTool({"stdbuf"}, "", "coreutils");
  if (!stdbuf || !StdbufRuns(*stdbuf)) return;
  options.argv.insert(options.argv.begin(), {*stdbuf, which});
}

}  // namespace

Result<std::string> FindTool(const std::vector<std::string>& names, const std::string& tool_dir,
                             const std::string& package_hint) {
  std::vector<std::string> dirs;
  if (!tool_dir.empty()) dirs.push_back(tool_dir);
  const std::string path = GetEnvironment("PATH").value_or("/usr/local/bin:/usr/bin:/bin");
  std::string_view rest = path;
  while (!rest.empty()) {
    size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (!dir.empty()) dirs.push_back(dir);
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  for (const std::string& name : names) {
    for (const std::string& dir : dirs) {
      std::string candidate = io::JoinPath(dir, name);
      if (IsExecutable(candidate)) return candidate;
    }
  }
  std::string what = names.front();
  for (size_t i = 1; i < names.size(); ++i) what += " or " + names[i];
  if (tool_dir.empty())
    return Failure(TrFormat("{} not found in PATH (install {})", what, package_hint));
  return Failure(TrFormat("{} not found in {} or PATH (install {})", what, tool_dir, package_hint));
}

Result<std::string> ToolVersionLine(const std::string& tool) {
  ProcessOptions options;
  options.env = ChildEnv::kMinimal;
  options.argv = {tool, "--version"};
  VELIN_ASSIGN(CommandResult r, RunCommand(options, Duration(30'000)));
  if (r.exit_code != 0) {
    return Failure(TrFormat("'{} --version' failed ({})", tool, DescribeExit(r.exit_code)));
  }
  std::string line = r.output.substr(0, r.output.find('\n'));
  return line;
}

Result<ChildOutcome> StreamToolOutput(ProcessOptions options, const ByteSink& sink) {
  options.env = ChildEnv::kMinimal;
  options.die_with_velin = true;  // waited for below, on this thread
  options.stdin_mode = Stdio::kNull;
  options.stdout_mode = Stdio::kPipe;
  options.stderr_mode = Stdio::kPipe;
  options.merge_stderr_into_stdout = false;
  WithLargeStdioBuffer(options, kToolStdoutBuffer);
  VELIN_ASSIGN(Subprocess child, Subprocess::Start(options));
  // A 1 MiB pipe lets the dump tool run ahead while the sink hashes and chunks (best effort:
  // the kernel may cap it at /proc/sys/fs/pipe-max-size).
  (void)::fcntl(child.stdout_fd(), F_SETPIPE_SZ, kToolPipeSize);
  ChildOutcome outcome;
  std::string buf(kPipeRead, '\0');
  while (child.stdout_fd() >= 0 || child.stderr_fd() >= 0) {
    // A backup asked to stop (core/termination.hpp): the signal ended poll with EINTR, even
    // while the dump tool was silent (waiting for a lock).
    if (Interrupted()) return KillAndFail(child, CheckInterrupted().error());
    pollfd fds[2] = {{child.stdout_fd(), POLLIN, 0}, {child.stderr_fd(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return KillAndFail(child, ErrnoError(std::string(Tr("poll")), errno).value());
    }
    if (fds[1].revents != 0 && !DrainInto(child.stderr_fd(), outcome.messages)) {
      child.CloseStderr();
    }
    if (fds[0].revents == 0) continue;
    ssize_t n = ::read(child.stdout_fd(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return KillAndFail(child, ErrnoError(std::string(Tr("reading the dump")), errno).value());
    if (n == 0) {
      child.CloseStdout();
      continue;
    }
    Status s = sink(std::string_view(buf.data(), static_cast<size_t>(n)));
    if (!s) return KillAndFail(child, s.error());
    // Caught up with the dump tool: let the pipe fill a while instead of waking on every
    // write. Each wake-up costs both processes CPU, and on a machine the dump tool and the
    // database server already keep busy that CPU is the backup's time.
    // The pause paces a real child process, so it is the process's Env that waits.
    if (static_cast<size_t>(n) < kPipeRead / 8) io::Env::Default().SleepFor(kCatchUpPause);
  }
  VELIN_ASSIGN(outcome.exit_code, child.Wait());
  return outcome;
}

Result<ChildOutcome> FeedToolInput(ProcessOptions options, const ByteProducer& produce,
                                   const std::function<Status()>& idle) {
  const int timeout = idle ? kToolIdleCheckMs : -1;
  options.env = ChildEnv::kMinimal;
  options.die_with_velin = true;  // waited for below, on this thread
  options.stdin_mode = Stdio::kPipe;
  options.stdout_mode = Stdio::kPipe;
  options.merge_stderr_into_stdout = true;
  WithLargeStdioBuffer(options, kToolStdinBuffer);
  VELIN_ASSIGN(Subprocess child, Subprocess::Start(options));
  ::fcntl(child.stdin_fd(), F_SETFL, ::fcntl(child.stdin_fd(), F_GETFL) | O_NONBLOCK);
  // As for a dump's pipe: 1 MiB, so that the tool's 1 MiB reads find that much (best effort).
  // It helps a tool that reads 4 KiB at a time too: the mariadb client's restore takes ~5 %
  // less time and 0.7 s less system time per 513 MB (docs/databases.md, "2026-12-03").
  (void)::fcntl(child.stdin_fd(), F_SETPIPE_SZ, kToolPipeSize);
  ChildOutcome outcome;
  bool gone = false;  // the tool closed its stdin: it failed, its exit status will say why
  auto sink = [&](std::string_view data) -> Status {
    while (!data.empty() && !gone) {
      // A restore asked to stop (core/termination.hpp; the signal ended poll with EINTR, also
      // while the tool did not read): the tool is killed and rolls back.
      VELIN_TRY(CheckInterrupted());
      pollfd fds[2] = {{child.stdin_fd(), POLLOUT, 0}, {child.stdout_fd(), POLLIN, 0}};
      const int ready = ::poll(fds, 2, timeout);
      if (ready < 0) {
        if (errno == EINTR) continue;
        return ErrnoError(std::string(Tr("poll")), errno);
      }
      if (ready == 0) {
        VELIN_TRY(idle());
        continue;
      }
      if (fds[1].revents != 0 && !DrainInto(child.stdout_fd(), outcome.messages)) {
        child.CloseStdout();
      }
      if (fds[0].revents == 0) continue;
      ssize_t w = WriteWithoutSigpipe(child.stdin_fd(), data.data(), data.size());
      if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (w < 0) {
        gone = true;
        break;
      }
      data.remove_prefix(static_cast<size_t>(w));
    }
    if (gone)
      return Failure(TrFormat("{} stopped reading its input", io::Basename(options.argv[0])));
    return Ok();
  };
  Status produced = produce(sink);
  if (!produced && !gone) return KillAndFail(child, produced.error());
  child.CloseStdin();
  // The whole input is with the tool, which may still work (or wait for a lock) a long time: a
  // request to stop kills it now (a PostgreSQL restore then commits nothing; a MariaDB
  // restore holds the signals instead, so this never stops its client: its `idle` does, when
  // the client waits for a lock).
  while (child.stdout_fd() >= 0) {
    if (Interrupted()) return KillAndFail(child, CheckInterrupted().error());
    pollfd fd{child.stdout_fd(), POLLIN, 0};
    const int ready = ::poll(&fd, 1, timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;  // a signal: checked above (a read now would block)
      break;
    }
    if (ready == 0) {
      if (Status s = idle(); !s) return KillAndFail(child, s.error());
      continue;
    }
    if (!DrainInto(child.stdout_fd(), outcome.messages)) child.CloseStdout();
  }
  VELIN_ASSIGN(outcome.exit_code, child.Wait());
  if (gone && outcome.exit_code == 0) outcome.exit_code = 1;
  return outcome;
}

namespace {

// FeedToolPipeline's two children and what waits to go from the first to the second.
class Pipeline {
 public:
  Pipeline(Subprocess first, Subprocess second, const std::function<Status()>& idle)
      : first_(std::move(first)), second_(std::move(second)), idle_(idle) {}

  // Moves what can move now (waiting until something can): `input` to the first tool's stdin
  // (advanced by what was written), its stdout to the second's stdin, both tools' messages
  // here. False when there is nothing left to wait for.
  Result<bool> Step(std::string_view* input) {
    pollfd fds[5];
    int n = 0, in = -1, out = -1, err = -1, next_in = -1, next_out = -1;
    auto watch = [&](int fd, short events, int& index) {
      if (fd < 0) return;
      index = n;
      fds[n++] = {fd, events, 0};
    };
    if (input != nullptr && !input->empty()) watch(first_.stdin_fd(), POLLOUT, in);
    if (Pending() < kPipeRead) watch(first_.stdout_fd(), POLLIN, out);
    watch(first_.stderr_fd(), POLLIN, err);
    if (Pending() > 0) watch(second_.stdin_fd(), POLLOUT, next_in);
    watch(second_.stdout_fd(), POLLIN, next_out);
    if (n == 0) return false;
    const int polled = ::poll(fds, static_cast<nfds_t>(n), idle_ ? kToolIdleCheckMs : -1);
    if (polled < 0) {
      if (errno == EINTR) return true;  // the caller checks for a signal
      return tl::unexpected(ErrnoError(std::string(Tr("poll")), errno).value());
    }
    if (polled == 0) {
      VELIN_TRY(idle_());
      return true;
    }
    auto ready = [&](int index) { return index >= 0 && fds[index].revents != 0; };
    if (ready(err) && !DrainInto(first_.stderr_fd(), outcome_.first.messages)) {
      first_.CloseStderr();
    }
    if (ready(next_out) && !DrainInto(second_.stdout_fd(), outcome_.second.messages)) {
      second_.CloseStdout();
    }
    if (ready(out)) {
      char buf[1 << 16];
      ssize_t got = ::read(first_.stdout_fd(), buf, sizeof buf);
      if (got == 0) {
        first_.CloseStdout();
      } else if (got > 0) {
        if (!second_gone_) Hold(std::string_view(buf, static_cast<size_t>(got)));
      } else if (errno != EINTR && errno != EAGAIN) {
        return tl::unexpected(ErrnoError(std::string(Tr("reading the dump")), errno).value());
      }
    }
    if (ready(next_in)) {
      ssize_t w = WriteWithoutSigpipe(second_.stdin_fd(), pending_.data() + sent_, Pending());
      if (w > 0) sent_ += static_cast<size_t>(w);
      if (w < 0 && errno != EINTR && errno != EAGAIN) StopSecond();
      // What was sent goes, so that the buffer stays about kPipeRead whatever the stream.
      if (sent_ == pending_.size() || sent_ >= kPipeRead) {
        pending_.erase(0, sent_);
        sent_ = 0;
      }
    }
    if (ready(in)) {
      ssize_t w = WriteWithoutSigpipe(first_.stdin_fd(), input->data(), input->size());
      if (w > 0) input->remove_prefix(static_cast<size_t>(w));
      if (w < 0 && errno != EINTR && errno != EAGAIN) first_gone_ = true;
    }
    return true;
  }

  // Keeps back the last kStripWindow bytes of the first tool's output when a line is to be
  // left out of its end (`strip_last`); sends the rest.
  void StripLast(std::string line) { strip_ = std::move(line); }
  void Hold(std::string_view text) {
    if (strip_.empty()) return Send(text);
    held_.append(text);
    if (held_.size() > 2 * kStripWindow) {
      Send(std::string_view(held_).substr(0, held_.size() - kStripWindow));
      held_.erase(0, held_.size() - kStripWindow);
    }
  }
  // At the end of a whole stream: what was kept back, without the line `strip_last`. False when
  // it is not there (nothing is sent then).
  bool SendHeld() {
    if (strip_.empty()) return true;
    const std::string line = strip_ + "\n";
    size_t at = held_.rfind("\n" + line);
    if (at != std::string::npos) {
      ++at;
    } else if (held_.starts_with(line)) {
      at = 0;
    } else {
      return false;
    }
    held_.erase(at, line.size());
    Send(held_);
    held_.clear();
    return true;
  }
  // Sends `text` to the second tool after what waits already.
  void Send(std::string_view text) {
    if (second_gone_) return;  // nobody reads
    pending_.append(text);
    lines_ += static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
  }
  uint64_t Lines() const { return lines_; }

  size_t Pending() const { return pending_.size() - sent_; }
  bool Stopped() const { return first_gone_ || second_gone_; }
  bool FirstOutputOpen() const { return first_.stdout_fd() >= 0 || first_.stderr_fd() >= 0; }
  bool SecondOutputOpen() const { return second_.stdout_fd() >= 0; }
  bool SecondGone() const { return second_gone_; }
  Subprocess& first() { return first_; }
  Subprocess& second() { return second_; }
  PipelineOutcome& outcome() { return outcome_; }

  Result<PipelineOutcome> KillBoth(const Error& error) {
    for (Subprocess* child : {&first_, &second_}) {
      child->Kill(SIGKILL);
      child->CloseStdin();
      child->CloseStdout();
      child->CloseStderr();
      (void)child->Wait();
    }
    return tl::unexpected(error);
  }

 private:
  // The second tool stopped reading (it failed): the first has nobody to write for.
  void StopSecond() {
    second_gone_ = true;
    second_.CloseStdin();
    pending_.clear();
    sent_ = 0;
    first_.Kill(SIGKILL);
  }

  Subprocess first_, second_;
  const std::function<Status()>& idle_;
  std::string pending_;  // for the second tool's stdin, from `sent_` on
  std::string strip_;    // the line to leave out of the first tool's output's end ("" none)
  std::string held_;     // the first tool's output's end, kept back while `strip_` is set
  size_t sent_ = 0;
  uint64_t lines_ = 0;        // the lines sent to the second tool
  bool first_gone_ = false;   // the first tool closed its stdin
  bool second_gone_ = false;  // the second tool closed its stdin
  PipelineOutcome outcome_;
};

}  // namespace

Result<PipelineOutcome> FeedToolPipeline(ProcessOptions first, ProcessOptions second,
                                         const std::string& head, const ByteProducer& produce,
                                         const std::string& tail,
                                         const std::function<Status()>& idle,
                                         const std::string& strip_last) {
  const std::string first_name = io::Basename(first.argv.front());  // before stdbuf wraps it
  first.env = second.env = ChildEnv::kMinimal;
  first.die_with_velin = second.die_with_velin = true;  // both waited for below, on this thread
  first.stdin_mode = first.stdout_mode = first.stderr_mode = Stdio::kPipe;
  first.merge_stderr_into_stdout = false;
  second.stdin_mode = second.stdout_mode = Stdio::kPipe;
  second.merge_stderr_into_stdout = true;
  WithLargeStdioBuffer(first, kToolStdinBuffer);
  VELIN_ASSIGN(Subprocess second_child, Subprocess::Start(second));
  Result<Subprocess> first_child = Subprocess::Start(first);
  if (!first_child) {
    second_child.Kill(SIGKILL);
    second_child.CloseStdin();
    second_child.CloseStdout();
    (void)second_child.Wait();
    return tl::unexpected(first_child.error());
  }
  Pipeline pipe(std::move(*first_child), std::move(second_child), idle);
  for (int fd : {pipe.first().stdin_fd(), pipe.second().stdin_fd()}) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    (void)::fcntl(fd, F_SETPIPE_SZ, kToolPipeSize);
  }
  pipe.Send(head);
  pipe.StripLast(strip_last);
  auto sink = [&](std::string_view data) -> Status {
    while (!data.empty() && !pipe.Stopped()) {
      VELIN_TRY(CheckInterrupted());
      VELIN_TRY(pipe.Step(&data));
    }
    if (pipe.Stopped()) return Failure("a restore tool stopped reading its input");
    return Ok();
  };
  Status produced = produce(sink);
  if (!produced && !pipe.Stopped()) return pipe.KillBoth(produced.error());
  // Moves data while `more` holds (and anything can move).
  auto pump = [&](auto more) -> Status {
    while (more()) {
      VELIN_TRY(CheckInterrupted());
      VELIN_ASSIGN(bool moved, pipe.Step(nullptr));
      if (!moved) break;
    }
    return Ok();
  };
  pipe.first().CloseStdin();
  // The rest of the first tool's output, then its exit status.
  Status pumped =
      pump([&] { return pipe.FirstOutputOpen() || (pipe.Pending() > 0 && !pipe.SecondGone()); });
  if (!pumped) return pipe.KillBoth(pumped.error());
  VELIN_ASSIGN(pipe.outcome().first.exit_code, pipe.first().Wait());
  // Only a whole stream gets the tail.
  if (pipe.outcome().first.exit_code == 0) {
    if (!pipe.SendHeld()) {
      return pipe.KillBoth(
          Failure(TrFormat("the output of {} did not end with its line '{}'; nothing was changed",
                           first_name, strip_last))
              .value());
    }
    pipe.outcome().lines_before_tail = pipe.Lines();
    pipe.Send(tail);
  }
  pumped = pump([&] { return pipe.Pending() > 0 && !pipe.SecondGone(); });
  if (!pumped) return pipe.KillBoth(pumped.error());
  pipe.second().CloseStdin();
  pumped = pump([&] { return pipe.SecondOutputOpen(); });
  if (!pumped) return pipe.KillBoth(pumped.error());
  VELIN_ASSIGN(pipe.outcome().second.exit_code, pipe.second().Wait());
  if (pipe.SecondGone() && pipe.outcome().second.exit_code == 0) {
    pipe.outcome().second.exit_code = 1;
  }
  return pipe.outcome();
}

std::string DescribeToolFailure(const std::string& tool, const ChildOutcome& outcome) {
  // The first line that reports an error says most; else the last line the tool wrote.
  // psql running a script names the line of each message ("psql:<stdin>:21: ERROR:  cannot
  // drop ...") and ON_ERROR_STOP ends it at its first error: the last such line is the error,
  // whatever language the server speaks (FEHLER, ERREUR).
  std::string base = io::Basename(tool);
  const std::string script_line = base + ":<stdin>:";
  std::string chosen, last, named;
  size_t pos = 0;
  const std::string& m = outcome.messages;
  while (pos < m.size()) {
    size_t end = m.find('\n', pos);
    if (end == std::string::npos) end = m.size();
    std::string line = m.substr(pos, end - pos);
    pos = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    last = line;
    if (line.rfind(script_line, 0) == 0) named = line;
    if (chosen.empty() &&
        (line.find("error") != std::string::npos || line.find("ERROR") != std::string::npos)) {
      chosen = line;
    }
  }
  if (!named.empty()) chosen = named;
  if (chosen.empty()) chosen = last;
  bool severity = false;  // a server's message: its severity word comes next
  if (chosen.rfind(script_line, 0) == 0) {
    size_t after_line = chosen.find(": ", script_line.size());
    if (after_line != std::string::npos) chosen.erase(0, after_line + 2);
    severity = true;
  }
  for (const std::string& prefix :
       {base + ": error: ", base + ": ", std::string("ERROR:  "), std::string("ERROR ")}) {
    if (chosen.rfind(prefix, 0) == 0) chosen.erase(0, prefix.size());
  }
  // "FEHLER:  Spalte …": the server's severity in its language, then two spaces.
  if (const size_t word = chosen.find(":  ");
      severity && word != std::string::npos && word > 0 && word <= 24 && chosen.find(' ') > word) {
    chosen.erase(0, word + 3);
  }
  if (chosen.empty()) return TrFormat("{} failed ({})", base, DescribeExit(outcome.exit_code));
  return TrFormat("{} failed ({}): {}", base, DescribeExit(outcome.exit_code), NoTr(chosen));
}

Result<SecretOptionPipe> SecretOptionPipe::Create(const std::string& password) {
  // Option-file syntax (mysys my_default.c, the parser of mariadb-dump and mysqldump): one
  // line, a double-quoted value, in which \n \r \t \b \\ \" \' are escapes. A raw newline
  // would end the line, and what follows it would be read as options ("unknown option
  // '--<rest of the password>'", or another host=). The quotes keep '#', leading and trailing
  // spaces. NUL cannot be written (the file is read as C strings): OpenDriver refuses it.
  std::string text = "[client]\npassword=\"";
  // Each of kEscaped is written as a backslash and the letter of kEscapes at its index.
  constexpr std::string_view kEscaped = "\n\r\t\b\\\"'", kEscapes = "nrtb\\\"'";
  for (char c : password) {
    if (c == '\0') return UsageError(std::string(Tr("the database password holds a NUL byte")));
    if (const size_t at = kEscaped.find(c); at != std::string_view::npos) {
      text += '\\';
      c = kEscapes[at];
    }
    text += c;
  }
  text += "\"\n";
  // Written whole before the tool starts: it must fit in the pipe without a reader.
  if (text.size() > 4096)
    return Failure(std::string(Tr("the database password is longer than 4000 bytes")));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return ErrnoError(std::string(Tr("cannot create a pipe")), errno);
  SecretOptionPipe pipe;
  pipe.fd_ = fds[0];
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = WriteWithoutSigpipe(fds[1], text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fds[1]);
      return ErrnoError(std::string(Tr("cannot write to a pipe")), err);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fds[1]);
  return pipe;
}

SecretOptionPipe::SecretOptionPipe(SecretOptionPipe&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

SecretOptionPipe::~SecretOptionPipe() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

void RedactWhole(std::string& text, std::string_view secret) {
  for (size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3)) {
    text.replace(pos, secret.size(), "***");
  }
}

}  // namespace

std::string Redact(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  RedactWhole(text, secret);
  // A tool's message holds its input a line at a time: a password of several lines that went
  // astray shows up as one of its lines ("unknown option '--def-SECRETTAIL'"). Each line of 4
  // characters or more is redacted too; shorter ones would blank ordinary words.
  if (secret.find_first_of("\n\r") == std::string::npos) return text;
  std::string_view rest = secret;
  while (!rest.empty()) {
    const size_t end = std::min(rest.find_first_of("\n\r"), rest.size());
    if (end >= 4) RedactWhole(text, rest.substr(0, end));
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
  return text;
}

}  // namespace velin::db::internal
