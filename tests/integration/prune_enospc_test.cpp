// A full disk in the middle of a prune's repack (issue 16 §2): three backups of 24 small
// static files (in every backup) and 24 changing ones, the oldest forgotten, and
// `repack_threshold = 0`, so each pack of the forgotten backup — its live static blobs mixed
// with dead changing ones — is repacked: prune copies the live blobs into a new pack, writes a
// new index, and only then deletes what they replace. The disk fills up at every point of that:
//  - through the fault-injecting Env (VELIN_FAULT_INJECT), ENOSPC at every create, write (whole
//    and short), fsync and rename index the prune reaches, lock and repack alike;
//  - on a small real tmpfs holding the repository, with the free room left before the prune
//    stepped from nothing to more than the repack needs.
// At every point: exit 1 with one line that says "No space left" and names the path; no temp
// file; the repository's packs and index objects exactly as before (nothing deleted, the new
// pack and index of the failed prune removed again); verify passes and every backup restores
// byte-identical. Then, with room again, a second prune succeeds, repacks, and leaves one index,
// no temp file and nothing but indexed packs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// Every object file (packs and index objects) under the repository, relative, with its size.
std::map<std::string, uintmax_t> Objects(const std::string& repo) {
  std::map<std::string, uintmax_t> out;
  for (const char* dir : {"data", "index"}) {
    if (!fs::exists(repo + "/" + dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(repo + "/" + dir)) {
      if (e.is_regular_file()) {
        out[fs::relative(e.path(), repo).string()] = e.file_size();
      }
    }
  }
  return out;
}

// What differs between two listings of Objects(): "+name" added, "-name" gone, "~name" resized.
std::string Changes(const std::map<std::string, uintmax_t>& before,
                    const std::map<std::string, uintmax_t>& after) {
  std::string out;
  for (const auto& [name, size] : after) {
    auto it = before.find(name);
    if (it == before.end()) out += " +" + name;
    if (it != before.end() && it->second != size) out += " ~" + name;
  }
  for (const auto& [name, size] : before) {
    if (!after.count(name)) out += " -" + name;
  }
  return out;
}

std::vector<std::string> TempFiles(const std::string& repo) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(repo)) {
    if (e.path().filename().string().find(".tmp") != std::string::npos) {
      out.push_back(e.path().string());
    }
  }
  return out;
}

size_t CountLines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

class PruneEnospcTest : public ::testing::Test {
 protected:
  static constexpr int kFiles = 24;
  static constexpr size_t kFileSize = 6000;

  // Makes the three backups, forgets the oldest and keeps a copy of the repository.
  void MakeBackups() {
    const std::string storage = app_.root() + "/storage";
    for (int f = 0; f < kFiles; ++f) {
      WriteFile(storage + "/static/s" + std::to_string(f), RandomData(kFileSize, 1000 + f));
    }
    for (int i = 0; i < 3; ++i) {
      for (int f = 0; f < kFiles; ++f) {
        WriteFile(storage + "/changing/c" + std::to_string(f),
                  RandomData(kFileSize, 5000 + 100 * i + f));
      }
      RunOptions at;
      at.env["VELIN_NOW"] = "2026-11-0" + std::to_string(i + 1) + "T10:00:00Z";
      nlohmann::json made = app_.Json({"backup", "create"}, 0, at);
      ASSERT_TRUE(made.contains("id")) << made;
      if (i > 0) expected_[made["id"].get<std::string>()] = DescribeTree(storage);
    }
    ASSERT_EQ(app_.Run({"backup", "forget"}).exit_code, 0);
    ASSERT_EQ(app_.Json({"backup", "list"})["backups"].size(), 2u);
    // The recipe holds: the forgotten backup's packs mix live and dead blobs.
    nlohmann::json dry = app_.Json({"backup", "prune", "--dry-run"});
    ASSERT_GE(dry["packs_repacked"].get<int>(), 1) << dry;
    objects_ = Objects(app_.repo());
    fs::copy(app_.repo(), app_.path("saved"), fs::copy_options::recursive);
  }

