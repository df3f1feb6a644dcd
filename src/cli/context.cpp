#include "velin/cli/context.hpp"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "velin/cli/help.hpp"
#include "velin/config/database_url.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/process.hpp"
#include "velin/core/termination.hpp"
#include "velin/core/text_encoding.hpp"
#include "velin/core/threads.hpp"
#include "velin/monitor/notifier.hpp"
#include "velin/monitor/run_monitor.hpp"
#include "velin/output/logging.hpp"
#include "velin/version.hpp"

namespace velin::cli {

namespace {

// The commands that work on a repository alone, without a velin.toml (--repo): reading,
// restoring, checking, and managing keys and stale locks. The others need what only a
// velin.toml says (what to back up, the application, the rollback state).
bool WorksWithoutConfig(const std::string& command) {
  static const char* kAlone[] = {"backup list",   "backup restore", "backup verify", "backup ls",
                                 "backup find",   "backup diff",    "backup dump",   "backup stats",
                                 "backup unlock", "key list",       "key add",       "key remove",
                                 "key passwd"};
  for (const char* c : kAlone) {
    if (command == c) return true;
  }
  return false;
}

// What a command printed on stdout must have got there: a listing or a --json document cut
// short by a full disk or a reader that went away is a failure, not a success (as GNU's
// close_stdout). `recorded` is the console's first failed write's errno; help, the man page
// and completion scripts print through stdio and iostream, checked here. `ran_command`: a
// command's body ran, whose work (a backup made) stands though its report was lost.
int CheckStdoutWritten(int code, int recorded, bool ran_command = false) {
  std::cout.flush();
  errno = 0;
  const bool flush_failed = std::fflush(stdout) != 0;
  const int flush_errno = errno;
  if (!flush_failed && recorded == 0 && std::ferror(stdout) == 0 && !std::cout.bad()) return code;
  const int err = recorded != 0 ? recorded : (flush_failed ? flush_errno : 0);
  // A write through iostream that failed earlier leaves the error flag but not its errno.
  std::string message = err != 0 ? ErrnoError(Tr("writing to stdout"), err).value().message
                                 : std::string(Tr("writing to stdout failed"));
  if (code == 0 && ran_command) {
    message = TrFormat("{} (the command itself succeeded; its output is incomplete)", message);
  }
  output::LogErrorToFile(message);
  std::fprintf(stderr, "%s: %s\n", std::string(Tr("error")).c_str(), OneLine(message).c_str());
  std::fflush(stderr);
  return code == 0 ? static_cast<int>(ExitCode::kFailed) : code;
}

// Whether the command line asks for --json: a word "--json" before "--" (after it, words are
// arguments). For a line CLI11 could not parse, whose results it may not have applied yet.
bool JsonAsked(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word == "--") return false;
    if (word == "--json") return true;
  }
  return false;
}

}  // namespace

