// SIGTERM at every request a repository command makes (VELIN_FAULT_SIGNAL=N:SIGTERM: velin
// signals itself before its Nth storage request; storage/signal_backend.hpp), on S3 (s3rver on
// loopback) and on a local directory, for create, prune, forget and copy. Each run stops with one
// line and ends by SIGTERM (or, signalled after its last check, finishes, says so in its one
// error line and then ends by it); its
// lock objects are gone, it leaves no pack that no index names, and the repository verifies.
// (A backup to SFTP too: its packs go up from local spill files, several at once.)
// Before, a backup stopped on S3 left its lock object and its packs there (the requests that
// remove them were aborted like the work's: a lock on S3 blocks other hosts' prunes until it is
// stale), and prune, forget and copy died at once, leaving their locks behind.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"
#include "velin/repo/index.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// The objects s3rver holds under `dir` of its bucket ("repo/locks"), by file name.
std::vector<std::string> S3ObjectsUnder(const S3Server& server, const std::string& dir) {
  std::vector<std::string> out;
  const fs::path root = fs::path(server.data_dir()) / "data" / S3Server::kBucket / dir;
  if (!fs::exists(root)) return out;
  const std::string suffix = "._S3rver_object";
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (name.size() > suffix.size() && name.ends_with(suffix)) out.push_back(name);
  }
  return out;
}

// Lock objects in a local repository.
std::vector<std::string> LocalLocks(const std::string& repo) {
  std::vector<std::string> out;
  if (!fs::exists(repo + "/locks")) return out;
  for (const auto& e : fs::directory_iterator(repo + "/locks")) out.push_back(e.path().string());
  return out;
}

void CopyTree(const std::string& from, const std::string& to) {
  fs::remove_all(to);
  fs::copy(from, to, fs::copy_options::recursive);
}

// The packs (ids) in the unencrypted repository at `dir` that no index object there names; `suffix`
// ends each object's file name (s3rver's "._S3rver_object", "" in a local repository).
std::set<std::string> UnnamedPacksIn(const std::string& dir, const std::string& suffix) {
  std::set<std::string> packs, named;
  auto id_of = [&suffix](const fs::path& p) -> std::string {
    const std::string name = p.filename().string();
    if (name.size() != 64 + suffix.size() || !name.ends_with(suffix)) return "";
    return name.substr(0, 64);
  };
  if (fs::exists(dir + "/data")) {
    for (const auto& e : fs::recursive_directory_iterator(dir + "/data")) {
      if (std::string id = id_of(e.path()); !id.empty()) packs.insert(id);
    }
  }
  if (fs::exists(dir + "/index")) {
    for (const auto& e : fs::directory_iterator(dir + "/index")) {
      if (id_of(e.path()).empty()) continue;
      auto decoded = repo::DecodeIndexObject(ReadFileOrDie(e.path().string()));
      EXPECT_TRUE(decoded) << e.path();
      if (!decoded) continue;
      for (const auto& p : *decoded) named.insert(p.first.Hex());
    }
  }
  std::set<std::string> out;
  for (const std::string& id : packs) {
    if (!named.count(id)) out.insert(id);
  }
  return out;
}

// Packs a stopped prune wrote and left unindexed: unnamed in `dir` now, absent from `saved` (the
// repository before it). A pack it was removing may stay unnamed: the next prune removes it,
// as after a crash there.
std::set<std::string> PacksLeftBy(const std::string& dir, const std::string& saved,
                                  const std::string& suffix) {
  std::set<std::string> before, out;
  if (fs::exists(saved + "/data")) {
    for (const auto& e : fs::recursive_directory_iterator(saved + "/data")) {
      before.insert(e.path().filename().string().substr(0, 64));
    }
  }
  for (const std::string& id : UnnamedPacksIn(dir, suffix)) {
    if (!before.count(id)) out.insert(id);
  }
  return out;
}

// Unindexed packs younger than prune's age rule in the repository at `destination`, as prune
// counts them (what a stopped run left behind).
int YoungUnindexedPacks(const BackupApp& app, const std::string& destination,
                        const RunOptions& options) {
  auto j = app.Json({"backup", "prune", "--dry-run", "--destination", destination}, 0, options);
  return j.value("packs_young", -1);
}

struct SweepCounts {
  int stopped = 0;   // the command's "interrupted" error
  int finished = 0;  // signalled after its last check: done, then ended by the signal
};

