// velin backup status: the newest backup and its age, the repository's size and object
// counts, the open locks and the last verify — and exit 1 when the newest backup is older than
// monitor.max_age, or (with monitor.max_verify_age set) no successful verify is recorded
// within it. Takes no lock, so it also works while a prune holds the exclusive one.
#include <fmt/format.h>

#include "backup_common.hpp"
#include "velin/backup/verify_record.hpp"
#include "velin/core/duration.hpp"
#include "velin/core/i18n.hpp"
#include "velin/output/console.hpp"

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

Status RunStatus(Context& ctx, const RepoFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(OpenRepo r, OpenRepositoryUnlocked(ctx, flags, false));
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(ctx.env().Now().time_since_epoch()).count();
  std::vector<repo::ObjectDamage> damage;
  VELIN_ASSIGN(auto snapshots, r.repo->LoadAllSnapshots(&damage));
  nlohmann::json counts = nlohmann::json::object();
  uint64_t size = 0;
  for (const char* prefix : {"data/", "index/", "snapshots/", "locks/"}) {
    VELIN_ASSIGN(Counts c, CountObjects(*r.backend, prefix));
    counts[std::string(prefix, std::strlen(prefix) - 1)] = c.objects;
    size += c.bytes;
  }
  VELIN_ASSIGN(auto locks, repo::ListLocks(*r.backend, std::chrono::seconds(1800), now));
  VELIN_ASSIGN(auto verify, backup::LoadVerifyRecord(*r.backend));

  std::vector<std::string> problems;
  const repo::Snapshot* newest = nullptr;
  for (const auto& s : snapshots) {
    if (newest == nullptr || s.unix_time >= newest->unix_time) newest = &s;
  }
  const int64_t max_age = cfg->monitor.max_age.count() / 1000;
  if (newest == nullptr) {
    problems.emplace_back(Tr("the repository holds no backup"));
  } else if (max_age > 0 && now - newest->unix_time > max_age) {
    problems.push_back(TrFormat("the newest backup {} is {} old (monitor.max_age is {})",
                                newest->id, Age(now - newest->unix_time),
                                FormatDuration(cfg->monitor.max_age)));
  }
  const int64_t max_verify = cfg->monitor.max_verify_age.count() / 1000;
  const int64_t verified = verify ? verify->last_ok_time : 0;
  if (max_verify > 0 && (verified == 0 || now - verified > max_verify)) {
    problems.push_back(
        verified == 0
            ? TrFormat("no successful verify is recorded (monitor.max_verify_age is {})",
                       FormatDuration(cfg->monitor.max_verify_age))
            : TrFormat("the last successful verify was {} ago (monitor.max_verify_age is {})",
                       Age(now - verified), FormatDuration(cfg->monitor.max_verify_age)));
  }
  for (const auto& d : damage) problems.push_back(d.object + ": " + d.message);

  output::Console& out = ctx.out();
  if (out.json()) {
    nlohmann::json lock_list = nlohmann::json::array();
    for (const auto& l : locks) {
      lock_list.push_back({{"name", l.name},
                           {"host", l.host},
                           {"pid", l.pid},
                           {"kind", l.kind},
                           {"age_seconds", now - l.time},
                           {"stale", l.stale}});
    }
    nlohmann::json newest_json = nullptr;
    if (newest != nullptr) {
      newest_json = {
          {"id", newest->id}, {"time", newest->time}, {"age_seconds", now - newest->unix_time}};
    }
    nlohmann::json verify_json = nullptr;
    if (verify) {
      verify_json = {{"last_time", verify->last_time},
                     {"last_ok", verify->last_ok},
                     {"last_ok_time", verify->last_ok_time}};
    }
    out.Json({{"ok", problems.empty()},
              {"problems", problems},
              {"repository", r.backend->Location()},
              {"backups", snapshots.size()},
              {"newest", newest_json},
              {"size_bytes", size},
              {"objects", counts},
              {"locks", lock_list},
              {"verify", verify_json}});
  } else {
    out.Line(TrFormat("Repository: {} ({}, {} packs, {} index objects)", r.backend->Location(),
                      output::FormatBytes(size), counts["data"].get<size_t>(),
                      counts["index"].get<size_t>()));
    out.Line(TrFormat("Backups: {}", snapshots.size()));
    if (newest != nullptr) {
      out.Line(TrFormat("Newest: {} ({} ago)", newest->id, Age(now - newest->unix_time)));
    }
    if (verify) {
      out.Line(TrFormat("Last verify: {} ago, {}", Age(now - verify->last_time),
                        verify->last_ok ? Tr("intact") : Tr("FAILED")));
    }
    for (const auto& l : locks) {
      out.Line(TrFormat("Lock: {} lock by host {} pid {}, {} ago{}", l.kind, l.host, l.pid,
                        Age(now - l.time), l.stale ? Tr(" (stale)") : ""));
    }
    for (size_t i = 1; i < problems.size(); ++i) out.Warn(problems[i]);  // [0]: the error line
    if (problems.empty()) out.Done(Tr("Backups are up to date"));
  }
  if (!problems.empty()) return Failure(problems.front());
  return Ok();
}

}  // namespace

void RegisterBackupStatus(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<RepoFlags>();
  CLI::App* cmd = AddCommand(group, "status", "Show the newest backup, repository size and locks");
  cmd->add_option("--destination", flags->destination,
                  "Repository directory or URL (default: backup.destination)");
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunStatus(ctx, *flags); }); });
}

}  // namespace velin::cli