Result<const config::Config*> Context::Config() {
  if (config_) return &*config_;
  std::string path = global.config_path;
  if (path.empty()) {
    if (auto env_path = env().GetEnv("VELIN_CONFIG"); env_path && !env_path->empty()) {
      path = *env_path;
    }
  }
  std::string repo = global.repo;
  if (repo.empty()) {
    if (auto env_repo = env().GetEnv("VELIN_REPOSITORY"); env_repo && !env_repo->empty()) {
      repo = *env_repo;
    }
  }
  std::error_code ec;
  const std::string cwd = std::filesystem::current_path(ec).string();
  if (path.empty() && ec) {
    // Run from a directory removed meanwhile (a deploy replaced it): there is nowhere to look.
    return UsageError(
        TrFormat("cannot look for velin.toml: the working directory is gone ({}); cd into the "
                 "application, or use --config FILE",
                 std::string(Tr(std::strerror(ec.value())))));
  }
  if (path.empty()) {
    if (auto found = config::FindConfigFile(cwd)) path = *found;
  }
  config::Config loaded;
  if (!path.empty()) {
    VELIN_ASSIGN(loaded, config::LoadConfig(path, env()));
  } else if (repo.empty()) {
    return UsageError(
        TrFormat("no velin.toml in {} or any parent directory (use --config FILE, or --repo URL / "
                 "VELIN_REPOSITORY for a repository alone)",
                 cwd));
  } else if (!WorksWithoutConfig(CommandPath())) {
    return UsageError(TrFormat(
        "'velin {}' needs a velin.toml and there is none in {} or any parent directory (use "
        "--config FILE); --repo alone serves list, restore, verify, ls, find, diff, dump, stats, "
        "unlock and key",
        CommandPath(), cwd));
  } else {
    // The defaults, with the VELIN_<SECTION>_<KEY> overrides (storage settings, passphrase
    // variable or file), rooted here; file "" marks a repository alone.
    VELIN_ASSIGN(loaded, config::LoadConfigFromString("", io::JoinPath(cwd, "velin.toml")));
    loaded.file.clear();
    if (loaded.backup.password_env.empty() && loaded.backup.password_file.empty()) {
      loaded.backup.password_env = "VELIN_PASSPHRASE";
    }
  }
  // The variables holding the repository's and the database's passwords reach no child, as
  // velin.toml names them: registered before --password-file and --database-url replace those
  // settings, since the variable the file names is still in the environment (a
  // REPO_PASS=… velin --password-file F would otherwise hand REPO_PASS to every hook).
  RegisterSecretEnvironmentVariable(loaded.backup.password_env);
  RegisterSecretEnvironmentVariable(loaded.database.password_env);
  for (const auto& [name, d] : loaded.databases) RegisterSecretEnvironmentVariable(d.password_env);
  RegisterSecretEnvironmentVariable(loaded.sftp.key_passphrase_env);
  if (!repo.empty()) loaded.backup.destination = repo;
  if (!global.password_file.empty()) {
    loaded.backup.password_env.clear();
    loaded.backup.password_file = global.password_file[0] == '/'
                                      ? global.password_file
                                      : io::JoinPath(cwd, global.password_file);
  }
  if (!global.database_url.empty()) {
    VELIN_ASSIGN(loaded.database, config::DatabaseFromUrl(global.database_url, cwd));
  }
  config_ = std::move(loaded);
  // And as the overrides left them.
  RegisterSecretEnvironmentVariable(config_->backup.password_env);
  RegisterSecretEnvironmentVariable(config_->database.password_env);
  RegisterSecretEnvironmentVariable(config_->sftp.key_passphrase_env);
  // A webhook URL may hold its token, a ping URL is the check's secret (healthchecks.io's
  // UUID): their override variables reach no child either.
  RegisterSecretEnvironmentVariable("VELIN_NOTIFY_WEBHOOK_URL");
  RegisterSecretEnvironmentVariable("VELIN_MONITOR_PING_URL");
  // A log file that cannot be opened fails no command (a backup matters more than its log):
  // the command runs, logging to stderr, and says so once. `config check` fails on it, in its
  // one error line, with no warning before it.
  // A log file that fails later (a full disk) is let go, with one warning (docs/config.md).
  auto warn = [this](const std::string& line) {
    if (console_) {
      console_->Warn(line);
    } else {
      spdlog::warn("{}", OneLine(line));
    }
  };
  if (Status logging = output::SetupLogging(config_->log, global.verbose, global.quiet, warn);
      !logging) {
    log_problem_ = logging.error().message;
    if (CommandPath() != "config check") {
      config_->warnings.insert(config_->warnings.begin(),
                               TrFormat("{}; logging to stderr only", log_problem_));
    }
  }
  for (const std::string& warning : config_->warnings) {
    if (console_) {
      console_->Warn(warning);
    } else {
      spdlog::warn("{}", OneLine(warning));
    }
  }
  return &*config_;
}

static void AddRepositoryFlags(CLI::App& app, Context& ctx) {
  app.add_option("--repo", ctx.global.repo,
                 "Repository URL or directory, without a velin.toml too (env VELIN_REPOSITORY; "
                 "overrides backup.destination)");
  app.add_option("--password-file", ctx.global.password_file,
                 "File (0600) holding the repository passphrase (overrides backup.password_env/"
                 "password_file; without a velin.toml the default is $VELIN_PASSPHRASE)");
}

namespace {

// Commands whose runs are worth a metric and a ping: the work cron and timers do.
bool IsMonitored(const std::string& command) {
  static const char* kMonitored[] = {"backup create",       "backup verify",    "backup restore",
                                     "backup prune",        "backup forget",    "backup copy",
                                     "rollback to-version", "rollback recover", "rollback commit",
                                     "rollback rollback"};
  for (const char* m : kMonitored) {
    if (command == m) return true;
  }
  return false;
}

// The [notify] event a command's outcome is, "" when none (docs/config.md#notify).
std::string NotifyEventFor(const std::string& command, const Status& status,
                           const std::string& named) {
  if (!named.empty()) return named;
  const ExitCode code = status ? ExitCode::kOk : status.error().code;
  if (code == ExitCode::kHealthFailed) return "switch-undone";
  if (command == "backup create") return status ? "backup-succeeded" : "backup-failed";
  if (status) return "";
  if (command == "backup status" && code != ExitCode::kUsage) return "backup-unhealthy";
  if (command == "backup verify" && code == ExitCode::kDamage) return "backup-unhealthy";
  if (command == "backup prune") return "cleanup-failed";
  return "";
}

}  // namespace

