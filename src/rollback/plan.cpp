// Choosing a switch's target ("previous"), planning a switch without making it (--dry-run), and
// the failed mark a switch leaves on its target. Everything here only reads, except
// NoteSwitchOutcome, which rewrites registry.json under the caller's lock.
#include <map>

#include "service.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/url_password.hpp"
#include "velin/rollback/engine.hpp"
#include "velin/rollback/release.hpp"

namespace velin::rollback {
namespace {

// The entries of `entries` at or below the configured path `rel`, by path.
std::map<std::string, const ManifestEntry*> Below(const std::vector<ManifestEntry>& entries,
                                                  const std::string& rel) {
  std::map<std::string, const ManifestEntry*> out;
  for (const auto& e : entries) {
    if (e.path == rel || e.path.rfind(rel + "/", 0) == 0) out.emplace(e.path, &e);
  }
  return out;
}

bool SameEntry(const ManifestEntry& a, const ManifestEntry& b) {
  return a.type == b.type && a.mode == b.mode && a.size == b.size && a.sha256 == b.sha256 &&
         a.target == b.target;
}

std::string Shown(const ManifestEntry& e) {
  return e.type == io::FileType::kDirectory ? e.path + "/" : e.path;
}

}  // namespace

Result<std::string> RollbackEngine::ResolveTarget(const std::string& name, const Registry& reg,
                                                  const std::string& live) {
  std::string target = name;
  if (name == kPreviousVersion) {
    if (live.empty()) {
      return UsageError(TrFormat("'previous' needs a live version, but {} does not point at one",
                                 settings_.current_link));
    }
    VELIN_ASSIGN(auto history, ReadHistoryForUse());
    std::string before;
    for (auto it = history.rbegin(); it != history.rend(); ++it) {
      bool switched = (it->action == "switch" || it->action == "rollback") &&
                      it->outcome == "switched" && !it->from.empty();
      if (switched && it->to == live && it->from != live) {
        before = it->from;
        break;
      }
    }
    if (before.empty()) {
      return UsageError(TrFormat(
          "no version was live before {}: the history has no switch to it from another version",
          live));
    }
    if (reg.Find(before) == nullptr) {
      return UsageError(
          TrFormat("the version live before {}, {}, is no longer kept (pruned or replaced; see "
                   "velin rollback history)",
                   live, before));
    }
    target = before;
  }
  if (reg.Find(target) == nullptr) {
    return UsageError(TrFormat("no version '{}' (see velin rollback list)", target));
  }
  VELIN_ASSIGN(bool exists, env_.Exists(settings_.current_link));
  if (exists) {
    VELIN_ASSIGN(io::FileInfo info, env_.Stat(settings_.current_link));
    if (info.type != io::FileType::kSymlink) {
      return UsageError(
          TrFormat("{} is not a symlink (plain files): run 'velin rollback adopt' first",
                   settings_.current_link));
    }
    if (live.empty()) {
      // A link velin never made: replaced, its target would be recorded nowhere, and a failed
      // health check would have nothing to switch back to. adopt stores what it points at.
      VELIN_ASSIGN(std::string points_at, env_.ReadLink(settings_.current_link));
      return UsageError(TrFormat(
          "{} is a symlink to {}, which is not one of velin's releases: run 'velin rollback "
          "adopt' first (it stores what the link points at as a snapshot to switch back to)",
          settings_.current_link, points_at));
    }
  }
  return target;
}

void RollbackEngine::NoteSwitchOutcome(const std::string& target, const Status& outcome) {
  bool health_failed = !outcome && outcome.error().code == ExitCode::kHealthFailed;
  if (!outcome && !health_failed) return;  // another step failed: says nothing about health
  Status saved = [&]() -> Status {
    VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
    VersionRecord* v = reg.Find(target);
    if (v == nullptr) return Ok();
    std::string mark = health_failed ? IsoTime(UnixMs(env_)) : "";
    if (v->failed.empty() && mark.empty()) return Ok();
    v->failed = mark;
    return SaveRegistry(env_, layout_, reg);
  }();
  if (!saved) {
    reporter_.Warn(TrFormat("could not record the outcome of the switch to {}: {}", target,
                            saved.error().message));
  }
}

Result<SwitchPlan> RollbackEngine::PlanSwitch(const std::string& name) {
  SwitchPlan plan;
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  VELIN_ASSIGN(plan.from, LiveCurrent());
  VELIN_TRY(RefuseInterruptedSwitch());  // the same refusal as to-version
  VELIN_ASSIGN(plan.to, ResolveTarget(name, reg, plan.from));
  const VersionRecord& to = *reg.Find(plan.to);
  const VersionRecord* from = reg.Find(plan.from);
  plan.to_kind = to.kind;
  plan.older = from != nullptr && to.seq < from->seq;
  // As shown: a URL's password never is.
  plan.stop = MaskUrlPasswords(settings_.stop);
  plan.start = MaskUrlPasswords(settings_.start);
  plan.health = MaskUrlPasswords(settings_.health);
  plan.health_timeout = settings_.health_timeout;
  plan.target_failed = to.failed;
  VELIN_ASSIGN(auto txn, LoadTransaction(env_, layout_));
  if (txn && (txn->state != TransactionState::kOpen || UnixMs(env_) >= txn->deadline_ms)) {
    plan.expired_transaction = txn;
  }

  // What the switch's check of the target would find and put back (CheckTargetRelease).
  // A release it would refuse (files deleted that nothing can put back) is refused here too.
  if (auto check = CheckVersion(env_, layout_, reg, to.name, false)) {
    if (!check->unreadable_config.empty()) {
      return tl::unexpected(
          UnreadableConfigError(to.name, *check, plan.from, PartialReleaseUse::kSwitch));
    }
    if (!check->lost.empty()) {
      return tl::unexpected(
          PartialReleaseError(to.name, check->lost, plan.from, PartialReleaseUse::kSwitch));
    }
    plan.release_changed = std::move(check->changed);
    plan.release_missing = std::move(check->missing);
    plan.release_mendable = check->mended;
    plan.release_unreadable = std::move(check->unreadable);
    plan.release_unreadable_reason = check->unreadable_reason;
  } else {
    VELIN_ASSIGN(bool exists, env_.Exists(layout_.Release(to.name)));
    if (!exists) {
      return tl::unexpected(PartialReleaseError(to.name, {layout_.Release(to.name)}, plan.from,
                                                PartialReleaseUse::kSwitch));
    }
  }

  if (to.kind == VersionKind::kSnapshot) {  // what RestoreTree would do, path by path
    VELIN_ASSIGN(Manifest stored, LoadManifest(env_, layout_.Manifest(to.name)));
    VELIN_ASSIGN(auto live, ScanTree(env_, settings_.app_root, settings_.config, false));
    for (std::string rel : settings_.config) {
      while (!rel.empty() && rel.back() == '/') rel.pop_back();
      auto want = Below(stored.config, rel);
      if (want.empty()) continue;  // the snapshot does not hold it: left alone
      auto have = Below(live, rel);
      for (const auto& [path, e] : want) {
        auto it = have.find(path);
        if (it == have.end()) {
          plan.config_added.push_back(Shown(*e));
        } else if (!SameEntry(*e, *it->second)) {
          plan.config_changed.push_back(Shown(*e));
        }
      }
      for (const auto& [path, e] : have) {
        if (want.count(path) == 0) plan.config_removed.push_back(Shown(*e));
      }
    }
  }

  // The schema decision of the switch itself (switch.cpp, ApplySteps).
  plan.target_level = to.schema_level;
  plan.live_level = from != nullptr ? from->schema_level : "";
  VELIN_ASSIGN(std::string level_now, SchemaLevel(settings_));
  if (!level_now.empty()) plan.live_level = level_now;
  if (!to.schema_level.empty() && !plan.live_level.empty() &&
      LevelBelow(to.schema_level, plan.live_level, plan.older)) {
    if (settings_.migrate_down.empty()) {
      plan.migrate_warning = TrFormat(
          "schema level {} is below the live level {} and no rollback.migrate_down is "
          "configured; the database stays as it is",
          to.schema_level, plan.live_level);
    } else {
      plan.migrate_down = true;
    }
  } else if (plan.older && settings_.migrate_down.empty() && settings_.database_configured &&
             to.schema_level.empty()) {
    plan.migrate_warning =
        Tr("going back to an older version while a [database] is configured, but "
           "rollback.migrate_down is not set: the schema is not migrated down");
  }
  return plan;
}

}  // namespace velin::rollback
