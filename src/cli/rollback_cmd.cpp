// velin rollback …: the rollback engine's commands, and the hook that lets every velin
// invocation finish an expired deploy transaction first.
#include <unistd.h>

#include "backup_common.hpp"
#include "hook_settings.hpp"
#include "rollback_common.hpp"
#include "rollback_data.hpp"
#include "rollback_fleet.hpp"

namespace velin::cli {
namespace {

std::string SelfExe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

bool& SkipExpiredTransactionHook() {
  static bool skip = false;
  return skip;
}

Result<std::unique_ptr<rollback::RollbackEngine>> MakeRollbackEngine(Context& ctx) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  const config::RollbackSection& r = cfg->rollback;
  rollback::Settings s;
  s.app_root = cfg->app.root;
  s.config_file = cfg->file;
  s.velin_binary = SelfExe();
  s.state_dir = r.state_dir;
  s.current_link = r.current;
  s.artifacts = r.artifacts;
  s.config = r.config;
  s.path_places = r.path_places;
  s.keep_versions = r.keep_versions;
  s.stop = r.stop;
  s.start = r.start;
  s.health = r.health;
  s.health_timeout = r.health_timeout;
  s.transaction_timeout = r.transaction_timeout;
  s.start_timeout = r.start_timeout;
  s.stop_timeout = r.stop_timeout;
  s.migration_status = r.migration_status;
  s.migrate_down = r.migrate_down;
  s.database_configured = cfg->database.configured;
  s.hooks = HookSettingsOf(*cfg);
  s.backup_on_begin = r.backup_on_begin;
  s.restore_data_on_timeout = r.restore_data_on_timeout;
  // One guard for the whole process: the engine holds a plain pointer to it.
  static std::unique_ptr<rollback::DataGuard> guard = MakeDataGuard(ctx);
  s.data = guard.get();
  if (s.data != nullptr) {  // the watchdog backs up nothing, but restores at the deadline
    // The clients' own variables too: with no password_env, velin's connection uses them.
    s.watchdog_secret_env = {cfg->backup.password_env, "PGPASSWORD", "MYSQL_PWD"};
    // Each database's: a [databases.NAME]'s password_env too, or the watchdog's restore of it
    // at the deadline fails on a variable that is not set.
    for (const config::DatabaseRef& d : config::IncludedDatabaseRefs(*cfg)) {
      if (d.section != nullptr) s.watchdog_secret_env.push_back(d.section->password_env);
    }
    // And opens the repository (--repo and VELIN_REPOSITORY are in the destination already).
    for (std::string& name :
         storage::CredentialVariables(cfg->backup.destination, BackendOptionsFrom(*cfg))) {
      s.watchdog_secret_env.push_back(std::move(name));
    }
  }
  // The global flags the watchdog must repeat to restore as this command would: the repository
  // (absolute: the watchdog runs in app.root) and the passphrase file (absolute already).
  std::string repo = ctx.global.repo;
  if (repo.empty()) repo = ctx.env().GetEnv("VELIN_REPOSITORY").value_or("");
  if (!repo.empty()) {
    if (!config::IsRemoteDestination(repo)) {
      VELIN_ASSIGN(repo, FromCurrentDirectory(repo));
    }
    s.watchdog_env.emplace_back("VELIN_REPOSITORY", repo);
  }
  if (!ctx.global.password_file.empty()) {
    s.watchdog_flags = {"--password-file", cfg->backup.password_file};
  }
  return std::make_unique<rollback::RollbackEngine>(ctx.env(), std::move(s), ctx.out());
}

void RegisterRollbackCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = AddCommand(app, "rollback", "Deploy versions and roll them back");
  group->require_subcommand(1);
  RegisterRollbackVersionCommands(*group, ctx);
  RegisterRollbackSwitchCommands(*group, ctx);
  RegisterRollbackTransactionCommands(*group, ctx);
  RegisterFleetFlag(*group, ctx);
  // Any velin invocation first rolls back an expired transaction whose watchdog died (reboot).
  // Without a transaction file this is a single stat.
  ctx.before_command.push_back([](Context& c) -> Status {
    if (SkipExpiredTransactionHook()) return Ok();
    auto finished = [&c]() -> Result<std::optional<rollback::TransactionEnd>> {
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(c));
      return engine->FinishExpiredTransaction();
    }();
    if (!finished) {
      // A damaged transaction.json (or a lock held too long) stops the rollback commands, which
      // must not act on a state they cannot read; it must not stop a cron backup, a restore or
      // `config check`: for those it is a warning (docs/rollback-format.md#transactionjson).
      if (Context::CommandPath().rfind("rollback", 0) == 0) return tl::unexpected(finished.error());
      c.out().Warn(
          TrFormat("{}; an expired deploy transaction was not looked for ('velin "
                   "rollback status' says more)",
                   finished.error().message));
      return Ok();
    }
    auto& end = *finished;
    if (end) {  // its watchdog had died: this is the timeout's rollback, [notify] it
      monitor::NotifyEvent e;
      e.event = "rollback-timeout";
      e.success = end->outcome == "rolled back by timeout";
      e.summary = "transaction " + end->id + " " + end->outcome + " (to " + end->base + ")";
      if (!e.success) e.error = end->outcome;
      e.version = end->base;
      c.SendNotification(e);
    }
    return Ok();
  });
}

}  // namespace velin::cli
