// Helpers shared by unit and integration tests: a temp directory removed even when a test
// fails, file writing, and running the real velin binary with captured stdout/stderr.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace velin::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// A small real filesystem that fills up: a tmpfs of `size` ("3M") mounted on `dir` (made if
// missing), unmounted on destruction. mounted() is false where mounting is not permitted (not
// root, a container): the caller skips.
class SmallTmpfs {
 public:
  SmallTmpfs(const std::string& dir, const std::string& size);
  ~SmallTmpfs();
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;
  bool mounted() const { return mounted_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// Fills the file system holding `file` through it until `room` bytes are left (page granular
// on tmpfs): a disk that is full, or nearly, at a chosen point.
void FillLeaving(const std::string& file, uint64_t room);

// Writes `content` to `path`, creating parent directories.
void WriteFile(const std::string& path, const std::string& content, unsigned mode = 0644);
std::string ReadFileOrDie(const std::string& path);
// Everything written to `f` (a tmpfile standing in for a terminal): flushed, rewound, read.
std::string ReadStream(FILE* f);
// The lines of `text`, without their newlines (a last line without one counts).
std::vector<std::string> SplitLines(const std::string& text);

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

struct RunOptions {
  std::string cwd;
  std::map<std::string, std::string> env;  // added to (or replacing in) the environment
  std::vector<std::string> unset_env;
  std::string stdin_data;
  int timeout_seconds = 300;
  // The child's limit on open files (RLIMIT_NOFILE), soft and hard; 0: inherited.
  unsigned open_files_soft = 0;
  unsigned open_files_hard = 0;
  // The child's soft limit on its stack (RLIMIT_STACK) in bytes; 0: inherited.
  uint64_t stack_soft = 0;
  // The child's limit on the size of files it writes (RLIMIT_FSIZE) in bytes; 0: inherited.
  uint64_t file_size_limit = 0;
  // The child's limit on its address space (RLIMIT_AS, `ulimit -v`) in bytes; 0: inherited.
  uint64_t address_space_limit = 0;
  // The child's limit on the processes and threads of its user (RLIMIT_NPROC, `ulimit -u`);
  // 0: inherited. Root is not held to it: give `user` too.
  unsigned process_limit = 0;
  // The user (and group of the same number) the child runs as, groups cleared; needs root.
  std::optional<unsigned> user;
};

// Runs the built velin binary (VELIN_BINARY) with `args`.
RunResult RunVelin(const std::vector<std::string>& args, const RunOptions& options = {});

// Runs any program (argv[0] looked up in PATH).
RunResult RunProgram(const std::vector<std::string>& argv, const RunOptions& options = {});
// Reads `out_fd` and `err_fd` of the started child `pid` until both close (or the timeout
// kills it), closes them and reaps the child.
RunResult CollectUntilExit(pid_t pid, int out_fd, int err_fd, int timeout_seconds);

// A TCP port on 127.0.0.1 that was free a moment ago (bound, then released), below the kernel's
// ephemeral range, so that no other process's connect() or bind(0) is given it meanwhile.
int FreeLoopbackPort();

// The path of the built velin binary and of the source tree.
std::string VelinBinary();
std::string SourceDir();

// Now plus `seconds` (negative: before now) in UTC, "2026-11-25T14:30:05Z", as VELIN_NOW takes it.
std::string UtcFromNow(int64_t seconds);

// Every how-many'th fault point an exhaustive in-process sweep tries: 1 (every point) unless
// VELIN_TEST_SWEEP_STRIDE names a larger number. CI's sanitizer run sets it (the sanitizers
// make each point ~4x dearer); the normal run, the README's test command, tries every point.
uint64_t SweepStride();

// Polls `done` every millisecond for up to 10 s; false when it never came (a thread that was to
// get there did not).
template <typename F>
bool WaitFor(F done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace velin::testing
