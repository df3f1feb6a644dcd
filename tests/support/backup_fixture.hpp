// A throwaway application for backup tests: app/ with a velin.toml whose backup.include and
// destination point into a temp dir, and helpers to run `velin backup …` there and parse --json.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace velin::testing {

class BackupApp {
 public:
  // `extra_backup` is appended to the [backup] table (e.g. "compression = \"gzip\"").
  explicit BackupApp(const std::vector<std::string>& include = {"storage"},
                     const std::string& extra_backup = "");
  std::string root() const { return dir_ / "app"; }
  std::string repo() const { return dir_ / "repo"; }
  std::string path(const std::string& rel) const { return dir_ / rel; }
  RunResult Run(std::vector<std::string> args, RunOptions options = {}) const;
  // Runs with --json and parses stdout (empty object when it is not JSON).
  nlohmann::json Json(std::vector<std::string> args, int expected_exit = 0,
                      RunOptions options = {}) const;

 private:
  TempDir dir_;
};

// `backup restore latest --target <target>` into a fresh `target` (removed first), under the
// fault rule `rule` (VELIN_FAULT_INJECT: io/fault_injection_env.hpp): a fault sweep's one run.
RunResult RestoreLatestUnderFault(const BackupApp& app, const std::string& target,
                                  const std::string& rule);

// Rewrites the config of the local repository `repo` as a velin of format `version` wrote it:
// that version and no checksum (velins before the config checksum wrote none).
void WriteOlderFormatConfig(const std::string& repo, int version);

// A deterministic pseudo-random byte string.
std::string RandomData(size_t n, unsigned seed);

// Every path under `root` with type, mode, size, mtime, link target, content hash, hardlink
// group, device number and extended attributes (ACLs among them), one line each, sorted: two
// trees are identical when their listings are.
std::string DescribeTree(const std::string& root);

// Every path under `dir` (none when it is missing) whose name is one of velin's temporaries
// (".velin-…" of a restore, ".tmp" of a durable write): what a failed or killed restore must
// not leave behind.
std::vector<std::string> TempFilesUnder(const std::string& dir);

}  // namespace velin::testing