// Runs `args` under VELIN_FAULT_SIGNAL=N:SIGTERM for N = 1, 2, ... until a run makes fewer than
// N requests (it exits 0). `reset` runs before each run, `check` after each signalled one.
SweepCounts SignalAtEveryRequest(
    const BackupApp& app, const std::vector<std::string>& args, const RunOptions& options,
    const std::string& interrupted, const std::function<void()>& reset,
    const std::function<void(const std::string& at, const RunResult&)>& check) {
  SweepCounts counts;
  for (int n = 1; n < 400; ++n) {
    reset();
    RunOptions o = options;
    o.env["VELIN_FAULT_SIGNAL"] = std::to_string(n) + ":SIGTERM";
    RunResult r = app.Run(args, o);
    if (r.exit_code == 0) break;  // past its last request: no signal
    const std::string at = args[1] + ": SIGTERM at request " + std::to_string(n) + ": ";
    EXPECT_EQ(r.exit_code, 128 + SIGTERM) << at << r.out << r.err;
    EXPECT_NE(r.err.find("warning: SIGTERM received: stopping the "), std::string::npos)
        << at << r.err;
    if (r.err.find("error: " + interrupted) != std::string::npos) {
      ++counts.stopped;
    } else {
      ++counts.finished;
      // Done, and ending by the signal: the exit's one error line says the work finished.
      const size_t line = r.err.find(
          "error: SIGTERM arrived while velin worked: it finished that work first (its outcome "
          "is above) and now ends by the signal");
      EXPECT_NE(line, std::string::npos) << at << r.err;
      EXPECT_EQ(r.err.find("error:"), line) << at << r.err;
      EXPECT_EQ(r.err.rfind("error:"), line) << at << r.err;
    }
    check(at, r);
  }
  std::cerr << "[signal-sweep] " << args[1] << ": stopped " << counts.stopped << " times, finished "
            << counts.finished << " times\n";
  return counts;
}

std::string S3Config(const S3Server& server) {
  return "\n[storage.s3]\nendpoint = \"" + server.endpoint() +
         "\"\nregion = \"us-east-1\"\npath_style = true\n";
}

const char* kKeepOne =
    "keep_last = 1\nretention_days = 0\nkeep_daily = 0\nkeep_weekly = 0\nkeep_monthly = 0\n"
    "keep_yearly = 0\nprune_after_create = false\n";

// SIGTERM at every request of a second backup, the same one each time, into the repository at
// `url` whose objects lie in the directory `stored`: `check` after each run; then the repository
// verifies and restores the tree.
void SweepASecondBackup(const BackupApp& app, const std::string& url, const std::string& stored,
                        const RunOptions& env, int seed,
                        const std::function<void(const std::string& at)>& check) {
  WriteFile(app.root() + "/storage/a.txt", "first\n");
  ASSERT_EQ(app.Run({"backup", "create", "--destination", url}, env).exit_code, 0);
  // Two or three packs' worth of new data: packs go out while the walk goes on.
  for (int i = 0; i < 6; ++i) {
    WriteFile(app.root() + "/storage/big" + std::to_string(i) + ".bin",
              RandomData(6 << 20, seed + i));
  }
  const std::string tree = DescribeTree(app.root() + "/storage");
  CopyTree(stored, app.path("saved"));
  // Each run is the same second backup (a committed one would make the next runs no-change).
  SweepCounts counts = SignalAtEveryRequest(
      app, {"backup", "create", "--destination", url}, env,
      "backup interrupted by SIGTERM; nothing was committed",
      [&] { CopyTree(app.path("saved"), stored); },
      [&](const std::string& at, const RunResult&) { check(at); });
  EXPECT_GE(counts.stopped, 3);
  RunResult verify = app.Run({"backup", "verify", "--all", "--destination", url}, env);
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  RunResult restore = app.Run(
      {"backup", "restore", "latest", "--target", app.path("out"), "--destination", url}, env);
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(DescribeTree(app.path("out/storage")), tree);
}

// Must show: a backup stopped at any request to S3 takes its lock object and its packs with it.
TEST(MaintenanceSignalS3, SigtermAtEveryRequestOfACreateLeavesNoLockAndNoPacks) {
  S3Server server;
  BackupApp app({"storage"}, std::string("prune_after_create = false\n") + S3Config(server));
  TempDir cache;
  const RunOptions env = S3Server::RunEnv(cache);
  const std::string url = "s3://bkt/repo";
  SweepASecondBackup(
      app, url, (fs::path(server.data_dir()) / "data" / S3Server::kBucket / "repo").string(), env,
      100, [&](const std::string& at) {
        EXPECT_EQ(S3ObjectsUnder(server, "repo/locks"), std::vector<std::string>{}) << at;
        EXPECT_EQ(YoungUnindexedPacks(app, url, env), 0) << at;
      });
}

