// Child processes: the databases' dump/restore tools and the user's configured commands
// (service stop/start, health check, migrations). Arguments go to execve directly, never
// through a shell unless the user's command is a shell command; secrets reach a child only
// through its environment (extra_env) or an inherited pipe (pass_fds), never its argv.
//
// No child sees velin's secrets (docs/operations.md#child-processes): velin's own tools get a
// minimal environment (ChildEnv::kMinimal), the user's commands velin's environment without
// the secrets (ChildEnv::kWithoutSecrets, the default).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "velin/core/duration.hpp"
#include "velin/core/error.hpp"

namespace velin {

enum class Stdio { kInherit, kNull, kPipe };

enum class ChildEnv {
  // PATH, HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE, LC_*, TZ, TMPDIR, TERM, plus the
  // variables starting with one of `pass_env_prefixes` that are not secrets, plus extra_env.
  // For the tools velin runs itself (pg_dump, mariadb-dump, ...), which speak English
  // (LANGUAGE=en): velin reads their messages.
  kMinimal,
  // velin's environment minus every secret (IsSecretEnvironmentVariable), plus extra_env.
  // For the user's own commands (rollback stop/start/health/migrations), which may rely on
  // their environment.
  kWithoutSecrets,
};

struct ProcessOptions {
  std::vector<std::string> argv;                               // argv[0] is looked up in PATH
  std::vector<std::pair<std::string, std::string>> extra_env;  // set in the child only
  ChildEnv env = ChildEnv::kWithoutSecrets;
  std::vector<std::string> pass_env_prefixes;  // kMinimal: also these (e.g. "PG")
  std::vector<int> pass_fds;  // stay open in the child under the same number (/dev/fd/N)
  std::string cwd;            // empty: inherit
  Stdio stdin_mode = Stdio::kNull;
  Stdio stdout_mode = Stdio::kInherit;
  Stdio stderr_mode = Stdio::kInherit;
  bool merge_stderr_into_stdout = false;  // with stdout_mode kPipe: one captured stream
  bool new_process_group = true;          // so a timeout can kill the whole tree
  bool new_session = false;               // detached: no controlling terminal
  // SIGKILL when velin dies (PR_SET_PDEATHSIG): for velin's own tools, which must not go on
  // alone after a `kill -9` of velin (a dump nobody reads, a restore client running what it
  // was fed so far). The kernel sends it when the *thread* that started the child ends:
  // only for a child that thread waits for before it goes on (db/tool.cpp's do). Never for
  // what must outlive velin (the rollback watchdog, a service a command starts).
  bool die_with_velin = false;
  // Called in velin once the child exists (in its own process group) and before it runs the
  // program: the child waits until this has returned. A caller records the child here (a
  // switch writes the pid of its `migrate_down` to switch.json), so that no child of it ever
  // runs unrecorded, even when velin is killed at that moment (the child then ends at once
  // without running anything). When it fails, the child ends without running the program and
  // Start returns its error.
  std::function<Status(pid_t)> on_started;
};

// A started child. Move-only; the destructor closes pipes but never waits: call Wait().
class Subprocess {
 public:
  static Result<Subprocess> Start(const ProcessOptions& options);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  int stdin_fd() const { return stdin_fd_; }
  int stdout_fd() const { return stdout_fd_; }
  int stderr_fd() const { return stderr_fd_; }
  void CloseStdin();
  void CloseStdout();
  void CloseStderr();

  // Waits for the child. Returns its exit code, or 128 + signal number when it was killed.
  Result<int> Wait();
  // Sends `sig` to the child's process group (or the child alone without one).
  void Kill(int sig);

 private:
  Subprocess() = default;
  pid_t pid_ = -1;
  bool own_group_ = false;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
};

struct CommandResult {
  int exit_code = 0;       // 128 + signal when killed
  bool timed_out = false;  // killed because the timeout passed
  // stdout and stderr, merged, when captured. At most about 1 MiB: beyond it the first 960 KiB
  // up to its last line's end, a line "[N bytes of output left out]" and the last 64 KiB from a
  // line's start, so the last line is the one the command printed last.
  std::string output;

  // RunCommandSplit: stdout alone is in `output`, stderr here.
  std::string error_output;
};

// Runs argv, captures its merged output, kills its process group after `timeout` (0 = none).
Result<CommandResult> RunCommand(ProcessOptions options, Duration timeout);
// The same with stdout in `output` and stderr in `error_output`, apart (a program whose stdout
// is a document and whose stderr its messages: velin --json on another host over ssh).
Result<CommandResult> RunCommandSplit(ProcessOptions options, Duration timeout);

// Runs a user-configured command line with `sh -c`, capturing merged output.
Result<CommandResult> RunShellCommand(
    const std::string& command, Duration timeout, const std::string& cwd = "",
    std::vector<std::pair<std::string, std::string>> extra_env = {});

// Names an environment variable holding a secret velin reads (the configured password_env
// variables), so that no child gets it. Always secret, registered or not: AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_SECURITY_TOKEN, PGPASSWORD, MYSQL_PWD (a
// database tool is given its own in extra_env) and every VELIN_* variable whose
// name holds PASSWORD, PASSPHRASE, SECRET or TOKEN (but not the config overrides naming where a
// secret is: *_PASSWORD_ENV, *_PASSWORD_FILE).
void RegisterSecretEnvironmentVariable(const std::string& name);
bool IsSecretEnvironmentVariable(std::string_view name);

// Opens /dev/null on each of the descriptors 0, 1 and 2 that is closed (velin started with
// `>&-`, or by a daemon that closed them). Else the first files velin opens get those numbers:
// a pack, a restored file or a directory would be "stdout", and a line printed there, or a
// child's output, would land in it.
void KeepStandardDescriptorsOpen();

// Raises the soft limit on open files to the hard one (at most 65,536), for the process;
// every program velin starts from then on gets the limit velin started with (a program may
// still use select(), which cannot take a descriptor above 1,023). A restore holds many
// directories open (backup/restorer.cpp); a service's usual soft limit is 1,024.
void RaiseOpenFileLimit();
// Gives the process back the limit RaiseOpenFileLimit found (for tests).
void RestoreOpenFileLimit();
// How many files the process may have open now (the soft limit, after RaiseOpenFileLimit);
// 1,048,576 when it has no limit or the limit cannot be read. What velin keeps open only for
// speed (a local repository's packs, a restore's directories) sizes itself by this, so that
// every command still finishes under a hard limit as low as 64 (`ulimit -n 64`).
size_t OpenFileLimit();

// The environment a child started with `options` gets, as "KEY=value" entries.
std::vector<std::string> ChildEnvironment(const ProcessOptions& options);

// Describes a wait status for messages: "exit code 3", "killed by signal 9 (SIGKILL)".
std::string DescribeExit(int exit_code);

// Logs a command's captured output at level info, one record per non-empty line, each
// "KEY: line" (hooks.before_backup, notify.command), a URL's password as ***.
void LogCommandOutput(std::string_view key, std::string_view output);

// The last non-empty line of a command's output, without its surrounding blanks: what a hook,
// health check or remote velin said about its failure ("" when it said nothing).
std::string LastLine(std::string_view output);

}  // namespace velin
