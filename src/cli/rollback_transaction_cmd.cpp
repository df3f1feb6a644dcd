// velin rollback begin | commit | rollback | extend | status | recover, and the hidden
// `watchdog` subcommand the transaction's detached timer runs as.
#include <unistd.h>

#include <cerrno>

#include "rollback_common.hpp"
#include "rollback_fleet.hpp"
#include "velin/core/i18n.hpp"
#include "velin/rollback/registry.hpp"

namespace velin::cli {
namespace {

nlohmann::json TxnJson(const rollback::TransactionRecord& t, int64_t now_ms) {
  return {{"id", t.id},
          {"state", std::string(rollback::TransactionStateName(t.state))},
          {"base", t.base},
          {"started", t.started},
          {"deadline", rollback::IsoTime(t.deadline_ms)},
          {"seconds_left", std::max<int64_t>(0, (t.deadline_ms - now_ms) / 1000)},
          {"reason", t.reason},
          {"user", t.user},
          {"host", t.host},
          {"watchdog_pid", t.watchdog_pid},
          {"backup", t.backup.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.backup)},
          {"version", t.version}};
}

Result<Duration> ParseDurationArg(const std::string& text, const std::string& what) {
  auto d = ParseDuration(text);
  if (!d)
    return UsageError(
        TrFormat("{}: '{}' is not a duration (e.g. 90s, 10m, 1h; at most 36500d)", what, text));
  if (d->count() <= 0) {
    return UsageError(
        TrFormat("{}: the duration must be positive, not '{}' (e.g. 90s)", what, text));
  }
  return *d;
}

void AddBegin(CLI::App& group, Context& ctx) {
  CLI::App* cmd =
      AddCommand(group, "begin",
                 "Open a deploy transaction (none may be open; 'extend' gives an open one more "
                 "time)");
  auto timeout = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  cmd->add_option("--timeout", *timeout,
                  "Roll back unless committed within (default: "
                  "rollback.transaction_timeout)");
  cmd->add_option("--reason", *reason, "Why (kept in the history)");
  auto backup = std::make_shared<bool>(false);
  cmd->add_flag("--backup", *backup,
                "First back up the database into the repository (tagged with the transaction); "
                "default rollback.backup_on_begin");
  cmd->callback([&ctx, timeout, reason, backup] {
    if (FleetRequested()) {
      if (*backup) return RefuseFleetFlag(ctx, "--backup");
      return RunFleetBegin(ctx, *timeout, *reason);
    }
    ctx.Execute([&]() -> Status {
      std::optional<Duration> span;
      if (!timeout->empty()) {
        VELIN_ASSIGN(span, ParseDurationArg(*timeout, "--timeout"));
      }
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
      VELIN_ASSIGN(rollback::TransactionRecord t, engine->Begin(span, *reason, *backup));
      if (!t.backup.empty()) ctx.stats().backup_id = t.backup;
      if (ctx.out().json()) ctx.out().Json(TxnJson(t, rollback::UnixMs(ctx.env())));
      return Ok();
    });
  });
}

void AddEnd(CLI::App& group, Context& ctx, const std::string& name, bool commit) {
  CLI::App* cmd = AddCommand(group, name,
                             commit ? "Keep the deployed state and close the transaction"
                                    : "Go back to the transaction's base now");
  auto reason = std::make_shared<std::string>();
  auto restore_data = std::make_shared<bool>(false);
  if (!commit) {
    cmd->add_option("--reason", *reason, "Why (kept in the history)");
    cmd->add_flag("--restore-data", *restore_data,
                  "Also restore the database from the backup taken at begin (writes since "
                  "begin are lost; asks unless --yes)");
  }
  cmd->callback([&ctx, commit, reason, restore_data] {
    if (FleetRequested()) {
      if (*restore_data) return RefuseFleetFlag(ctx, "--restore-data");
      return RunFleetEnd(ctx, commit, *reason);
    }
    ctx.Execute([&]() -> Status {
      if (*restore_data) {
        VELIN_ASSIGN(bool yes,
                     ctx.Confirm(std::string(Tr("Roll back and replace the database with the "
                                                "backup taken at begin, losing the writes made "
                                                "since?"))));
        if (!yes) return CancelledError(std::string(Tr("rollback cancelled; nothing was changed")));
      }
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
      VELIN_ASSIGN(rollback::TransactionEnd end,
                   commit ? engine->Commit() : engine->RollbackNow(*reason, *restore_data));
      if (ctx.out().json()) {
        ctx.out().Json(
            {{"id", end.id},
             {"outcome", end.outcome},
             {"base", end.base},
             {"data", end.data.empty() ? nlohmann::json(nullptr) : nlohmann::json(end.data)}});
      } else if (commit) {
        ctx.out().Done(TrFormat("Transaction {} committed", end.id));
      } else {
        ctx.out().Done(TrFormat("Transaction {} {} (back to {})", end.id,
                                rollback::OutcomeShown(end.outcome), end.base));
      }
      if (!end.data.empty() && !ctx.out().json()) {
        ctx.out().Info(TrFormat("Database: {}", end.data));
      }
      return Ok();
    });
  });
}

void AddExtend(CLI::App& group, Context& ctx) {
  CLI::App* cmd = AddCommand(group, "extend", "Move the open transaction's deadline later");
  auto by = std::make_shared<std::string>();
  cmd->add_option("duration", *by, "How much longer (e.g. 5m)")->required();
  cmd->callback([&ctx, by] {
    ctx.Execute([&]() -> Status {
      VELIN_ASSIGN(Duration d, ParseDurationArg(*by, "extend"));
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
      VELIN_ASSIGN(rollback::TransactionRecord t, engine->Extend(d));
      if (ctx.out().json()) {
        ctx.out().Json(TxnJson(t, rollback::UnixMs(ctx.env())));
      } else {
        ctx.out().Done(
            TrFormat("Transaction {} extended until {}", t.id, rollback::LocalTime(t.deadline_ms)));
      }
      return Ok();
    });
  });
}

void AddStatus(CLI::App& group, Context& ctx) {
  CLI::App* cmd = AddCommand(group, "status", "Show the open transaction and its time left");
  // Runs rollback.migration_status, so only when asked: a status polled by monitoring or a
  // deploy script asks the database nothing, and its lines stay the ones scripts compare.
  auto schema_level = std::make_shared<bool>(false);
  cmd->add_flag("--schema-level", *schema_level,
                "Also show the database's schema level now (runs rollback.migration_status)");
  cmd->callback([&ctx, schema_level] {
    if (FleetRequested()) return RunFleetStatus(ctx);
    ctx.Execute([&]() -> Status {
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
      VELIN_ASSIGN(rollback::TransactionStatus st, engine->Inspect(*schema_level));
      output::Console& out = ctx.out();
      if (out.json()) {
        nlohmann::json doc = {{"current", st.current}, {"transaction", nullptr}};
        // The release directory `current` points at when it is gone, else null.
        doc["current_missing"] = st.current_missing.empty() ? nlohmann::json(nullptr)
                                                            : nlohmann::json(st.current_missing);
        if (st.transaction) doc["transaction"] = TxnJson(*st.transaction, st.now_ms);
        if (st.interrupted_switch) {
          nlohmann::json sw = {{"from", st.interrupted_switch->from},
                               {"to", st.interrupted_switch->to}};
          // A switch in progress (its velin holds the lock) is not interrupted.
          doc[st.switch_running ? "running_switch" : "interrupted_switch"] = sw;
        }
        // With rollback.migration_status: the level now, why it could not be read, the level
        // recorded for the current version; null without it (or without a value).
        auto or_null = [](const std::string& v) {
          return v.empty() ? nlohmann::json(nullptr) : nlohmann::json(v);
        };
        if (st.schema_levels) {
          doc["schema_level"] = or_null(st.live_level);
          doc["schema_level_error"] = or_null(st.level_error);
        }
        doc["recorded_schema_level"] = or_null(st.recorded_level);
        out.Json(doc);
        return Ok();
      }
      // --schema-level: last, after the lines a deploy script compares.
      auto print_level = [&] {
        if (!st.schema_levels) return;
        if (!st.level_error.empty()) {
          out.Line(TrFormat("Schema level: unknown ({})", st.level_error));
        } else if (!st.recorded_level.empty() && st.recorded_level != st.live_level) {
          out.Line(TrFormat("Schema level: {} ({} was recorded at {})", st.live_level, st.current,
                            st.recorded_level));
        } else {
          out.Line(TrFormat("Schema level: {}", st.live_level.empty() ? "-" : st.live_level));
        }
      };
      if (!st.current_missing.empty()) {
        out.Line(
            TrFormat("Current: {} (missing: {} does not exist)", st.current, st.current_missing));
      } else {
        out.Line(TrFormat("Current: {}", st.current.empty() ? "-" : st.current));
      }
      if (st.interrupted_switch && st.switch_running) {
        out.Line(TrFormat("Switch {} {} {} in progress (another velin holds the lock)",
                          st.interrupted_switch->from, Arrow(out), st.interrupted_switch->to));
      } else if (st.interrupted_switch) {
        out.Line(TrFormat("Interrupted switch {} {} {}: run 'velin rollback recover'",
                          st.interrupted_switch->from, Arrow(out), st.interrupted_switch->to));
      }
      if (!st.transaction) {
        out.Line(Tr("No open transaction"));
        print_level();
        return Ok();
      }
      const auto& t = *st.transaction;
      int64_t left = std::max<int64_t>(0, t.deadline_ms - st.now_ms);
      out.Line(TrFormat("Transaction {} ({}), base {}, started {} by {}", t.id,
                        Tr(rollback::TransactionStateName(t.state)), t.base,
                        rollback::LocalTimeOf(t.started), t.user));
      out.Line(TrFormat("Deadline {} ({} left)", rollback::LocalTime(t.deadline_ms),
                        FormatDuration(Duration(left / 1000 * 1000))));
      if (!t.backup.empty()) {
        out.Line(TrFormat("Database backup {} (taken while {} was live)", t.backup, t.version));
      }
      print_level();
      return Ok();
    });
  });
}

void AddRecover(CLI::App& group, Context& ctx) {
  CLI::App* cmd =
      AddCommand(group, "recover", "Finish an interrupted switch or an expired transaction (boot)");
  cmd->callback([&ctx] {
    SkipExpiredTransactionHook() = true;
    ctx.Execute([&]() -> Status {
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
      std::optional<rollback::TransactionEnd> timed_out;
      auto recovered = engine->Recover(&timed_out);
      if (timed_out) {  // [notify]: recover finished what the watchdog could not (a reboot)
        ctx.stats().event = "rollback-timeout";
        ctx.stats().version = timed_out->base;
        ctx.stats().summary = "transaction " + timed_out->id + " " + timed_out->outcome + " (to " +
                              timed_out->base + ")";
        if (!timed_out->data.empty()) ctx.stats().summary += "; database " + timed_out->data;
      }
      VELIN_ASSIGN(auto done, std::move(recovered));
      if (ctx.out().json()) {
        ctx.out().Json({{"actions", done}});
        return Ok();
      }
      if (done.empty()) ctx.out().Done(Tr("Nothing to recover"));
      for (const auto& line : done) ctx.out().Done(line);
      return Ok();
    });
  });
}

// The pipe the arming velin waits on (--ready-fd): "ready" once the watchdog holds its lock, or
// "error: MESSAGE" when something stopped it before; closed after either, or when the process
// ends.
class WatchdogStartPipe {
 public:
  explicit WatchdogStartPipe(int fd) : fd_(fd) {
    if (fd_ >= 0) rollback::SetCloseOnExec(fd_, true);  // no hook or service inherits it
  }
  ~WatchdogStartPipe() { Say(""); }
  WatchdogStartPipe(const WatchdogStartPipe&) = delete;
  WatchdogStartPipe& operator=(const WatchdogStartPipe&) = delete;

