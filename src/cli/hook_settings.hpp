// [hooks] of velin.toml as the hook runner wants it (run in app.root).
#pragma once

#include "velin/config/config.hpp"
#include "velin/core/hooks.hpp"

namespace velin::cli {

inline HookSettings HookSettingsOf(const config::Config& cfg) {
  HookSettings h;
  h.before_backup = cfg.hooks.before_backup;
  h.after_backup = cfg.hooks.after_backup;
  h.on_backup_failure = cfg.hooks.on_backup_failure;
  h.before_switch = cfg.hooks.before_switch;
  h.after_switch = cfg.hooks.after_switch;
  h.on_switch_failure = cfg.hooks.on_switch_failure;
  h.timeout = cfg.hooks.timeout;
  h.cwd = cfg.app.root;
  return h;
}

}  // namespace velin::cli
