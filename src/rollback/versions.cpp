// Versions and snapshots: create (materialise a release), list, history, retention, adopt.

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

#include "service.hpp"
#include "velin/core/i18n.hpp"
#include "velin/rollback/command_record.hpp"
#include "velin/rollback/engine.hpp"
#include "velin/rollback/lock.hpp"
#include "velin/rollback/release.hpp"

namespace velin::rollback {

std::pair<std::string, std::string> ParseLabel(const std::string& label) {
  std::string text = label;
  size_t b = text.find_first_not_of(" \t");
  text = b == std::string::npos ? "" : text.substr(b);
  size_t sep = text.find(" - ");
  std::string head = sep == std::string::npos ? text : text.substr(0, sep);
  std::string description = sep == std::string::npos ? "" : text.substr(sep + 3);
  size_t space = head.find_first_of(" \t");
  std::string name = head.substr(0, space);
  if (sep == std::string::npos && space != std::string::npos) {
    size_t start = head.find_first_not_of(" \t", space);
    description = start == std::string::npos ? "" : head.substr(start);
  }
  while (!description.empty() && description.back() == ' ') description.pop_back();
  return {name, description};
}

RollbackEngine::RollbackEngine(io::Env& env, Settings settings, Reporter& reporter)
    : env_(env), settings_(std::move(settings)), reporter_(reporter) {
  layout_.dir = settings_.state_dir;
}

// The state dir is 0711: nobody else may list it or open its lock (0600), but a service that
// runs as another user can still pass through it to its release behind `current` (0700 would
// stop a www-data service the moment a root velin switched it). A state dir an earlier velin
// created 0755 (it holds velin's releases/ and is ours) is tightened once; any other mode was
// chosen by its owner and is left alone (docs/rollback.md#permissions).
// The state dir below app.root (.velin) is reached by path from here on: a symlink on its way
// that another user made and that leads out of app.root (the deploy user, who may rename what
// is in app.root, putting `.velin -> /etc/sudoers.d` there) is refused, as on the config paths
// (io::OpenDirBeneath): velin, as root, would write its registry and lock file there.
Status RollbackEngine::CheckStateDirPath() {
  const std::string top = settings_.app_root == "/" ? "/" : settings_.app_root + "/";
  if (!layout_.dir.starts_with(top)) return Ok();  // elsewhere: the admin's own place
  auto dir = io::OpenDirBeneath(env_, settings_.app_root, layout_.dir.substr(top.size()));
  if (!dir && dir.error().sys_errno != ENOENT) {
    return Failure(TrFormat("rollback.state_dir: {}", dir.error().message));
  }
  return Ok();
}

Status RollbackEngine::EnsureStateDir() {
  VELIN_TRY(CheckStateDirPath());
  VELIN_ASSIGN(bool existed, env_.Exists(layout_.Releases()));
  VELIN_TRY(io::CreateDirs(env_, layout_.dir, 0711));
  if (existed) {
    VELIN_ASSIGN(io::FileInfo info, env_.Stat(layout_.dir));
    if (info.type == io::FileType::kDirectory && info.mode == 0755 && info.uid == ::geteuid()) {
      VELIN_TRY(env_.SetMode(layout_.dir, 0711));
      reporter_.Info(
          TrFormat("{}: access tightened to 0711 (others may not list it)", layout_.dir));
    }
  }
  VELIN_TRY(io::CreateDirs(env_, layout_.Releases(), 0755));
  VELIN_TRY(io::CreateDirs(env_, layout_.Configs(), 0755));
  return io::CreateDirs(env_, layout_.Manifests(), 0755);
}

Result<std::string> RollbackEngine::LiveCurrent() {
  VELIN_ASSIGN(bool exists, env_.Exists(settings_.current_link));
  if (!exists) return std::string();
  VELIN_ASSIGN(io::FileInfo info, env_.Stat(settings_.current_link));
  if (info.type != io::FileType::kSymlink) return std::string();
  VELIN_ASSIGN(std::string target, env_.ReadLink(settings_.current_link));
  // A link made by hand may be relative (`current -> .velin/releases/v1`): the same release.
  namespace fs = std::filesystem;
  fs::path resolved = fs::path(target);
  if (resolved.is_relative()) resolved = fs::path(io::Dirname(settings_.current_link)) / resolved;
  resolved = resolved.lexically_normal();
  if (!resolved.has_filename()) resolved = resolved.parent_path();  // "…/v1/"
  if (resolved.parent_path() != fs::path(layout_.Releases()).lexically_normal()) {
    return std::string();
  }
  return resolved.filename().string();
}

Result<VersionRecord> RollbackEngine::CreateVersion(const std::string& label, VersionKind kind,
                                                    bool replace) {
  auto [name, description] = ParseLabel(label);
  VELIN_TRY(CheckVersionName(name));
  if (settings_.artifacts.empty()) {
    return UsageError(std::string(Tr("rollback.artifacts is empty: nothing to put in a version")));
  }
  VELIN_TRY(EnsureStateDir());
  VELIN_ASSIGN(StateLock lock, LockState(Duration(2000)));
  {  // everything that can refuse the name, before saying "Creating…"
    VELIN_TRY(CheckPathsLeaveOutTheState());
    VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
    VELIN_TRY(CheckCreatable(name, replace, reg));
    for (const auto& rel : settings_.artifacts) {
      VELIN_TRY(CheckRollbackPath(rel));  // else "/etc" is reported as app.root/etc missing
      VELIN_ASSIGN(bool exists, env_.Exists(io::JoinPath(settings_.app_root, rel)));
      if (!exists) {
        return UsageError(TrFormat("rollback.artifacts: {} does not exist",
                                   io::JoinPath(settings_.app_root, rel)));
      }
    }
  }
  reporter_.Begin(TrFormat(
      kind == VersionKind::kSnapshot ? "Creating snapshot {}..." : "Creating version {}...", name));
  VELIN_ASSIGN(VersionRecord record,
               CreateLocked(name, description, kind, replace, settings_.app_root));
  // The version is registered and complete: pruning older ones is housekeeping, as after
  // `begin`. Before, a prune that failed (a disk that filled up with this very release) made the
  // create exit 1 with only the prune's error: a deploy script rolled back a version that had
  // been stored, and its retry without --replace was refused (`exists already`). What the prune
  // left undone, the next create does (removals.json, docs/rollback-format.md).
  if (Status pruned = Prune(name); !pruned) {
    reporter_.Warn(TrFormat(
        "version {} was created, but pruning older versions (keep_versions = {}) failed: {}; "
        "the next create-version prunes them",
        name, settings_.keep_versions, pruned.error().message));
  }
  return record;
}

// The manifest of an install in flight: `.install-NAME-SEQ` in manifests/, SEQ the new
// record's (unique: the registry's next_seq). FinishInstalls tells by it whether the registry
// took the install.
static std::string StagedManifestName(const std::string& name, uint64_t seq) {
  return ".install-" + name + "-" + std::to_string(seq);
}

// Moves an existing release of that name aside, renames the complete temporary one (`tag`)
// into place, then registers it: the registry names only complete releases, and it is the
// commit point. The new manifest waits under a staged name until then, so that up to the
// commit the old release, manifest and record (a --replace) come back whole, and after it the
// new ones stand whole (FinishInstalls).
static Status InstallRelease(io::Env& env, const StateLayout& layout, const std::string& tag,
                             const VersionRecord& record, const Manifest& manifest, Registry& reg) {
  const std::string& name = record.name;
  std::string aside = ".old-" + name + "-" + std::to_string(env.ThisProcess().pid);
  // Named before it is in place: a run killed between the rename and the registry leaves a
  // release the next create removes (RollbackEngine::FinishRemovals). What is listed already
  // (another user's release that could not be removed) stays listed.
  std::vector<std::string> listed;
  if (auto names = LoadRemovals(env, layout); names) listed = std::move(*names);
  std::erase(listed, name);
  std::vector<std::string> removals = listed;
  removals.push_back(name);
  VELIN_TRY(SaveRemovals(env, layout, removals));
  const std::string staged = layout.Manifest(StagedManifestName(name, record.seq));
  VELIN_TRY(SaveManifest(env, staged, manifest));
  VELIN_ASSIGN(bool had_release, env.Exists(layout.Release(name)));
  if (had_release) VELIN_TRY(env.Rename(layout.Release(name), layout.Release(aside)));
  VELIN_ASSIGN(bool had_config, env.Exists(layout.Config(name)));
  if (had_config) VELIN_TRY(env.Rename(layout.Config(name), layout.Config(aside)));
  VELIN_TRY(env.Rename(layout.Release(tag), layout.Release(name)));
  if (record.kind == VersionKind::kSnapshot) {
    VELIN_TRY(env.Rename(layout.Config(tag), layout.Config(name)));
  }
  VELIN_TRY(env.SyncDir(layout.Releases()));
  VELIN_TRY(env.SyncDir(layout.Configs()));
  CrashPoint("create-before-registry");
  reg.versions.erase(std::remove_if(reg.versions.begin(), reg.versions.end(),
                                    [&](const VersionRecord& v) { return v.name == name; }),
                     reg.versions.end());
  reg.versions.push_back(record);
  VELIN_TRY(SaveRegistry(env, layout, reg));
  CrashPoint("create-registered");
  return Ok();
}

// What InstallRelease leaves after its commit point: the staged manifest into place, the
// release's name off the removals, the release a --replace moved aside removed. The version is
// registered and whole already; what fails here the next locked command finishes
// (FinishInstalls, FinishRemovals: a registered release is never removed).
static Status FinishInstall(io::Env& env, const StateLayout& layout, const VersionRecord& record) {
  const std::string& name = record.name;
  const std::string staged = layout.Manifest(StagedManifestName(name, record.seq));
  const std::string aside = ".old-" + name + "-" + std::to_string(env.ThisProcess().pid);
  VELIN_TRY(env.Rename(staged, layout.Manifest(name)));
  VELIN_TRY(env.SyncDir(layout.Manifests()));
  std::vector<std::string> listed;
  if (auto names = LoadRemovals(env, layout); names) listed = std::move(*names);
  std::erase(listed, name);
  VELIN_TRY(KeepRemovals(env, layout, listed));
  VELIN_TRY(io::RemoveAll(env, layout.Release(aside)));
  return io::RemoveAll(env, layout.Config(aside));
}

// The version a release moved aside by --replace belongs to: ".old-v1-2-123" -> "v1-2" (the
// last '-' starts the pid); "" for any other entry.
static std::string AsideOf(const std::string& entry) {
  if (entry.rfind(".old-", 0) != 0) return "";
  const size_t dash = entry.find_last_of('-');
  return dash > 5 ? entry.substr(5, dash - 5) : "";
}

// An install InstallRelease left unfinished (killed, or failed on an error), told by its
// staged manifest. The registry decides: it names the install's record (the seq matches) —
// the staged manifest goes into place; it does not — the release moved in goes and the one
// moved aside (a --replace) comes back, so that release, manifest and record are the old ones
// again. A fresh create's release is then unregistered and FinishRemovals removes it.
// The registry is read only when such an install is found: every locked command comes here.
Status FinishInstalls(io::Env& env, const StateLayout& layout) {
  auto entries = env.ListDir(layout.Manifests());
  if (!entries) return Ok();  // no state directory yet: nothing was installed
  std::optional<Registry> reg;
  bool changed = false;
  for (const auto& e : *entries) {
    const std::string prefix = ".install-", suffix = ".json";
    if (e.name.rfind(prefix, 0) != 0 || !e.name.ends_with(suffix)) continue;
    const std::string stem =
        e.name.substr(prefix.size(), e.name.size() - prefix.size() - suffix.size());
    const size_t dash = stem.find_last_of('-');
    if (dash == std::string::npos || dash == 0) continue;
    const std::string name = stem.substr(0, dash);
    const std::string seq = stem.substr(dash + 1);
    const std::string staged = io::JoinPath(layout.Manifests(), e.name);
    if (!reg) {
      VELIN_ASSIGN(reg, LoadRegistry(env, layout));
    }
    changed = true;
    const VersionRecord* rec = reg->Find(name);
    const bool committed = rec != nullptr && std::to_string(rec->seq) == seq;
    if (committed) VELIN_TRY(env.Rename(staged, layout.Manifest(name)));
    // The release moved aside: the replaced one (committed: it goes), or the one to restore.
    for (const std::string& dir : {layout.Releases(), layout.Configs()}) {
      VELIN_ASSIGN(auto listed, env.ListDir(dir));
      for (const auto& o : listed) {
        if (AsideOf(o.name) != name) continue;
        if (committed) {
          VELIN_TRY(io::RemoveAll(env, io::JoinPath(dir, o.name)));
        } else {
          VELIN_TRY(io::RemoveAll(env, io::JoinPath(dir, name)));
          VELIN_TRY(env.Rename(io::JoinPath(dir, o.name), io::JoinPath(dir, name)));
        }
      }
      VELIN_TRY(env.SyncDir(dir));
    }
    if (!committed) VELIN_TRY(env.RemoveFile(staged));
  }
  if (changed) VELIN_TRY(env.SyncDir(layout.Manifests()));
  return Ok();
}

Result<StateLock> RollbackEngine::LockState(Duration wait) {
  VELIN_TRY(CheckStateDirPath());
  VELIN_ASSIGN(StateLock lock, StateLock::Acquire(env_, layout_.Lock(), wait));
  VELIN_TRY(FinishInstalls(env_, layout_));
  RemoveDeadStateTemps();
  // A command a velin killed with kill -9 left running (a hook, migrate_down, ...) ends first:
  // never two of them at once (rollback/command_record.hpp).
  AwaitRecordedCommand(env_, reporter_, layout_.Command());
  return lock;
}

// Leftovers of an interrupted create (under the lock nobody else is creating): temporary
// directories go; a release moved aside by --replace whose successor never landed comes back.
static Status CleanLeftovers(io::Env& env, const std::string& dir, const Registry& reg) {
  VELIN_ASSIGN(auto entries, env.ListDir(dir));
  for (const auto& e : entries) {
    bool tmp = e.name.rfind(".tmp-", 0) == 0;
    bool old = e.name.rfind(".old-", 0) == 0;
    if (!tmp && !old) continue;
    std::string full = io::JoinPath(dir, e.name);
    if (old) {
      std::string name = AsideOf(e.name);
      VELIN_ASSIGN(bool present, env.Exists(io::JoinPath(dir, name)));
      if (reg.Find(name) != nullptr && !present) {
        VELIN_TRY(env.Rename(full, io::JoinPath(dir, name)));
        continue;
      }
    }
    VELIN_TRY(io::RemoveAll(env, full));
  }
  return Ok();
}

// What a killed prune or create left behind (removals.json, docs/rollback-format.md): each
// release listed there that is neither registered nor live goes, with its config and
// manifest; each would otherwise hold its disk space for good. A file that cannot be read
// only costs that space: a warning, and it goes.
Status RollbackEngine::FinishRemovals(const Registry& reg) {
  VELIN_ASSIGN(bool listed, env_.Exists(layout_.Removals()));
  if (!listed) return Ok();
  auto names = LoadRemovals(env_, layout_);
  if (!names) {
    reporter_.Warn(TrFormat("{}; ignored", names.error().message));
    return ClearRemovals(env_, layout_);
  }
  VELIN_ASSIGN(std::string live, LiveCurrent());
  bool removed = false;
  std::vector<std::string> stuck;
  for (const auto& name : *names) {
    if (name == live || reg.Find(name) != nullptr) continue;
    VELIN_ASSIGN(bool present, env_.Exists(layout_.Release(name)));
    removed = true;
    if (Status gone = RemoveUnregistered(name); !gone) {
      // Another user's release (root's, while velin runs as the deploy user): it only holds
      // its space. Said at each create until someone who may removes it; not a reason to fail
      // this create (before 2026-12-07 every later create-version and begin failed on it).
      reporter_.Warn(gone.error().message);
      stuck.push_back(name);
      continue;
    }
    if (present) {
      reporter_.Info(TrFormat(
          "Removed release {}: an interrupted prune or create-version left it unregistered", name));
    }
  }
  if (removed) {
    VELIN_TRY(env_.SyncDir(layout_.Releases()));
    VELIN_TRY(env_.SyncDir(layout_.Configs()));
    VELIN_TRY(env_.SyncDir(layout_.Manifests()));
  }
  return KeepRemovals(env_, layout_, stuck);
}

// Removes what an unregistered version left: its release, stored config and manifest, each
// tried even when one before it failed. The error says whose files stayed and how to remove
// them: a release another user made (root's `create-version` or `begin`, in the deploy user's
// state dir) cannot be removed by velin's own user.
Status RollbackEngine::RemoveUnregistered(const std::string& name) {
  std::optional<Error> first;
  std::vector<std::string> left;
  for (const std::string& path :
       {layout_.Release(name), layout_.Config(name), layout_.Manifest(name)}) {
    if (Status gone = io::RemoveAll(env_, path); !gone) {
      if (!first) first = gone.error();
      left.push_back(path);
    }
  }
  if (!first) return Ok();
  std::string owner;
  if (auto info = env_.Stat(left.front()); info && info->uid != ::geteuid()) {
    owner = TrFormat(" ({} belongs to user {}, velin runs as user {})", left.front(), info->uid,
                     ::geteuid());
  }
  std::string paths;
  for (const auto& path : left) paths += " " + path;
  return Failure(TrFormat(
      "version {} is no longer registered, but its files could not be removed: {}{}; they "
      "hold their space until removed by a user who may ('rm -rf{}'); velin tries again at "
      "each create-version",
      name, first->message, owner, paths));
}

// An artifact or config path that holds the state directory or the `current` link (`"."`, the
// natural way to say "the whole app") copied the registry, the lock and every release into the
// new one, and each later version nested all earlier ones: file counts that grow with every
// deploy until hard links run out (EMLINK). Refused, as backup.include = ["."] is.
Status RollbackEngine::CheckPathsLeaveOutTheState() const {
  namespace fs = std::filesystem;
  const fs::path state = fs::path(layout_.dir).lexically_normal();
  const fs::path link = fs::path(settings_.current_link).lexically_normal();
  const auto within = [](const fs::path& inner, const fs::path& outer) {
    const fs::path rel = inner.lexically_relative(outer);
    return !rel.empty() && *rel.begin() != "..";
  };
  for (const auto& [key, paths] : {std::pair{"rollback.artifacts", &settings_.artifacts},
                                   std::pair{"rollback.config", &settings_.config}}) {
    for (const std::string& rel : *paths) {
      const fs::path full = (fs::path(settings_.app_root) / rel).lexically_normal();
      const bool holds_state = within(state, full) || within(full, state);
      if (holds_state || within(link, full)) {
        std::string message = TrFormat(
            "{}: '{}' holds {} ({}); list the application's own paths instead (e.g. \"bin\", "
            "\"public\")",
            key, rel,
            holds_state ? std::string("rollback.state_dir") : std::string(Tr("the current link")),
            holds_state ? state.string() : link.string());
        // Where velin.toml lists it: the line to edit.
        if (auto place = settings_.path_places.find({key, rel});
            place != settings_.path_places.end()) {
          message = TrFormat("{}: {}", place->second, message);
        }
        return UsageError(message);
      }
    }
  }
  return Ok();
}

Status RollbackEngine::CheckCreatable(const std::string& name, bool replace, const Registry& reg) {
  if (reg.Find(name) == nullptr) return Ok();
  if (!replace) {
    return UsageError(
        TrFormat("version '{}' exists already (use --replace to overwrite it)", name));
  }
  VELIN_ASSIGN(std::string live, LiveCurrent());
  VELIN_ASSIGN(auto txn, LoadTransaction(env_, layout_));
  if (name == live || (txn && txn->base == name)) {
    return UsageError(TrFormat(
        "version '{}' is live or the base of the open transaction; it cannot be replaced", name));
  }
  return Ok();
}

// The temporary release and config directories of one create, removed when it leaves them
// behind (it failed: a full disk, a file changed while copied): each would hold its space until
// the next create's CleanLeftovers. Once installed they are renamed into place, and there is
// nothing left to remove.
class TempReleaseDirs {
 public:
  TempReleaseDirs(io::Env& env, std::string release, std::string config)
      : env_(env), release_(std::move(release)), config_(std::move(config)) {}
  ~TempReleaseDirs() {
    // Ignored: what cannot be removed now, the next create removes (CleanLeftovers).
    (void)io::RemoveAll(env_, release_);
    (void)io::RemoveAll(env_, config_);
  }
  TempReleaseDirs(const TempReleaseDirs&) = delete;
  TempReleaseDirs& operator=(const TempReleaseDirs&) = delete;

