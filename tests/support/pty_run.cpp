#include "support/pty_run.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include "support/child_process.hpp"

extern char** environ;

namespace velin::testing {

RunResult RunVelinInPty(const std::vector<std::string>& args, const RunOptions& options) {
  std::vector<std::string> env_strings = ChildEnvironment(options);
  std::vector<char*> envp = NullTerminated(env_strings);
  std::vector<std::string> argv_strings{VelinBinary()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv = NullTerminated(argv_strings);

  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    throw std::runtime_error("posix_openpt failed");
  }
  std::string slave_name = ::ptsname(master);
  int slave = ::open(slave_name.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) throw std::runtime_error("cannot open " + slave_name);
  termios tio{};
  ::tcgetattr(slave, &tio);
  tio.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tio.c_oflag &= ~static_cast<tcflag_t>(OPOST);
  ::tcsetattr(slave, TCSANOW, &tio);
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");

  pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    ::dup2(slave, 0);
    ::dup2(slave, 1);
    ::dup2(err_pipe[1], 2);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
    ::environ = envp.data();
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(slave);
  ::close(err_pipe[1]);
  if (!options.stdin_data.empty()) {
    (void)!::write(master, options.stdin_data.data(), options.stdin_data.size());
  }
  return CollectUntilExit(pid, master, err_pipe[0], options.timeout_seconds);
}

}  // namespace velin::testing
