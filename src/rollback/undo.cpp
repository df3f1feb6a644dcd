// `to-version NAME --undo`: the switch back of a fleet switch (docs/rollback.md#fleet). A plain
// `to-version NAME` would take NAME's stored config (a snapshot) or keep the config the undone
// switch put in place (a snapshot's); an undo ends with exactly the live config of before.

#include "velin/core/i18n.hpp"
#include "velin/rollback/engine.hpp"
#include "velin/rollback/lock.hpp"

namespace velin::rollback {

Status RollbackEngine::UndoSwitch(const std::string& name, const std::string& reason) {
  VELIN_TRY(EnsureStateDir());
  VELIN_ASSIGN(StateLock lock, LockState(Duration(2000)));
  VELIN_TRY(RefuseInterruptedSwitch());
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  if (reg.Find(name) == nullptr) {
    return UsageError(TrFormat("no version '{}' (see velin rollback list)", name));
  }
  VELIN_ASSIGN(std::string live, LiveCurrent());
  // The switch to undo: the last one recorded (an adopt ends the search: nothing before it).
  VELIN_ASSIGN(auto history, ReadHistoryForUse());
  const HistoryEntry* last = nullptr;
  for (auto it = history.rbegin(); it != history.rend() && last == nullptr; ++it) {
    if (it->action == "switch" || it->action == "rollback" || it->action == "adopt") last = &*it;
  }
  if (last == nullptr || last->action == "adopt" || last->to != live || last->from != name) {
    return Failure(TrFormat(
        "cannot undo a switch from {} to {}: the last switch here {}; nothing was "
        "changed",
        name, live.empty() ? std::string("-") : live,
        last == nullptr || last->action == "adopt"
            ? std::string(Tr("is none (or an adopt)"))
            : TrFormat("went from {} to {}", last->from.empty() ? "-" : last->from, last->to)));
  }
  SwitchConfig config = SwitchConfig::kKeep;
  if (!last->saved_config.empty()) {
    VELIN_ASSIGN(bool there, env_.Exists(layout_.SavedConfig(last->saved_config)));
    if (!there) {
      return Failure(
          TrFormat("cannot undo the switch from {} to {}: the configuration saved before it ({}) "
                   "is gone; nothing was changed",
                   name, live, layout_.SavedConfig(last->saved_config)));
    }
    config = SwitchConfig::kSaved;
  } else if (const VersionRecord* undone = reg.Find(live); undone != nullptr &&
                                                           undone->kind == VersionKind::kSnapshot &&
                                                           !settings_.config.empty()) {
    // A switch to a snapshot replaced the config, but its history entry names no saved copy (a
    // velin before 2026-12-06 made it): what was live before it is not known here.
    return Failure(
        TrFormat("cannot undo the switch from {} to {}: its history entry names no saved "
                 "configuration (an older velin made it); nothing was changed: switch with "
                 "'velin rollback to-version {}' and put the configuration back by hand",
                 name, live, name));
  }
  reporter_.Begin(TrFormat("Switching back to {}...", name));
  last_data_.clear();
  VELIN_TRY(SwitchLocked(name, reason, "", "switch", "", config, last->saved_config));
  reporter_.Done(TrFormat("Rolled back to {}", name));
  return Ok();
}

}  // namespace velin::rollback
