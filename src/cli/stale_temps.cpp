#include "stale_temps.hpp"

#include <spdlog/spdlog.h>

#include "velin/core/i18n.hpp"

namespace velin::cli {

void RemoveStaleTemps(Context& ctx, storage::Backend& backend) {
  auto removed = backend.RemoveStaleTemps();
  if (!removed) {
    ctx.out().Warn(TrFormat("could not remove abandoned temp files in {}: {}", backend.Location(),
                            removed.error().message));
    return;
  }
  if (*removed > 0) {
    spdlog::info("removed {} temp file(s) of dead writers in {}", *removed, backend.Location());
  }
}

}  // namespace velin::cli