  // The bytes of the packs the repack writes, measured by the same prune on a copy of the saved
  // repository outside any small mount: how many static blobs share a pack with dead ones
  // depends on how the backups' workers filled their packs, so it differs from run to run (the
  // whole 144,000 bytes of static files, or half of them).
  uint64_t RepackBytes() {
    const std::string probe = app_.path("probe");
    fs::copy(app_.path("saved"), probe, fs::copy_options::recursive);
    const auto before = Objects(probe);
    RunResult r = app_.Run({"backup", "prune", "--destination", probe});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    uint64_t bytes = 0;
    for (const auto& [name, size] : Objects(probe)) {
      if (!before.count(name) && name.rfind("data/", 0) == 0) bytes += size;
    }
    fs::remove_all(probe);
    return bytes;
  }

  // Puts the saved repository back (into the mount point, when the repository is one).
  void ResetRepo() {
    for (const auto& e : fs::directory_iterator(app_.repo())) fs::remove_all(e.path());
    fs::copy(app_.path("saved"), app_.repo(), fs::copy_options::recursive);
  }

  // A prune that failed for want of room: one line naming the disk and the path, nothing of
  // the repository lost or left behind, every backup verifying and restoring identically.
  // Before its new index is in place the repository is as it was; after (an fsync of the
  // removals failed) the new index stands, the message says to run prune again, and the
  // objects not yet removed stay for it. Returns whether the prune got that far.
  bool ExpectFailedCleanly(const RunResult& r, const std::string& point, bool no_lock) {
    EXPECT_EQ(r.exit_code, 1) << point << ": " << r.err;
    EXPECT_EQ(CountLines(r.err), 1u) << point << ": " << r.err;
    EXPECT_NE(r.err.find("No space left"), std::string::npos) << point << ": " << r.err;
    EXPECT_NE(r.err.find(app_.repo()), std::string::npos) << point << ": " << r.err;
    EXPECT_EQ(TempFiles(app_.repo()), std::vector<std::string>{}) << point;
    const std::string changes = Changes(objects_, Objects(app_.repo()));
    const bool committed = changes.find("+index/") != std::string::npos;
    if (committed) {
      EXPECT_NE(r.err.find("new index in place"), std::string::npos) << point << ": " << r.err;
      EXPECT_NE(r.err.find("run prune again"), std::string::npos) << point << ": " << r.err;
    } else {
      EXPECT_EQ(changes, "") << point;
    }
    std::vector<std::string> verify{"backup", "verify", "--all"};
    if (no_lock) verify.push_back("--no-lock");
    RunResult v = app_.Run(verify);
    EXPECT_EQ(v.exit_code, 0) << point << ": " << v.out << v.err;
    for (const auto& [id, tree] : expected_) {
      const std::string out = app_.path("out");
      fs::remove_all(out);
      std::vector<std::string> restore{"backup", "restore", id, "--target", out};
      if (no_lock) restore.push_back("--no-lock");
      RunResult res = app_.Run(restore);
      if (res.exit_code != 0) {
        ADD_FAILURE() << point << ": restore of " << id << " failed: " << res.err;
        return committed;
      }
      EXPECT_EQ(DescribeTree(out + "/storage"), tree) << point << ": " << id;
      fs::remove_all(out);
    }
    return committed;
  }

  // With room again: the prune completes and repacks, and leaves one index object and no
  // temp file. (`full`: then a third prune finds nothing to do — no unindexed pack lingers —
  // and verify passes; the failed prune left the objects as they were, so once is enough.)
  // (`committed`: the failed prune's new index is in place, so nothing is left to repack.)
  void ExpectSecondPruneSucceeds(const std::string& point, bool full, bool committed = false) {
    nlohmann::json pruned = app_.Json({"backup", "prune"});
    EXPECT_EQ(pruned["packs_repacked"].get<int>() >= 1, !committed) << point << ": " << pruned;
    EXPECT_EQ(TempFiles(app_.repo()), std::vector<std::string>{}) << point;
    auto after = Objects(app_.repo());
    int indexes = 0;
    for (const auto& [name, size] : after) indexes += name.rfind("index/", 0) == 0;
    EXPECT_EQ(indexes, 1) << point;
    if (!full) return;
    RunResult again = app_.Run({"backup", "prune"});
    EXPECT_EQ(again.exit_code, 0) << point << ": " << again.err;
    EXPECT_NE(again.out.find("Nothing to prune"), std::string::npos) << point << ": " << again.out;
    EXPECT_EQ(Changes(after, Objects(app_.repo())), "") << point;
    RunResult v = app_.Run({"backup", "verify", "--all"});
    EXPECT_EQ(v.exit_code, 0) << point << ": " << v.out << v.err;
  }

