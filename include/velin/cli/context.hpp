// What every command gets: the global flags, the Console (built once the flags are parsed),
// the configuration (loaded on first use) and the Env. A command file parses its own flags,
// calls an engine with these, prints through the Console and returns a Status; Run() turns
// that Status into the process exit code and one error line.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "velin/config/config.hpp"
#include "velin/core/error.hpp"
#include "velin/io/env.hpp"
#include "velin/monitor/notifier.hpp"
#include "velin/output/console.hpp"

namespace velin::cli {

struct GlobalOptions {
  std::string config_path;  // --config
  bool json = false;        // --json
  bool yes = false;         // --yes
  bool quiet = false;       // -q
  bool verbose = false;     // -v
  // The repository without a velin.toml (docs/operations.md, "The server is gone"):
  std::string repo;           // --repo URL (else $VELIN_REPOSITORY): backup.destination
  std::string password_file;  // --password-file FILE: backup.password_file
  std::string database_url;   // restore's --database-url: the [database] section
};

class Context {
 public:
  GlobalOptions global;

  output::Console& out() { return *console_; }
  io::Env& env() { return io::Env::Default(); }

  // The configuration: --config, else velin.toml in the working directory or a parent.
  // Without a file: with --repo/VELIN_REPOSITORY, the defaults with that repository (file ""),
  // for the commands that work on a repository alone (list, restore, verify, key, ...);
  // otherwise a usage error naming where velin looked and the flags that would do.
  // --repo, --password-file and --database-url override the file's keys.
  Result<const config::Config*> Config();

  // Why [log] file could not be opened ("cannot open log file F: why"), "" when it was (or none
  // is set). The command then logs to stderr only; `config check` reports it as an error.
  const std::string& log_problem() const { return log_problem_; }

  // Hooks that run before every command once the config is known (e.g. the rollback engine
  // finishing an expired transaction). A hook's error stops the command.
  std::vector<std::function<Status(Context&)>> before_command;

  // Runs a command body: sets up output and logging, runs hooks, maps errors to exit codes.
  void Execute(const std::function<Status()>& body, bool needs_config = true);
  int exit_code() const { return exit_code_; }
  // The errno of the first failed write of the command's output to stdout, 0 when none failed.
  int output_errno() { return console_ ? console_->output_errno() : 0; }

  // What the running command reports to monitoring ([monitor] metrics_file / ping_url):
  // commands that do unattended work (backup create, verify, prune, copy, restore; rollback
  // switches) fill it; Execute() records the run after the body returns.
  struct RunStats {
    std::string summary;  // one line for the success ping
    std::optional<uint64_t> bytes_added;
    std::optional<uint64_t> repository_size;
    std::optional<uint64_t> files_changed;  // backup create: changed while read, twice
    // For [notify]: the event when the command names it itself (else Execute() derives it
    // from the command and its outcome), and what the notification carries.
    std::string event;
    std::string backup_id;
    std::string version;
  };
  RunStats& stats() { return stats_; }

  // "backup create": the command being run (set while parsing, by AddCommand).
  static std::string& CommandPath();

  // Asks a yes/no question on the terminal; --yes answers yes. Without a terminal and
  // without --yes, a usage error (exit 2): nobody is there to answer.
  Result<bool> Confirm(const std::string& question);

  // Sends one [notify] event now, if it is configured (an event besides the command's own,
  // e.g. an expired transaction rolled back before it). Never fails: warnings only.
  void SendNotification(const monitor::NotifyEvent& event);

 private:
  // Sends the [notify] event of the command's outcome, if it is one that is configured.
  void Notify(const Status& status);

  std::unique_ptr<output::Console> console_;
  std::optional<config::Config> config_;
  std::string log_problem_;
  int exit_code_ = 0;
  RunStats stats_;
};

// Adds a subcommand that accepts the global flags after it too.
CLI::App* AddCommand(CLI::App& parent, const std::string& name, const std::string& description);

void RegisterConfigCommands(CLI::App& app, Context& ctx);
void RegisterBackupCommands(CLI::App& app, Context& ctx);
void RegisterRollbackCommands(CLI::App& app, Context& ctx);
// velin completion bash|zsh|fish, and the hidden velin __man (src/cli/completion.cpp).
void RegisterCompletionCommands(CLI::App& app, Context& ctx);

// The whole command tree with its global flags, help texts and examples (help.hpp), ready to
// parse; the tests walk it too.
void BuildCommandTree(CLI::App& app, Context& ctx);

// Builds the command tree, parses argv, runs the command; returns the exit code.
int Run(int argc, char** argv);

}  // namespace velin::cli
