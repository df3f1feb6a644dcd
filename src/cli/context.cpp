#include "velin/cli/context.hpp"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "velin/core/i18n.hpp"
#include "velin/core/process.hpp"
#include "velin/monitor/notifier.hpp"
#include "velin/monitor/run_monitor.hpp"
#include "velin/output/logging.hpp"
#include "velin/version.hpp"

namespace velin::cli {

Result<const config::Config*> Context::Config() {
  if (config_) return &*config_;
  std::string path = global.config_path;
  if (path.empty()) {
    if (const char* env_path = std::getenv("VELIN_CONFIG"); env_path && *env_path) path = env_path;
  }
  if (path.empty()) {
    std::error_code ec;
    std::string cwd = std::filesystem::current_path(ec).string();
    auto found = config::FindConfigFile(cwd);
    if (!found) {
      return UsageError(
          TrFormat("no velin.toml in {} or any parent directory (use --config FILE)", cwd));
    }
    path = *found;
  }
  VELIN_ASSIGN(config::Config loaded, config::LoadConfig(path));
  config_ = std::move(loaded);
  // The variables holding the repository's and the database's passwords reach no child.
  RegisterSecretEnvironmentVariable(config_->backup.password_env);
  RegisterSecretEnvironmentVariable(config_->database.password_env);
  // A webhook URL may hold its token; the override variable reaches no child either.
  RegisterSecretEnvironmentVariable("VELIN_NOTIFY_WEBHOOK_URL");
  VELIN_TRY(output::SetupLogging(config_->log, global.verbose, global.quiet));
  for (const std::string& warning : config_->warnings) {
    if (console_) {
      console_->Warn(warning);
    } else {
      spdlog::warn("{}", warning);
    }
  }
  return &*config_;
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
  options.app = config_->app.root;
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
  Status status = [&]() -> Status {
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
  }();
  if (run) {
    run->Finish(status ? std::nullopt : std::optional<Error>(status.error()),
                stats_.summary.empty() ? CommandPath() + ": ok" : stats_.summary,
                stats_.bytes_added, stats_.repository_size);
  }
  Notify(status);
  if (!status) {
    exit_code_ = static_cast<int>(status.error().code);
    output::LogErrorToFile(status.error().message);
    out().Fail(status.error());
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
  std::fprintf(stderr, "%s [y/N] ", question.c_str());
  std::fflush(stderr);
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "j" || answer == "ja";
}

CLI::App* AddCommand(CLI::App& parent, const std::string& name, const std::string& description) {
  CLI::App* sub = parent.add_subcommand(name, description);
  sub->fallthrough();
  // The innermost command's callback fires last, so the path ends up as "group command".
  std::string path = parent.get_parent() != nullptr ? parent.get_name() + " " + name : name;
  sub->preparse_callback([path](size_t) { Context::CommandPath() = path; });
  return sub;
}

// When the words of argv name a command group and then a word that is none of its commands
// ("velin rollback frobnicate"), the one line that says so; "" otherwise. CLI11 itself would
// only say that a subcommand is required.
static std::string UnknownCommand(CLI::App& app, int argc, char** argv) {
  CLI::App* group = &app;
  std::string path = "velin";
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--config") {
      ++i;  // its value
      continue;
    }
    if (word.empty() || word[0] == '-') continue;
    auto found = group->get_subcommands([&](CLI::App* sub) { return sub->get_name() == word; });
    if (found.empty()) {
      std::string known;
      for (CLI::App* sub : group->get_subcommands({})) {
        if (sub->get_group().empty()) continue;  // hidden
        known += (known.empty() ? "" : ", ") + sub->get_name();
      }
      return TrFormat("unknown command '{} {}' (the commands of '{}' are: {})", path, word, path,
                      known);
    }
    group = found.front();
    path += " " + word;
    if (group->get_subcommands({}).empty()) return "";  // a command: its own words follow
  }
  return "";
}

int Run(int argc, char** argv) {
  // A fixed mmap threshold: buffers of 1 MiB and more (chunks, packs, blobs) go back to the
  // system when freed instead of staying in per-thread malloc arenas, whose retained memory
  // doubled peak RSS; the engines reuse such buffers where they churn.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  InitLanguageFromEnvironment();
  Context ctx;
  CLI::App app{"velin: backups and rollbacks for self-hosted web applications", "velin"};
  app.set_version_flag("--version", std::string("velin ") + kVersion);
  app.add_option("--config", ctx.global.config_path,
                 "Config file (default: velin.toml here or in a parent)");
  app.add_flag("--json", ctx.global.json, "Print one JSON document on stdout");
  app.add_flag("--yes,-y", ctx.global.yes, "Answer yes to confirmations");
  app.add_flag("-q,--quiet", ctx.global.quiet,
               "Print nothing on success but what a listing asks for (warnings, errors: stderr; "
               "--json: its document)");
  app.add_flag("-v,--verbose", ctx.global.verbose, "Print debug detail on stderr");
  app.require_subcommand(1);
  app.fallthrough();

  RegisterBackupCommands(app, ctx);
  RegisterRollbackCommands(app, ctx);
  RegisterConfigCommands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    if (std::string unknown = UnknownCommand(app, argc, argv); !unknown.empty()) {
      std::fprintf(stderr, "%s: %s\n", Tr("error").data(), unknown.c_str());
      return static_cast<int>(ExitCode::kUsage);
    }
    std::fprintf(stderr, "%s: %s (see velin --help)\n", Tr("error").data(), e.what());
    return static_cast<int>(ExitCode::kUsage);
  }
  return ctx.exit_code();
}

}  // namespace velin::cli
