#include "velin/backup/verify_record.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "velin/core/json_int.hpp"

namespace velin::backup {

namespace {

std::vector<repo::BlobId> Without(std::vector<repo::BlobId> from, std::vector<repo::BlobId> ids) {
  std::sort(ids.begin(), ids.end());
  std::erase_if(
      from, [&](const repo::BlobId& id) { return std::binary_search(ids.begin(), ids.end(), id); });
  return from;
}

Status WriteRecord(storage::Backend& backend, const VerifyRecord& r) {
  nlohmann::json damaged = nlohmann::json::array();
  for (const auto& id : r.damaged_packs) damaged.push_back(id.Hex());
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : r.groups) {
    groups.push_back({{"host", g.host},
                      {"app", g.app},
                      {"last_time", g.last_time},
                      {"last_ok", g.last_ok},
                      {"last_ok_time", g.last_ok_time},
                      {"failed_newest", g.failed_newest}});
  }
  nlohmann::json j = {{"last_time", r.last_time},       {"last_ok", r.last_ok},
                      {"last_backups", r.last_backups}, {"last_restore_test", r.last_restore_test},
                      {"last_ok_time", r.last_ok_time}, {"damaged_packs", std::move(damaged)},
                      {"groups", std::move(groups)}};
  return backend.Put(kVerifyRecordObject, j.dump() + "\n");
}

}  // namespace

Result<std::optional<VerifyRecord>> LoadVerifyRecord(storage::Backend& backend) {
  VELIN_ASSIGN(std::optional<std::string> text, repo::ReadVerifyRecordText(backend));
  if (!text) return std::optional<VerifyRecord>();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::optional<VerifyRecord>();
  // A record with a value of the wrong type or range counts as no record, like one that does
  // not parse: it only says when verify last ran. A malformed damaged_packs is an empty one.
  VerifyRecord r;
  try {
    r.last_time = JsonIntOr<int64_t>(j, "last_time", 0);
    r.last_ok = j.value("last_ok", false);
    r.last_backups = JsonIntOr<size_t>(j, "last_backups", 0);
    r.last_restore_test = j.value("last_restore_test", false);
    r.last_ok_time = JsonIntOr<int64_t>(j, "last_ok_time", 0);
  } catch (const nlohmann::json::exception&) {
    return std::optional<VerifyRecord>();
  }
  r.damaged_packs = repo::DamagedPacksIn(j);
  // Groups: a malformed list (not an array: an object, null), or a malformed entry, counts as
  // none (status then asks for a verify of its own: an alarm, never a false "intact"). Only a
  // record without the key is an older velin's, judged by the repository-wide fields.
  if (auto g = j.find("groups"); g != j.end()) {
    r.has_groups = true;
    if (!g->is_array()) return std::optional<VerifyRecord>(std::move(r));
    try {
      for (const auto& e : *g) {
        if (r.groups.size() >= kMaxVerifyGroups) break;
        if (!e.is_object()) continue;
        VerifyRecord::Group group;
        group.host = e.at("host").get<std::string>();
        group.app = e.at("app").get<std::string>();
        group.last_time = JsonIntOr<int64_t>(e, "last_time", 0);
        group.last_ok = e.value("last_ok", false);
        group.last_ok_time = JsonIntOr<int64_t>(e, "last_ok_time", 0);
        group.failed_newest = JsonIntOr<int64_t>(e, "failed_newest", 0);
        r.groups.push_back(std::move(group));
      }
    } catch (const nlohmann::json::exception&) {
      r.groups.clear();
    }
  }
  return std::optional<VerifyRecord>(std::move(r));
}

Status RecordVerify(storage::Backend& backend, int64_t now, bool ok, size_t backups,
                    bool restore_test, const PackVerdicts& packs,
                    const std::vector<VerifiedGroup>& covered) {
  auto previous = LoadVerifyRecord(backend);
  VerifyRecord r;
  if (previous && *previous) r = std::move(**previous);
  r.last_time = now;
  r.last_ok = ok;
  r.last_backups = backups;
  r.last_restore_test = restore_test;
  if (ok) r.last_ok_time = now;
  // Every group the verify covered gets its outcome (a problem anywhere in it fails each: the
  // damage may be shared). An older velin's record had none: those groups start here.
  r.has_groups = true;
  for (const auto& c : covered) {
    auto g = std::find_if(r.groups.begin(), r.groups.end(), [&](const VerifyRecord::Group& x) {
      return x.host == c.host && x.app == c.app;
    });
    if (g == r.groups.end()) {
      if (r.groups.size() >= kMaxVerifyGroups) continue;
      g = r.groups.insert(r.groups.end(), VerifyRecord::Group{.host = c.host, .app = c.app});
    }
    const bool failing = g->last_time != 0 && !g->last_ok;
    if (ok && failing && c.newest < g->failed_newest) {
      // A pass of backups older than the one a verify found damaged: the failure stays (its
      // time and outcome with it, as status reports them); it is a successful verify still.
      g->last_ok_time = now;
      continue;
    }
    g->last_time = now;
    g->last_ok = ok;
    if (ok) {
      g->last_ok_time = now;
      g->failed_newest = 0;
    } else {
      g->failed_newest = failing ? std::max(g->failed_newest, c.newest) : c.newest;
    }
  }
  r.damaged_packs = Without(std::move(r.damaged_packs), packs.whole);
  // A pack gone is recorded as a damaged one: `create` and `copy` into an SFTP/FTP repository
  // do not list the packs (repo::Repository::PackCheck::kDamaged), and only so do they learn
  // not to point a new backup at it. The index still lists it until a prune rewrites it, which
  // then takes it off (ForgetDamagedPacks).
  for (const auto* found : {&packs.damaged, &packs.gone}) {
    for (const auto& id : *found) {
      if (r.damaged_packs.size() >= repo::kMaxDamagedPacks) break;  // a bound for the readers
      r.damaged_packs.push_back(id);
    }
  }
  std::sort(r.damaged_packs.begin(), r.damaged_packs.end());
  r.damaged_packs.erase(std::unique(r.damaged_packs.begin(), r.damaged_packs.end()),
                        r.damaged_packs.end());
  return WriteRecord(backend, r);
}

std::optional<VerifyRecord> VerifyRecordFor(const VerifyRecord& record,
                                            const repo::SnapshotFilter& filter) {
  if (!record.has_groups) return record;
  std::optional<VerifyRecord> out;
  for (const auto& g : record.groups) {
    if (!filter.Matches(g.host, g.app)) continue;
    if (!out) {
      out = record;
      out->last_time = g.last_time;
      out->last_ok = g.last_ok;
      out->last_ok_time = g.last_ok_time;
      continue;
    }
    out->last_time = std::max(out->last_time, g.last_time);
    out->last_ok = out->last_ok && g.last_ok;
    out->last_ok_time = std::min(out->last_ok_time, g.last_ok_time);
  }
  return out;
}

Status ForgetDamagedPacks(storage::Backend& backend, std::vector<repo::BlobId> gone) {
  VELIN_ASSIGN(std::optional<VerifyRecord> r, LoadVerifyRecord(backend));
  if (!r || r->damaged_packs.empty()) return Ok();
  const size_t before = r->damaged_packs.size();
  r->damaged_packs = Without(std::move(r->damaged_packs), std::move(gone));
  if (r->damaged_packs.size() == before) return Ok();
  return WriteRecord(backend, *r);
}

}  // namespace velin::backup