// Must show: a backup to SFTP stopped at any request leaves no lock and no pack no index names.
// Its packs go up four at a time from unnamed files in $TMPDIR (FileServerBackend::
// NewObjectWriter): stopped, the uploads in flight are aborted together and nothing stays there.
TEST(MaintenanceSignalSftp, SigtermAtEveryRequestOfACreateLeavesNoLockAndNoPacks) {
  SshServer ssh;
  TempDir cache, spill;
  RunOptions env;
  env.env["VELIN_CACHE_DIR"] = cache.path();
  env.env["TMPDIR"] = spill.path();
  BackupApp app({"storage"}, "prune_after_create = false" + ssh.StorageConfig());
  const std::string repo = ssh.files_dir() + "/repo";
  SweepASecondBackup(app, ssh.Url(repo), repo, env, 200, [&](const std::string& at) {
    EXPECT_EQ(LocalLocks(repo), std::vector<std::string>{}) << at;
    EXPECT_EQ(UnnamedPacksIn(repo, ""), std::set<std::string>{}) << at;
    EXPECT_TRUE(fs::is_empty(spill.path())) << at;
  });
}

// A repository with one kept backup and one forgotten: prune deletes a pack, repacks one (the
// forgotten backup's chunks of mixed.bin's tail beside the kept ones of its head) and replaces
// two index objects.
void MakePrunable(const BackupApp& app, const std::vector<std::string>& destination,
                  const RunOptions& env) {
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), destination.begin(), destination.end());
    RunResult r = app.Run(args, env);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  WriteFile(app.root() + "/storage/keep.bin", RandomData(400000, 1));
  WriteFile(app.root() + "/storage/gone.bin", RandomData(600000, 2));
  WriteFile(app.root() + "/storage/dir/old.txt", "old\n");
  const std::string mixed = RandomData(8 << 20, 6);
  WriteFile(app.root() + "/storage/mixed.bin", mixed);
  run({"backup", "create"});
  WriteFile(app.root() + "/storage/mixed.bin", mixed.substr(0, 4 << 20) + RandomData(4 << 20, 7));
  fs::remove(app.root() + "/storage/gone.bin");
  fs::remove_all(app.root() + "/storage/dir");
  WriteFile(app.root() + "/storage/new.bin", RandomData(300000, 3));
  run({"backup", "create"});
  run({"backup", "forget"});
}

// Must show: a prune stopped at any request to S3 leaves the repository whole, without its lock
// or the packs it wrote; the next prune finishes the work.
TEST(MaintenanceSignalS3, SigtermAtEveryRequestOfAPruneLeavesItWholeAndUnlocked) {
  S3Server server;
  BackupApp app({"storage"}, std::string(kKeepOne) + S3Config(server));
  TempDir cache;
  const RunOptions env = S3Server::RunEnv(cache);
  const std::string url = "s3://bkt/repo";
  MakePrunable(app, {"--destination", url}, env);
  const std::string tree = DescribeTree(app.root() + "/storage");
  const std::string bucket_repo =
      (fs::path(server.data_dir()) / "data" / S3Server::kBucket / "repo").string();
  CopyTree(bucket_repo, app.path("saved"));
  SweepCounts counts = SignalAtEveryRequest(
      app, {"backup", "prune", "--destination", url}, env,
      "prune interrupted by SIGTERM; the repository is whole: run it again to finish",
      [&] { CopyTree(app.path("saved"), bucket_repo); },
      [&](const std::string& at, const RunResult&) {
        EXPECT_EQ(S3ObjectsUnder(server, "repo/locks"), std::vector<std::string>{}) << at;
        EXPECT_EQ(PacksLeftBy(bucket_repo, app.path("saved"), "._S3rver_object"),
                  std::set<std::string>{})
            << at;
        RunResult verify = app.Run({"backup", "verify", "--all", "--destination", url}, env);
        EXPECT_EQ(verify.exit_code, 0) << at << verify.err;
      });
  EXPECT_GE(counts.stopped, 5);
  RunResult pruned = app.Run({"backup", "prune", "--destination", url}, env);
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  RunResult restore = app.Run(
      {"backup", "restore", "latest", "--target", app.path("out"), "--destination", url}, env);
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(DescribeTree(app.path("out/storage")), tree);
}