void Context::Notify(const Status& status) {
  if (!config_) return;  // no [notify] known: the config did not load
  const std::string event = NotifyEventFor(CommandPath(), status, stats_.event);
  if (event.empty()) return;
  monitor::NotifyEvent e;
  e.event = event;
  // The command's outcome: a watchdog's rollback that worked is a success, an undone switch
  // a failure (exit code 5).
  e.success = static_cast<bool>(status);
  e.summary =
      stats_.summary.empty() ? CommandPath() + (status ? ": ok" : ": failed") : stats_.summary;
  if (!status) e.error = status.error().message;
  e.backup_id = stats_.backup_id;
  e.version = stats_.version;
  SendNotification(e);
}

void Context::SendNotification(const monitor::NotifyEvent& event) {
  if (!config_) return;
  const config::NotifySection& n = config_->notify;
  monitor::NotifyOptions options;
  options.webhook_url = n.webhook_url;
  options.format = n.format;
  options.command = n.command;
  options.events = n.events;
  options.cwd = config_->app.root;
  // The application and host as backups record them ([app] name and host), not the path and
  // the machine's name: where host names repeat (containers) these tell the senders apart.
  options.app = config_->app.name;
  options.host = config_->app.host;
  monitor::Notifier notifier(env(), std::move(options), out());
  notifier.Notify(event);
}

std::string& Context::CommandPath() {
  static std::string path;
  return path;
}

void Context::Execute(const std::function<Status()>& body, bool needs_config) {
  if (global.json) UseEnglish();  // the JSON document, its errors included, stays English
  console_ = std::make_unique<output::Console>(
      output::DetectConsoleOptions(global.json, global.quiet, global.verbose));
  output::SetupEarlyLogging(global.verbose, global.quiet);
  std::optional<monitor::RunMonitor> run;
  // Out of memory or threads (ulimit -v, -u) is the command's error, with the failure path of
  // any other (core/threads.hpp): the lock goes as the stack unwinds, then the monitor, the
  // notification and the one error line.
  Status status = CatchExceptions([&]() -> Status {
    if (needs_config) {
      VELIN_TRY(Config());
      if (IsMonitored(CommandPath()) &&
          (!config_->monitor.metrics_file.empty() || !config_->monitor.ping_url.empty())) {
        monitor::MonitorOptions options;
        options.metrics.metrics_file = config_->monitor.metrics_file;
        options.ping.url = config_->monitor.ping_url;
        run.emplace(env(), options, CommandPath(), out());
      }
      for (auto& hook : before_command) VELIN_TRY(hook(*this));
    }
    spdlog::info("velin {}: {}", kVersion, CommandPath());
    return body();
  });
  if (run) {
    run->Finish(status ? std::nullopt : std::optional<Error>(status.error()),
                stats_.summary.empty() ? CommandPath() + ": ok" : stats_.summary,
                stats_.bytes_added, stats_.repository_size, stats_.files_changed);
  }
  Notify(status);
  if (!status) {
    exit_code_ = static_cast<int>(status.error().code);
    output::LogErrorToFile(status.error().message);
    // A signal held while velin worked ends the process by it (main.cpp, EndByHeldSignal):
    // the document names the code a shell sees then, 128 + its number (docs/exit-codes.md).
    const int held = HeldTerminationSignal();
    out().Fail(status.error(), status.error().message, held != 0 ? 128 + held : exit_code_);
  } else if (const int held = HeldTerminationSignal(); held != 0) {
    // The work finished (a switch, a MariaDB restore, a backup committed as the signal came)
    // and velin now ends by the signal: a non-zero exit, so its one error line says so.
    exit_code_ = 128 + held;
    spdlog::info("{}: done", CommandPath());
    const std::string message = TrFormat(
        "{} arrived while velin worked: it finished that work first (its outcome is "
        "above) and now ends by the signal",
        TerminationSignalName(held));
    output::LogErrorToFile(message);
    out().Fail(Error{ExitCode::kFailed, message}, message, exit_code_);
  } else {
    exit_code_ = 0;
    spdlog::info("{}: done", CommandPath());
  }
  out().Flush();  // the one JSON document (output/console.hpp)
}

