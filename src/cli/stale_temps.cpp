#include "stale_temps.hpp"

#include <spdlog/spdlog.h>

#include "velin/core/i18n.hpp"

namespace velin::cli {

void RemoveStaleTemps(Context& ctx, storage::Backend& backend) {
  auto removed = backend.RemoveStaleTemps(0);  // a CachingBackend knows the last sweep
  if (!removed) {
    ctx.out().Warn(TrFormat("could not remove abandoned temp files in {}: {}", backend.Location(),
                            removed.error().message));
    return;
  }
  if (removed->removed > 0) {
    spdlog::info("removed {} temp file(s) of dead writers in {}", removed->removed,
                 backend.Location());
  }
}

}  // namespace velin::cli
