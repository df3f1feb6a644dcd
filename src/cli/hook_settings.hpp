// [hooks] of velin.toml as the hook runner wants it (run in app.root).
#pragma once

#include "velin/config/config.hpp"
#include "velin/core/hooks.hpp"

namespace velin::cli {

inline HookSettings HookSettingsOf(const config::Config& cfg) {
  return HookSettings{cfg.hooks, cfg.app.root};
}

}  // namespace velin::cli