Result<bool> Context::Confirm(const std::string& question) {
  if (global.yes) return true;
  if (!::isatty(STDIN_FILENO)) {
    return UsageError(TrFormat("{} — no terminal to ask; pass --yes to confirm", question));
  }
  CheckShown(question);
  // The hint in the user's language ("[j/N]" in German, whose "J" and "Ja" are a yes too).
  std::fprintf(stderr, "%s %s ", question.c_str(), std::string(Tr("[y/N]")).c_str());
  std::fflush(stderr);
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  // Any case, spaces (and a terminal's \r) around: "Yes", "J", "ja " are all a yes.
  const size_t first = answer.find_first_not_of(" \t\r");
  const size_t last = answer.find_last_not_of(" \t\r");
  answer = first == std::string::npos ? "" : answer.substr(first, last - first + 1);
  for (char& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return answer == "y" || answer == "yes" || answer == "j" || answer == "ja";
}

CLI::App* AddCommand(CLI::App& parent, const std::string& name, const std::string& description) {
  CLI::App* sub = parent.add_subcommand(name, description);
  sub->fallthrough();
  // The innermost command's callback fires last, so the path ends up as "group command".
  std::string path = parent.get_parent() != nullptr ? parent.get_name() + " " + name : name;
  sub->preparse_callback([path](size_t) { Context::CommandPath() = path; });
  return sub;
}

void BuildCommandTree(CLI::App& app, Context& ctx) {
  app.name("velin");
  app.description("Backups and rollbacks for self-hosted web applications");
  app.set_version_flag("-V,--version", std::string("velin ") + kVersion, "Print the version");
  app.add_option("--config", ctx.global.config_path,
                 "Config file (default: velin.toml here or in a parent)");
  app.add_flag("--json", ctx.global.json, "Print one JSON document on stdout");
  app.add_flag("--yes,-y", ctx.global.yes, "Answer yes to confirmations");
  app.add_flag("-q,--quiet", ctx.global.quiet,
               "Print nothing on success but what a listing asks for (warnings, errors: stderr; "
               "--json: its document)");
  app.add_flag("-v,--verbose", ctx.global.verbose, "Print debug detail on stderr");
  AddRepositoryFlags(app, ctx);
  app.require_subcommand(1);
  app.fallthrough();

  RegisterBackupCommands(app, ctx);
  RegisterRollbackCommands(app, ctx);
  RegisterConfigCommands(app, ctx);
  RegisterCompletionCommands(app, ctx);
  FinishCommandTree(app);
}

int Run(int argc, char** argv) {
  // A fixed mmap threshold: buffers of 1 MiB and more (chunks, packs, blobs) go back to the
  // system when freed instead of staying in per-thread malloc arenas, whose retained memory
  // doubled peak RSS; the engines reuse such buffers where they churn.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  InitLanguageFromEnvironment();
  Context ctx;
  CLI::App app;
  BuildCommandTree(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return CheckStdoutWritten(app.exit(e), 0);
  } catch (const CLI::CallForAllHelp& e) {
    return CheckStdoutWritten(app.exit(e), 0);
  } catch (const CLI::CallForVersion& e) {
    if (!JsonAsked(argc, argv)) return CheckStdoutWritten(app.exit(e), 0);
    // With --json, as every document: {"version": "X.Y.Z"} (docs/cli.md, "Global flags").
    output::Console console(output::DetectConsoleOptions(true, false, false));
    console.Json({{"version", kVersion}});
    console.Flush();
    return CheckStdoutWritten(0, console.output_errno());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return CheckStdoutWritten(app.exit(e), 0);
    // One line in velin's own style in the user's language on stderr (and with --json the
    // error document, in English as every JSON document), exit 2. No command ran: the line is
    // made once in each language.
    const std::string message = ParseErrorMessage(app, e);
    std::string json_message = message;
    // --json is known from the command line, not from ctx.global.json: CLI11 sets that only
    // once the options' results are applied, and an error found first (a value missing, an
    // option given twice) left it false and stdout without the document.
    const bool json = JsonAsked(argc, argv);
    if (json) {
      UseEnglish();
      json_message = ParseErrorMessage(app, e);
      InitLanguageFromEnvironment();
    }
    output::Console console(output::DetectConsoleOptions(json, false, false));
    console.Fail(Error{ExitCode::kUsage, message, 0}, json_message);
    return CheckStdoutWritten(static_cast<int>(ExitCode::kUsage), console.output_errno());
  }
  return CheckStdoutWritten(ctx.exit_code(), ctx.output_errno(), true);
}

}  // namespace velin::cli
