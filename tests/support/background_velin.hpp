// The velin binary started in the background, for tests that signal it while it works: its
// stdout and stderr are collected when it ends, as RunVelin does.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace velin::testing {

class BackgroundVelin {
 public:
  // Starts velin with `args` (options: cwd, env). SIGINT, SIGTERM and SIGHUP start at their
  // default actions, as a shell starts a foreground command, whatever the test runner's are;
  // `ignored` (when not 0) starts ignored, as under nohup.
  BackgroundVelin(const std::vector<std::string>& args, const RunOptions& options, int ignored = 0);
  // Kills velin (SIGKILL) when the test did not Finish() it.
  ~BackgroundVelin();
  BackgroundVelin(const BackgroundVelin&) = delete;
  BackgroundVelin& operator=(const BackgroundVelin&) = delete;

  void Signal(int sig) const;
  // Not exited yet (the exit is left for Finish to reap).
  bool Running() const;
  // Stopped by a stop signal (SIGSTOP), not yet continued.
  bool Stopped() const;
  // Waits up to 60 s for the exit; whether it came.
  bool WaitExit() const;
  // Collects the output until velin exits and reaps it.
  RunResult Finish();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
};

// Whether process `pid` is stopped by a stop signal (state T), not yet continued. A tracing stop
// (state t: LeakSanitizer's stop-the-world at a sanitizer build's exit) does not count: a test
// that sent SIGCONT then could discard that stop's SIGSTOP and hang the exit for good.
bool ProcessStopped(pid_t pid);

// Polls (every 20 ms, up to 60 s) until `path` exists; whether it came.
bool WaitForPath(const std::string& path);

// Writes `dir`/`tool`, a wrapper to put first in PATH: it touches `dir`/reached, waits until
// `dir`/go exists, then execs /usr/bin/`tool` with its arguments. A test signals velin while the
// tool it started waits there, at a moment it knows.
void WriteGatedTool(const std::string& dir, const std::string& tool);

// `options.env["PATH"]` set to `dir` before this process's PATH.
void PutFirstInPath(RunOptions& options, const std::string& dir);

}  // namespace velin::testing
