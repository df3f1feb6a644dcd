// velin backup status [--host NAME] [--app NAME] [--all]: the newest backup of this host and
// app (or of the chosen ones) and its age, the repository's size and object
// counts, the open locks and the last verify — and exit 1 when the newest backup is older than
// monitor.max_age, or (with monitor.max_verify_age set) no successful verify is recorded
// within it, or an include path of the newest backup holds no files (unless listed in
// backup.allow_empty). Takes no lock, so it also works while a prune holds the exclusive one.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "backup_common.hpp"
#include "backup_db.hpp"
#include "velin/backup/verify_record.hpp"
#include "velin/core/duration.hpp"
#include "velin/core/i18n.hpp"
#include "velin/io/env.hpp"
#include "velin/output/console.hpp"
#include "velin/repo/lock.hpp"

namespace velin::cli {
namespace {

struct Counts {
  size_t objects = 0;
  uint64_t bytes = 0;
};

Result<Counts> CountObjects(storage::Backend& backend, const std::string& prefix) {
  VELIN_ASSIGN(auto objects, backend.List(prefix));
  Counts c;
  for (const auto& o : objects) {
    ++c.objects;
    c.bytes += o.size;
  }
  return c;
}

std::string Age(int64_t seconds) {
  return FormatDuration(std::chrono::seconds(std::max<int64_t>(0, seconds)));
}

// True when `time` (Unix seconds) is after `now` by more than the clocks of two machines may
// differ (repo::kClockSkew): a clock was wrong.
bool Ahead(int64_t now, int64_t time) {
  return time - now > std::chrono::duration_cast<std::chrono::seconds>(repo::kClockSkew).count();
}

// What status found, and what is wrong with it.
struct Facts {
  int64_t now = 0;
  std::string location;
  repo::SnapshotFilter filter;
  std::vector<repo::Snapshot> snapshots;      // the ones the filter selects
  size_t all_snapshots = 0;                   // in the repository, of every host and app
  const repo::Snapshot* newest = nullptr;     // the newest not dated after now (kClockSkew)
  std::vector<const repo::Snapshot*> future;  // dated after now: a clock is or was wrong
  std::vector<std::string> warnings;
  nlohmann::json counts = nlohmann::json::object();
  uint64_t size = 0;
  std::vector<repo::LockInfo> locks;
  std::optional<backup::VerifyRecord> verify;
  std::vector<std::string> problems;
};

struct StatusFlags {
  RepoFlags repo;
  SelectFlags select;
};

Result<Facts> Gather(Context& ctx, const StatusFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  Facts f;
  VELIN_ASSIGN(f.filter, FilterOf(*cfg, flags.select));
  VELIN_ASSIGN(OpenRepo r, OpenRepositoryUnlocked(ctx, flags.repo, false));
  f.now =
      std::chrono::duration_cast<std::chrono::seconds>(ctx.env().Now().time_since_epoch()).count();
  f.location = r.backend->Location();
  std::vector<repo::ObjectDamage> damage;
  VELIN_ASSIGN(auto all, r.repo->LoadAllSnapshots(&damage));
  f.all_snapshots = all.size();
  for (auto& s : all) {
    if (f.filter.Matches(s)) f.snapshots.push_back(std::move(s));
  }
  for (const auto& d : damage) f.problems.push_back(d.message);  // "snapshot ID: why"
  for (const char* prefix : {"data/", "index/", "snapshots/", "locks/"}) {
    VELIN_ASSIGN(Counts c, CountObjects(*r.backend, prefix));
    f.counts[std::string(prefix, std::strlen(prefix) - 1)] = c.objects;
    f.size += c.bytes;
  }
  VELIN_ASSIGN(repo::LockListing listing,
               repo::ListLocks(ctx.env(), *r.backend, std::chrono::seconds(1800), f.now));
  f.locks = std::move(listing.locks);
  if (!listing.clock_error.empty()) {
    f.warnings.push_back(repo::StorageClockUnread(listing.clock_error));
  }
  // The verifies of the backups status judges: another app's verify of a shared repository
  // neither counts as theirs nor clears their alarm.
  VELIN_ASSIGN(auto record, backup::LoadVerifyRecord(*r.backend));
  if (record) f.verify = backup::VerifyRecordFor(*record, f.filter);
  return f;
}

// Problems first in the list are the ones the exit status reports.
// Whether `include` holds the SQLite database whose dump `s` holds: a backup leaves the
// database's own files out of the walk (docs/databases.md#sqlite), so an include holding
// nothing else holds no files, as expected.
bool HoldsDumpedDatabase(const config::Config& cfg, const repo::Snapshot& s,
                         const std::string& include) {
  for (const config::DatabaseRef& d : DatabasesOf(cfg, s)) {  // "db", "db:NAME"
    const repo::SnapshotSource* db = s.FindSource(d.source);
    if (d.section == nullptr || d.section->driver != "sqlite" ||
        db->metadata.value("status", "ok") != "ok") {
      continue;
    }
    const std::optional<std::string> file = SqliteFileInApp(cfg, d.source);  // resolved paths
    if (file && file->starts_with(include + "/")) return true;
  }
  return false;
}

void Judge(const config::Config& cfg, Facts& f) {
  const config::MonitorSection& m = cfg.monitor;
  std::vector<std::string> problems;
  // A backup dated after now does not show that backups are being made: one made by a clock a
  // year ahead kept status "0s ago, up to date" for a year after backups had stopped. The age
  // is judged on the others; those are named.
  const std::chrono::system_clock::time_point now{std::chrono::seconds(f.now)};
  for (const auto& s : f.snapshots) {
    if (repo::DatedInTheFuture(s, now)) {
      f.future.push_back(&s);
    } else if (f.newest == nullptr || repo::SnapshotNewer(s, *f.newest)) {
      f.newest = &s;
    }
  }
  std::sort(f.future.begin(), f.future.end(),
            [](const repo::Snapshot* a, const repo::Snapshot* b) { return SnapshotNewer(*b, *a); });
  const int64_t max_age = m.max_age.count() / 1000;
  if (!f.future.empty()) {
    f.warnings.push_back(TrFormat(
        "{} backup(s) are dated after this machine's clock (first: {} at {}): a clock was wrong "
        "when they were made, or is wrong now; the newest backup's age is judged without them",
        f.future.size(), f.future.front()->id,
        output::FormatLocalTime(f.future.front()->unix_time)));
  }
  if (f.newest == nullptr && f.all_snapshots == 0) {
    problems.emplace_back(Tr("the repository holds no backup"));
  } else if (f.newest == nullptr && !f.future.empty()) {
    problems.push_back(TrFormat(
        "every backup of host '{}', app '{}' is dated after this machine's clock ({}): is the "
        "clock wrong?",
        f.filter.host, f.filter.app, output::FormatLocalTime(f.now)));
  } else if (f.newest == nullptr) {
    problems.push_back(
        TrFormat("the repository holds no backup of host '{}', app '{}' ({} of "
                 "other hosts or apps)",
                 f.filter.host, f.filter.app, f.all_snapshots));
  } else if (max_age > 0 && f.now - f.newest->unix_time > max_age) {
    problems.push_back(TrFormat("the newest backup {} is {} old (monitor.max_age is {})",
                                f.newest->id, Age(f.now - f.newest->unix_time),
                                FormatDuration(m.max_age)));
  }
  // An include that held no files (a NAS that was not mounted) is a backup that saved nothing.
  if (f.newest != nullptr) {
    const auto& allowed = cfg.backup.allow_empty;
    for (const auto& src : f.newest->sources) {
      if (src.kind == repo::SourceKind::kPath && src.files == 0 &&
          std::find(allowed.begin(), allowed.end(), src.name) == allowed.end() &&
          !HoldsDumpedDatabase(cfg, *f.newest, src.name)) {
        problems.push_back(TrFormat(
            "the newest backup {} holds no files of '{}' (list it in backup.allow_empty if "
            "that is expected)",
            f.newest->id, src.name));
      }
    }
  }
  const int64_t max_verify = m.max_verify_age.count() / 1000;
  const int64_t verified = f.verify ? f.verify->last_ok_time : 0;
  // A verify dated after now says nothing of when backups were last verified: one recorded by
  // a clock a year ahead read "0s ago" and kept max_verify_age quiet for that year. It counts as
  // none, as backups dated after now count for nothing in the age above.
  const bool verified_ahead = verified != 0 && Ahead(f.now, verified);
  if (verified_ahead) {
    f.warnings.push_back(TrFormat(
        "the last successful verify is dated {}, after this machine's clock: a clock was wrong "
        "when it ran, or is wrong now; it counts as no verify",
        output::FormatLocalTime(verified)));
  }
  if (max_verify > 0 && verified_ahead) {
    problems.push_back(TrFormat(
        "no successful verify is recorded before this machine's clock (monitor.max_verify_age "
        "is {})",
        FormatDuration(m.max_verify_age)));
  } else if (max_verify > 0 && (verified == 0 || f.now - verified > max_verify)) {
    problems.push_back(
        verified == 0
            ? TrFormat("no successful verify is recorded (monitor.max_verify_age is {})",
                       FormatDuration(m.max_verify_age))
            : TrFormat("the last successful verify was {} ago (monitor.max_verify_age is {})",
                       Age(f.now - verified), FormatDuration(m.max_verify_age)));
  }
  // A verify that found damage stays a problem until one finds none: one successful verify
  // earlier kept status "up to date" for the whole max_verify_age after the damage was found.
  if (f.verify && f.verify->last_time != 0 && !f.verify->last_ok) {
    problems.push_back(TrFormat(
        "the last verify, {} ago, found damage (`velin backup verify --all` names it; status is "
        "good again once a verify finds none)",
        Age(f.now - f.verify->last_time)));
  }
  problems.insert(problems.end(), f.problems.begin(), f.problems.end());
  f.problems = std::move(problems);
}

nlohmann::json ToJson(const Facts& f) {
  nlohmann::json lock_list = nlohmann::json::array();
  for (const auto& l : f.locks) {
    lock_list.push_back({{"name", l.name},
                         {"objects", l.objects},
                         {"host", l.host},
                         {"pid", l.pid},
                         {"kind", l.kind},
                         {"age_seconds", l.age >= 0 ? nlohmann::json(l.age) : nullptr},
                         {"ahead_seconds", l.ahead},
                         {"readable", l.readable},
                         {"stale", l.stale}});
  }
  nlohmann::json newest = nullptr;
  if (f.newest != nullptr) {
    newest = {{"id", f.newest->id},
              {"host", f.newest->host},
              {"app", f.newest->app},
              {"time", output::FormatUtcTime(f.newest->unix_time)},
              // 0 for one up to kClockSkew ahead (two clocks a little apart), as the
              // human line's "0s ago"; one further ahead is never the newest (`future`).
              {"age_seconds", std::max<int64_t>(0, f.now - f.newest->unix_time)}};
  }
  nlohmann::json verify = nullptr;
  if (f.verify) {
    // last_time and last_ok_time are Unix seconds (kept for scripts that read them); the
    // *_utc strings are the RFC 3339 times every other JSON time is (docs/cli.md, "Times").
    auto utc = [](int64_t t) { return t > 0 ? nlohmann::json(output::FormatUtcTime(t)) : nullptr; };
    verify = {{"last_time", f.verify->last_time},
              {"last_time_utc", utc(f.verify->last_time)},
              {"last_ok", f.verify->last_ok},
              {"last_ok_time", f.verify->last_ok_time},
              {"last_ok_time_utc", utc(f.verify->last_ok_time)}};
  }
  const nlohmann::json host =
      f.filter.all ? nlohmann::json(nullptr) : nlohmann::json(f.filter.host);
  const nlohmann::json app = f.filter.all ? nlohmann::json(nullptr) : nlohmann::json(f.filter.app);
  nlohmann::json future = nlohmann::json::array();
  for (const repo::Snapshot* s : f.future) future.push_back(s->id);
  return {{"ok", f.problems.empty()},
          {"problems", f.problems},
          {"repository", f.location},
          {"host", host},
          {"app", app},
          {"backups", f.snapshots.size()},
          {"backups_all", f.all_snapshots},
          {"newest", newest},
          {"future", future},
          {"size_bytes", f.size},
          {"objects", f.counts},
          {"locks", lock_list},
          {"verify", verify}};
}

void PrintHuman(output::Console& out, const Facts& f) {
  out.Line(
      TrFormat("Repository: {} ({}, {}, {})", f.location, output::FormatBytes(f.size),
               TrCounted(f.counts["data"].get<size_t>(), "{} pack", "{} packs"),
               TrCounted(f.counts["index"].get<size_t>(), "{} index object", "{} index objects")));
  if (f.filter.all) {
    out.Line(TrFormat("Backups: {}", f.snapshots.size()));
  } else {
    out.Line(TrFormat("Backups of host {}, app {}: {} (of {} in the repository)", f.filter.host,
                      f.filter.app.empty() ? "''" : f.filter.app, f.snapshots.size(),
                      f.all_snapshots));
  }
  if (f.newest != nullptr) {
    out.Line(TrFormat("Newest: {} ({} ago)", f.newest->id, Age(f.now - f.newest->unix_time)));
  }
  if (f.verify && Ahead(f.now, f.verify->last_time)) {
    out.Line(TrFormat("Last verify: {} (after this machine's clock), {}",
                      output::FormatLocalTime(f.verify->last_time),
                      f.verify->last_ok ? Tr("intact") : Tr("FAILED")));
  } else if (f.verify) {
    out.Line(TrFormat("Last verify: {} ago, {}", Age(f.now - f.verify->last_time),
                      f.verify->last_ok ? Tr("intact") : Tr("FAILED")));
  }
  for (const auto& l : f.locks) {
    // A lock dated in the future (a wrong clock) says so; its age is then its holder's time, or
    // unknown (docs/repository-format.md, "Locks").
    std::string tail = l.stale ? std::string(Tr(" (stale)")) : "";
    if (l.ahead > 0) tail += ", " + repo::LockDatedAhead(l.ahead);
    if (!l.readable) {
      out.Line(l.age >= 0 ? TrFormat("Lock: {} is unreadable (not a lock this velin can read), "
                                     "{} old{}",
                                     l.name, Age(l.age), tail)
                          : TrFormat("Lock: {} is unreadable (not a lock this velin can read), "
                                     "of unknown age{}",
                                     l.name, tail));
      continue;
    }
    out.Line(l.age >= 0 ? TrFormat("Lock: {} lock by host {} pid {}, {} ago{}", Tr(l.kind), l.host,
                                   l.pid, Age(l.age), tail)
                        : TrFormat("Lock: {} lock by host {} pid {}, of unknown age{}", Tr(l.kind),
                                   l.host, l.pid, tail));
  }
  for (size_t i = 1; i < f.problems.size(); ++i) out.Warn(f.problems[i]);  // [0]: the error
  for (const auto& w : f.warnings) out.Warn(w);
  if (f.problems.empty()) out.Done(Tr("Backups are up to date"));
}

Status RunStatus(Context& ctx, const StatusFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(Facts facts, Gather(ctx, flags));
  Judge(*cfg, facts);
  if (ctx.out().json()) {
    // One document on every path: a failing status carries its error in it, as Fail() would.
    nlohmann::json doc = ToJson(facts);
    if (!facts.problems.empty()) {
      doc["error"] = {{"message", facts.problems.front()},
                      {"exit_code", static_cast<int>(ExitCode::kFailed)}};
    }
    ctx.out().Json(doc);
    for (const auto& w : facts.warnings) ctx.out().Warn(w);
  } else {
    PrintHuman(ctx.out(), facts);
  }
  if (!facts.problems.empty()) return Failure(facts.problems.front());
  return Ok();
}

}  // namespace

void RegisterBackupStatus(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<StatusFlags>();
  CLI::App* cmd = AddCommand(group, "status", "Show the newest backup, repository size and locks");
  cmd->add_option("--destination", flags->repo.destination,
                  "Repository directory or URL (default: backup.destination)");
  AddSelectFlags(cmd, flags->select, true);
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunStatus(ctx, *flags); }); });
}

}  // namespace velin::cli
