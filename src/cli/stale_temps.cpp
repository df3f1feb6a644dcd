#include "stale_temps.hpp"

#include <spdlog/spdlog.h>

#include "velin/core/i18n.hpp"
#include "velin/io/env.hpp"
#include "velin/io/process_space.hpp"
#include "velin/repo/repository.hpp"

namespace velin::cli {

void RemoveStaleTemps(Context& ctx, storage::Backend& backend) {
  // A CachingBackend knows the last sweep.
  auto removed = backend.RemoveStaleTemps(0, repo::TempFileLayout());
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

namespace {

constexpr std::string_view kRestoreTestDirPrefix = "velin-restore-test-";

// Where Env::MakeTempDir makes its directories.
std::string TempRoot(Context& ctx) {
  const std::optional<std::string> tmp = ctx.env().GetEnv("TMPDIR");
  return tmp && !tmp->empty() ? *tmp : std::string("/tmp");
}

}  // namespace

Result<std::string> MakeRestoreTestDir(Context& ctx) {
  return ctx.env().MakeTempDir(std::string(kRestoreTestDirPrefix) + io::WriterMark(ctx.env(), '-') +
                               "-");
}

void RemoveDeadRestoreTestDirs(Context& ctx) {
  const std::string root = TempRoot(ctx);
  auto entries = ctx.env().ListDir(root);
  if (!entries) return;  // MakeTempDir says what is wrong with it
  for (const io::DirEntry& e : *entries) {
    if (e.type != io::FileType::kDirectory) continue;  // never a symlink's target
    const std::optional<io::TempWriter> writer =
        io::TempWriterAfter(e.name, kRestoreTestDirPrefix, '-');
    if (!writer || !io::IsDeadWriter(ctx.env(), *writer)) continue;
    const std::string path = io::JoinPath(root, e.name);
    if (Status removed = io::RemoveAll(ctx.env(), path); !removed) {
      ctx.out().Warn(TrFormat("could not remove {}, left by a killed restore test: {}", path,
                              removed.error().message));
      continue;
    }
    ctx.out().Info(TrFormat("Removed {}, left by a killed restore test", path));
  }
}

}  // namespace velin::cli
