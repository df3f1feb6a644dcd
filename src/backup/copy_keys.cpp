#include "velin/backup/copy_keys.hpp"

#include <set>

#include "velin/core/i18n.hpp"

namespace velin::backup {
namespace {

constexpr std::string_view kKeysPrefix = "keys/";

Result<std::set<std::string>> KeyObjectNames(storage::Backend& backend) {
  VELIN_ASSIGN(auto infos, backend.List(std::string(kKeysPrefix)));
  std::set<std::string> names;
  for (const storage::ObjectInfo& info : infos) names.insert(info.name);
  return names;
}

std::string KeyIdOf(const std::string& name) { return name.substr(kKeysPrefix.size()); }

}  // namespace

Result<bool> CopyKeysMatch(storage::Backend& source, storage::Backend& destination) {
  VELIN_ASSIGN(auto ours, KeyObjectNames(source));
  VELIN_ASSIGN(auto theirs, KeyObjectNames(destination));
  return ours.empty() || ours == theirs;
}

Result<CopyKeyChanges> MatchCopyKeys(storage::Backend& source, storage::Backend& destination,
                                     repo::RepoLock& lock) {
  CopyKeyChanges changes;
  VELIN_ASSIGN(auto ours, KeyObjectNames(source));
  // An unencrypted source has no keys; and with none listed, deleting the destination's would
  // leave it unopenable by anyone.
  if (ours.empty()) return changes;
  VELIN_ASSIGN(auto theirs, KeyObjectNames(destination));  // again, now under the lock
  VELIN_TRY(lock.Check());
  for (const std::string& name : ours) {
    if (theirs.count(name) != 0) continue;
    VELIN_ASSIGN(std::string bytes, source.Get(name).map_error([&](const Error& e) {
      return e.Wrap(TrFormat("reading {} in {}", name, source.Location()));
    }));
    VELIN_TRY(destination.Put(name, bytes).map_error([&](const Error& e) {
      return e.Wrap(TrFormat("writing {} in {}", name, destination.Location()));
    }));
    changes.added.push_back(KeyIdOf(name));
  }
  VELIN_TRY(lock.Check());
  for (const std::string& name : theirs) {
    if (ours.count(name) != 0) continue;
    VELIN_TRY(destination.Delete(name).map_error([&](const Error& e) {
      return e.Wrap(TrFormat("deleting {} in {}", name, destination.Location()));
    }));
    changes.removed.push_back(KeyIdOf(name));
  }
  // A removed passphrase (a leaked one) stays removed, crash or not, as `key remove` does.
  if (!changes.removed.empty()) VELIN_TRY(destination.SyncDeletes());
  return changes;
}

}  // namespace velin::backup