 private:
  io::Env& env_;
  std::string release_;
  std::string config_;
};

Result<VersionRecord> RollbackEngine::CreateLocked(const std::string& name,
                                                   const std::string& description, VersionKind kind,
                                                   bool replace, const std::string& artifact_root,
                                                   const std::string& base_of) {
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  VELIN_TRY(CleanLeftovers(env_, layout_.Releases(), reg));
  VELIN_TRY(CleanLeftovers(env_, layout_.Configs(), reg));
  VELIN_TRY(FinishRemovals(reg));
  VELIN_TRY(CheckCreatable(name, replace, reg));
  Manifest manifest;
  // A transaction's base holds what the live release holds: an artifact path added to the
  // config since that release was made is recorded as absent, not a reason to refuse `begin`.
  // It is scanned as the live release holds it: a symlink there (stored by a velin before
  // 2026-12-06) stays one. The app's own artifact paths are followed when they are symlinks.
  const bool all_artifacts = base_of.empty();
  if (all_artifacts) {
    VELIN_ASSIGN(manifest.artifacts,
                 ScanArtifacts(env_, artifact_root, settings_.artifacts, true, layout_.dir));
  } else {
    VELIN_ASSIGN(manifest.artifacts, ScanTree(env_, artifact_root, settings_.artifacts, false));
  }
  VELIN_ASSIGN(auto live_config, ScanTree(env_, settings_.app_root, settings_.config, false));
  if (kind == VersionKind::kSnapshot) manifest.config = live_config;

  DedupIndex index = IndexReleases(env_, layout_, reg);
  std::string tag = ".tmp-" + name + "-" + std::to_string(env_.ThisProcess().pid);
  std::string tmp_release = layout_.Release(tag);
  std::string tmp_config = layout_.Config(tag);
  VELIN_TRY(io::RemoveAll(env_, tmp_release));
  VELIN_TRY(io::RemoveAll(env_, tmp_config));
  TempReleaseDirs temps(env_, tmp_release, tmp_config);
  VELIN_ASSIGN(MaterialiseStats stats,
               Materialise(env_, manifest.artifacts, artifact_root, tmp_release, index, true));
  if (kind == VersionKind::kSnapshot) {
    VELIN_ASSIGN(MaterialiseStats config_stats,
                 Materialise(env_, manifest.config, settings_.app_root, tmp_config, index, true,
                             /*keep_owner=*/true));
    stats.changed_in_place.insert(stats.changed_in_place.end(),
                                  config_stats.changed_in_place.begin(),
                                  config_stats.changed_in_place.end());
    // Its files keep their owners (a service user's among them), who must not reach them here:
    // a service could otherwise edit the copy a later switch puts back. Nothing runs from it.
    VELIN_TRY(env_.SetMode(tmp_config, 0700));
  }
  VELIN_TRY(RecordMtimes(env_, tmp_release, manifest.artifacts));
  VELIN_TRY(RecordMtimes(env_, tmp_config, manifest.config));
  {  // a stored file offered for two identical entries was checked and counted twice
    auto& changed = stats.changed_in_place;
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  }
  if (!stats.changed_in_place.empty()) {
    // Those releases are no longer what their versions recorded: a switch to one of them
    // would run the edited file. Said once, with the first path.
    reporter_.Warn(TrFormat(
        "{} file(s) stored in earlier releases no longer hold what their versions recorded "
        "(first: {}): edited in place? Releases share identical files by hard links, so a file "
        "edited inside current/ changed every release holding it; the new version got its own "
        "copy",
        stats.changed_in_place.size(), stats.changed_in_place.front()));
  }
  CrashPoint("create-materialised");

  VersionRecord record;
  record.name = name;
  record.description = description;
  record.kind = kind;
  record.created = IsoTime(UnixMs(env_));
  record.user = CurrentUser(env_);
  record.host = env_.HostName();
  record.source_digest = DigestOf(manifest.artifacts);
  record.config_digest = DigestOf(live_config);
  VELIN_ASSIGN(record.schema_level,
               SchemaLevel(settings_, CommandRecorder(TrFormat("create-version {}", name))));
  if (!settings_.migration_status.empty() && record.schema_level.empty()) {
    // Before 2026-12-07 an empty level was recorded without a word: no switch back to this
    // version ever ran migrate_down.
    reporter_.Warn(
        TrFormat("rollback.migration_status printed nothing: {} has no schema level, "
                 "and a switch back to it will not run migrate_down",
                 name));
  }
  record.seq = reg.next_seq++;
  record.base_of = base_of;

  VELIN_TRY(InstallRelease(env_, layout_, tag, record, manifest, reg));
  if (Status finished = FinishInstall(env_, layout_, record); !finished) {
    // Registered and whole: exit 1 here made a deploy script roll back a good version, and
    // its retry was refused as "exists already" (as with a failed prune after it, below).
    reporter_.Warn(
        TrFormat("version {} was created, but tidying up after it failed: {}; the "
                 "next velin rollback command finishes it",
                 name, finished.error().message));
  }
  reporter_.Info(TrFormat("Files: {} ({} hard-linked to earlier releases, {} copied, {} bytes)",
                          stats.files, stats.linked, stats.copied, stats.bytes_copied));
  return record;
}

Result<ListResult> RollbackEngine::List() {
  ListResult out;
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  VELIN_ASSIGN(out.current, LiveCurrent());
  VELIN_ASSIGN(auto txn, LoadTransaction(env_, layout_));
  for (const auto& v : reg.versions) {
    VersionListing item;
    item.record = v;
    VELIN_ASSIGN(DiskUsage release, MeasureTree(env_, layout_.Release(v.name)));
    VELIN_ASSIGN(DiskUsage config, MeasureTree(env_, layout_.Config(v.name)));
    item.total_bytes = release.total + config.total;
    item.own_bytes = release.own + config.own;
    item.current = v.name == out.current;
    item.transaction_base = txn && txn->base == v.name;
    out.versions.push_back(std::move(item));
  }
  VELIN_ASSIGN(out.saved_configs, SavedConfigs());
  return out;
}

Result<std::vector<HistoryEntry>> RollbackEngine::History() { return ReadHistory(env_, layout_); }

// Retention (docs/rollback.md#retention). Transaction bases are velin's own snapshots: they
// never count toward keep_versions and go first, by their own rule: a base is kept while it is
// live, the registry's current, the open transaction's base, or the base of the last ended
// transaction (where the last deploy started from); every other base is pruned. Then the
// user's named releases beyond keep_versions go, oldest first, never the live one nor either
// end of an interrupted switch (switch.json: `recover` goes on to one or back to the other); each
// such prune is written to the history and reported as a warning.
Status RollbackEngine::Prune(const std::string& keep_also) {
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  VELIN_ASSIGN(std::string live, LiveCurrent());
  VELIN_ASSIGN(auto txn, LoadTransaction(env_, layout_));
  VELIN_ASSIGN(auto history, ReadHistoryForUse());
  VELIN_ASSIGN(auto intent, LoadSwitchIntent(env_, layout_));
  std::set<std::string> keep = {live, reg.current, keep_also};
  if (txn) keep.insert(txn->base);
  if (intent) {  // an interrupted switch: `recover` needs both ends of it
    keep.insert(intent->from);
    keep.insert(intent->to);
  }
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->action == "transaction") {
      keep.insert(it->from);  // the base of the last ended transaction
      break;
    }
  }
  std::vector<std::string> doomed_bases;
  std::vector<std::string> doomed_named;
  size_t named = 0;
  for (const auto& v : reg.versions) {
    if (!v.IsTransactionBase()) ++named;
  }
  size_t limit = static_cast<size_t>(std::max(1, settings_.keep_versions));
  for (const auto& v : reg.versions) {  // creation order: oldest first
    if (keep.count(v.name) != 0) continue;
    if (v.IsTransactionBase()) {
      doomed_bases.push_back(v.name);
    } else if (named > limit) {
      doomed_named.push_back(v.name);
      --named;
    }
  }
  if (doomed_bases.empty() && doomed_named.empty()) return Ok();
  std::set<std::string> doomed(doomed_bases.begin(), doomed_bases.end());
  doomed.insert(doomed_named.begin(), doomed_named.end());
  // Unregister first: a crash leaves an unregistered directory, never a registered hole; and
  // name them in removals.json before, so that the next create removes what a crash left. Names
  // listed there already (another user's release an earlier run could not remove) stay listed.
  std::vector<std::string> earlier_stuck;
  if (auto listed = LoadRemovals(env_, layout_); listed) {
    for (const auto& name : *listed) {
      if (doomed.count(name) == 0 && reg.Find(name) == nullptr) earlier_stuck.push_back(name);
    }
  }
  std::vector<std::string> removals(doomed.begin(), doomed.end());
  removals.insert(removals.end(), earlier_stuck.begin(), earlier_stuck.end());
  VELIN_TRY(SaveRemovals(env_, layout_, removals));
  reg.versions.erase(
      std::remove_if(reg.versions.begin(), reg.versions.end(),
                     [&](const VersionRecord& v) { return doomed.count(v.name) != 0; }),
      reg.versions.end());
  VELIN_TRY(SaveRegistry(env_, layout_, reg));
  for (const auto& name : doomed_named) {  // recorded before anything is deleted
    HistoryEntry e;
    e.time = IsoTime(UnixMs(env_));
    e.user = CurrentUser(env_);
    e.host = env_.HostName();
    e.action = "prune";
    e.from = name;
    e.outcome = "pruned";
    e.reason = "keep_versions = " + std::to_string(settings_.keep_versions);
    VELIN_TRY(AppendHistory(env_, layout_, e));
  }
  CrashPoint("prune-unregistered");
  // Unregistered already: a release that cannot be removed (another user's) is a warning and
  // stays listed in removals.json for the next create; the rest are still removed.
  std::vector<std::string> stuck = earlier_stuck;
  std::vector<std::string> removal_warnings;
  for (const auto& name : doomed) {
    if (Status gone = RemoveUnregistered(name); !gone) {
      removal_warnings.push_back(gone.error().message);
      stuck.push_back(name);
    }
  }
  VELIN_TRY(KeepRemovals(env_, layout_, stuck));
  for (const auto& name : doomed_bases) {
    reporter_.Info(TrFormat("Pruned {}, the base of an ended transaction", name));
  }
  for (const auto& name : doomed_named) {
    reporter_.Warn(TrFormat("pruned version {} (keep_versions = {}; it is gone for good)", name,
                            settings_.keep_versions));
  }
  for (const auto& warning : removal_warnings) reporter_.Warn(warning);
  return Ok();
}

}  // namespace velin::rollback