  BackupApp app_{{"storage"},
                 "keep_last = 2\nprune_after_create = false\ncompression = \"none\"\n"
                 "repack_threshold = 0.0"};
  std::map<std::string, std::string> expected_;
  std::map<std::string, uintmax_t> objects_;
};

// ENOSPC from the fault-injecting Env at every create, write, short write, fsync and rename
// index of the prune, until the prune gets past the last one.
TEST_F(PruneEnospcTest, InjectedEnospcAtEveryWriteAndSyncOfTheRepack) {
  MakeBackups();
  if (HasFatalFailure()) return;
  int points = 0, in_pack = 0, in_index = 0, after_commit = 0;
  for (const std::string op : {"create", "write", "write-short", "sync", "rename"}) {
    int n = 1;
    for (;; ++n) {
      ASSERT_LT(n, 40) << op << ": the prune never got past the fault";
      ResetRepo();
      const bool short_write = op == "write-short";
      RunOptions options;
      options.env["VELIN_FAULT_INJECT"] = (short_write ? std::string("write") : op) + ":" +
                                          std::to_string(n) + ":ENOSPC" +
                                          (short_write ? ":short" : "");
      RunResult r = app_.Run({"backup", "prune"}, options);
      const std::string point = op + " #" + std::to_string(n);
      if (r.exit_code == 0) break;  // past the last call of this kind
      ++points;
      in_pack += r.err.find("/data/") != std::string::npos;
      in_index += r.err.find("/index/") != std::string::npos;
      const bool committed = ExpectFailedCleanly(r, point, false);
      after_commit += committed;
      ExpectSecondPruneSucceeds(point, points == 1, committed);
      if (HasFatalFailure()) return;
    }
    EXPECT_GE(n, 3) << op << ": lock, pack and index each take one at least";
  }
  std::cerr << "[prune enospc] " << points << " fault points: " << in_pack << " in the new pack, "
            << in_index << " in the new index, " << after_commit
            << " after it (an fsync of the removals)\n";
  EXPECT_GE(after_commit, 2);  // the old index objects' removal, the old packs' removal
  EXPECT_GE(in_pack, 5);
  EXPECT_GE(in_index, 5);
}

// A real small tmpfs holding the repository; before each prune a filler file leaves it
// `room` bytes, stepped from none up through the size of the new pack the repack writes.
TEST_F(PruneEnospcTest, RealFullDiskAtEveryStageOfTheRepack) {
  SmallTmpfs small(app_.repo(), "3m");
  if (!small.mounted()) GTEST_SKIP() << "mount -t tmpfs not permitted here";
  MakeBackups();
  if (HasFatalFailure()) return;
  // What the repack writes: the live (static) blobs of the packs it repacks.
  const uint64_t pack = RepackBytes();
  ASSERT_GT(pack, 0u) << "the repack writes a pack";
  const std::string filler = app_.repo() + "/filler";
  int failed = 0;
  bool succeeded = false;
  for (uint64_t room :
       {uint64_t{0}, uint64_t{4096}, uint64_t{8192}, pack / 4, pack / 2, pack * 3 / 4, pack - 8192,
        pack, pack + 8192, pack + 16384, pack + 32768, pack * 2, pack * 4}) {
    ResetRepo();
    FillLeaving(filler, room);
    const std::string point = "room " + std::to_string(room);
    RunResult r = app_.Run({"backup", "prune"});
    if (r.exit_code == 0) {
      succeeded = true;
      // It wrote the pack: it cannot have fit in half of its size.
      EXPECT_GT(room, pack / 2) << "bytes the repack wrote: " << pack;
      fs::remove(filler);
      EXPECT_EQ(TempFiles(app_.repo()), std::vector<std::string>{}) << point;
      RunResult v = app_.Run({"backup", "verify", "--all"});
      EXPECT_EQ(v.exit_code, 0) << point << ": " << v.out << v.err;
      break;
    }
    ++failed;
    const bool committed = ExpectFailedCleanly(r, point, true);
    fs::remove(filler);
    ExpectSecondPruneSucceeds(point, failed == 1, committed);
    if (HasFatalFailure()) return;
  }
  std::cerr << "[prune enospc tmpfs] " << failed << " prunes failed for want of room\n";
  EXPECT_TRUE(succeeded) << "the prune never fit";
  EXPECT_GE(failed, 3);  // no room, a page, two pages: the lock, the pack, the index
}

}  // namespace
}  // namespace velin::testing
