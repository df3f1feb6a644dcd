#include "support/background_velin.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "support/child_process.hpp"

namespace velin::testing {

BackgroundVelin::BackgroundVelin(const std::vector<std::string>& args, const RunOptions& options,
                                 int ignored) {
  std::vector<std::string> argv_strings{VelinBinary()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv = NullTerminated(argv_strings);
  std::vector<std::string> env_strings = ChildEnvironment(options);
  std::vector<char*> envp = NullTerminated(env_strings);
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe failed";
    return;
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, sig == ignored ? SIG_IGN : SIG_DFL);
    ::environ = envp.data();
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
}

BackgroundVelin::~BackgroundVelin() {
  if (out_fd_ >= 0) {
    ::kill(pid_, SIGKILL);
    Finish();
  }
}

void BackgroundVelin::Signal(int sig) const { ::kill(pid_, sig); }

bool BackgroundVelin::Running() const {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return false;
  }
  return info.si_pid == 0;
}

bool BackgroundVelin::Stopped() const { return ProcessStopped(pid_); }

bool ProcessStopped(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'T';
}

bool BackgroundVelin::WaitExit() const {
  for (int i = 0; i < 3000 && Running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !Running();
}

bool WaitForPath(const std::string& path) {
  for (int i = 0; i < 3000 && !std::filesystem::exists(path); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::filesystem::exists(path);
}

void WriteGatedTool(const std::string& dir, const std::string& tool) {
  std::filesystem::create_directories(dir);
  WriteFile(dir + "/" + tool,
            "#!/bin/sh\ntouch \"" + dir + "/reached\"\nwhile [ ! -f \"" + dir +
                "/go\" ]; do sleep 0.02; done\nexec /usr/bin/" + tool + " \"$@\"\n",
            0755);
}

void PutFirstInPath(RunOptions& options, const std::string& dir) {
  const char* path = std::getenv("PATH");
  options.env["PATH"] = dir + ":" + (path != nullptr ? path : "/usr/bin:/bin");
}

RunResult BackgroundVelin::Finish() {
  RunResult r = CollectUntilExit(pid_, out_fd_, err_fd_, 120);
  out_fd_ = err_fd_ = -1;
  return r;
}

}  // namespace velin::testing