// Must show: a copy into S3 stopped at any request (of either repository) leaves no lock in
// either and no pack that no index names in the target; the next copy completes it.
TEST(MaintenanceSignalS3, SigtermAtEveryRequestOfACopyLeavesBothUnlocked) {
  S3Server server;
  BackupApp app({"storage"}, std::string("prune_after_create = false\n") + S3Config(server));
  TempDir cache;
  const RunOptions env = S3Server::RunEnv(cache);
  const std::string url = "s3://bkt/offsite";
  WriteFile(app.root() + "/storage/a.bin", RandomData(700000, 4));
  WriteFile(app.root() + "/storage/b.txt", "b\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  WriteFile(app.root() + "/storage/c.bin", RandomData(500000, 5));
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  SweepCounts counts = SignalAtEveryRequest(
      app, {"backup", "copy", "--all", "--to", url}, env,
      "copy interrupted by SIGTERM; run it again to copy what is missing in " + url,
      [&] { fs::remove_all(fs::path(server.data_dir()) / "data" / S3Server::kBucket / "offsite"); },
      [&](const std::string& at, const RunResult&) {
        EXPECT_EQ(S3ObjectsUnder(server, "offsite/locks"), std::vector<std::string>{}) << at;
        EXPECT_EQ(LocalLocks(app.repo()), std::vector<std::string>{}) << at;
        if (!S3ObjectsUnder(server, "offsite/config").empty()) {
          EXPECT_EQ(YoungUnindexedPacks(app, url, env), 0) << at;
        }
      });
  EXPECT_GE(counts.stopped, 3);
  auto copied = app.Json({"backup", "copy", "--all", "--to", url}, 0, env);
  EXPECT_EQ(copied.value("snapshots_copied", -1) + copied.value("snapshots_present", -1), 2)
      << copied.dump();
  RunResult verify = app.Run({"backup", "verify", "--all", "--destination", url}, env);
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

// Must show: on a local repository prune and forget stop at any request with their lock gone and
// the repository whole (a forget stops between two backups, oldest first).
TEST(MaintenanceSignalLocal, SigtermAtEveryRequestOfPruneAndForgetLeavesItWholeAndUnlocked) {
  BackupApp app({"storage"}, kKeepOne);
  MakePrunable(app, {}, {});
  CopyTree(app.repo(), app.path("saved"));
  auto whole = [&](const std::string& at, const RunResult&) {
    EXPECT_EQ(LocalLocks(app.repo()), std::vector<std::string>{}) << at;
    EXPECT_EQ(PacksLeftBy(app.repo(), app.path("saved"), ""), std::set<std::string>{}) << at;
    EXPECT_EQ(TempFilesUnder(app.repo()), std::vector<std::string>{}) << at;
    RunResult verify = app.Run({"backup", "verify", "--all"});
    EXPECT_EQ(verify.exit_code, 0) << at << verify.err;
  };
  SweepCounts pruned = SignalAtEveryRequest(
      app, {"backup", "prune"}, {},
      "prune interrupted by SIGTERM; the repository is whole: run it again to finish",
      [&] { CopyTree(app.path("saved"), app.repo()); }, whole);
  EXPECT_GE(pruned.stopped, 5);

  // Three more backups to forget (keep_last = 1): each forget run starts from all four.
  for (int i = 0; i < 3; ++i) {
    WriteFile(app.root() + "/storage/n" + std::to_string(i) + ".txt", std::to_string(i));
    ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  }
  CopyTree(app.repo(), app.path("saved"));
  SweepCounts forgot = SignalAtEveryRequest(
      app, {"backup", "forget"}, {},
      "forget interrupted by SIGTERM; some backups it would forget may remain: run it again",
      [&] { CopyTree(app.path("saved"), app.repo()); },
      [&](const std::string& at, const RunResult& r) {
        whole(at, r);
        const size_t left = app.Json({"backup", "list"})["backups"].size();
        EXPECT_GE(left, 1u) << at;
        EXPECT_LE(left, 4u) << at;
      });
  EXPECT_GE(forgot.stopped, 2);
  ASSERT_EQ(app.Run({"backup", "forget"}).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "prune"}).exit_code, 0);
  RunResult restore = app.Run({"backup", "restore", "latest", "--target", app.path("out")});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(DescribeTree(app.path("out/storage")), DescribeTree(app.root() + "/storage"));
  EXPECT_EQ(app.Json({"backup", "list"})["backups"].size(), 1u);
}

}  // namespace
}  // namespace velin::testing