  // Writes `text` (nothing when empty) and closes the pipe; later calls do nothing.
  void Say(const std::string& text) {
    if (fd_ < 0) return;
    for (size_t done = 0; done < text.size();) {
      ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the arming velin is gone: nobody to tell
      done += static_cast<size_t>(n);
    }
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

void AddWatchdog(CLI::App& group, Context& ctx) {
  CLI::App* cmd = AddCommand(group, "watchdog", "");  // hidden: the transaction's timer
  cmd->group("");
  auto id = std::make_shared<std::string>();
  auto lock_fd = std::make_shared<int>(-1);
  auto ready_fd = std::make_shared<int>(-1);
  cmd->add_option("--transaction", *id)->required();
  cmd->add_option("--lock-fd", *lock_fd);    // the held watchdog lock, inherited
  cmd->add_option("--ready-fd", *ready_fd);  // where to say it runs (WatchdogStartPipe)
  cmd->callback([&ctx, id, lock_fd, ready_fd] {
    SkipExpiredTransactionHook() = true;
    ctx.Execute([&]() -> Status {
      WatchdogStartPipe started(*ready_fd);
      auto made = MakeRollbackEngine(ctx);
      if (!made) {
        started.Say("error: " + made.error().message + "\n");
        return tl::unexpected(made.error());
      }
      auto end = (*made)->RunWatchdog(*id, *lock_fd, [&] { started.Say("ready\n"); });
      if (!end) started.Say("error: " + end.error().message + "\n");
      // [notify]: the deadline passed and the watchdog rolled back, or failed to.
      if (!end) {
        ctx.stats().event = "rollback-timeout";
        return tl::unexpected(end.error());
      }
      if (*end && (*end)->outcome == "rolled back by timeout") {
        ctx.stats().event = "rollback-timeout";
        ctx.stats().version = (*end)->base;
        ctx.stats().summary =
            "transaction " + (*end)->id + " " + (*end)->outcome + " (to " + (*end)->base + ")";
        if (!(*end)->data.empty()) ctx.stats().summary += "; database " + (*end)->data;
      }
      return Ok();
    });
  });
}

}  // namespace

void RegisterRollbackTransactionCommands(CLI::App& group, Context& ctx) {
  AddBegin(group, ctx);
  AddEnd(group, ctx, "commit", true);
  AddEnd(group, ctx, "rollback", false);
  AddExtend(group, ctx);
  AddStatus(group, ctx);
  AddRecover(group, ctx);
  AddWatchdog(group, ctx);
}

}  // namespace velin::cli
