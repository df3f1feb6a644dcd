// Every I/O failure of create, prune and restore, one at a time (SQLite's I/O-error tests, on a
// MemEnv): a run without faults counts the writes, fsyncs, renames and creations an operation
// makes; then, for each of them, the same operation runs again in a fresh world with exactly
// that call failing (EIO), and again with the disk full from that call on (ENOSPC, sticky, the
// failing write first writing half of its bytes). Whatever the call:
//  - a failure is reported as such (exit 1 with the errno's text), never as damage (exit 4);
//  - create: every backup the repository lists restores byte for byte, and a rerun succeeds;
//  - prune: the backup it keeps still restores, and a second prune finishes the job;
//  - restore: no file of the target ever holds part of its content under its own name, no temp
//    file is left, and a rerun brings back the whole tree — with unnamed files (O_TMPFILE), on
//    a file system without them, and over an earlier restore.
#include <cstring>
#include <functional>
#include <map>
#include <random>

#include "mem_repo.hpp"
#include "support/test_support.hpp"
#include "velin/backup/pruner.hpp"
#include "velin/backup/restorer.hpp"
#include "velin/backup/verifier.hpp"
#include "velin/io/fault_injection_env.hpp"

namespace velin::backup {
namespace {

// What a tree holds: regular files by content, symlinks as "-> target", directories as "/",
// and, to plant, a hard link to another file as "=> its path".
using Tree = std::map<std::string, std::string>;

// `planted` as it reads back: a hard link is a file with its target's content.
Tree AsRead(const Tree& planted) {
  Tree out = planted;
  for (auto& [name, content] : out) {
    if (content.rfind("=> ", 0) == 0) content = planted.at(content.substr(3));
  }
  return out;
}

// A repository under /repo and an application under /app, both behind a FaultInjectionEnv.
struct World {
  io::MemEnv mem;
  io::FaultInjectionEnv env{mem};
  NullReporter quiet;
  std::unique_ptr<storage::LocalBackend> backend;
  std::unique_ptr<repo::Repository> repo;
  bool fired = false;  // whether the armed rule failed a call

  // Arms `rule` for the operation that follows; Disarm() ends it and keeps whether it fired.
  void Arm(std::optional<io::FaultRule> rule) { env.SetRule(rule); }
  bool Disarm() {
    fired = env.Fired();
    env.SetRule(std::nullopt);
    return fired;
  }

  World() {
    auto b = storage::LocalBackend::Open(env, "/repo", true);
    EXPECT_TRUE(b) << b.error().message;
    backend = std::move(*b);
    auto r = repo::Repository::Open(*backend, true);
    EXPECT_TRUE(r) << r.error().message;
    Reopen();
  }

  void Reopen() {
    auto r = repo::Repository::Open(*backend, false);
    ASSERT_TRUE(r) << r.error().message;
    repo = std::move(*r);
    auto loaded = repo->LoadIndex();
    ASSERT_TRUE(loaded) << loaded.error().message;
  }

  // Makes /app/storage hold exactly `tree` (paths relative to /app).
  void Plant(const Tree& tree) {
    (void)io::RemoveAll(mem, "/app");
    ASSERT_TRUE(io::CreateDirs(mem, "/app/storage"));
    for (const auto& [rel, content] : tree) {
      const std::string path = "/app/" + rel;
      if (content == "/") {
        ASSERT_TRUE(io::CreateDirs(mem, path));
      } else if (content.rfind("=> ", 0) == 0) {
        continue;  // after every file is there
      } else if (content.rfind("-> ", 0) == 0) {
        ASSERT_TRUE(io::CreateDirs(mem, io::Dirname(path)));
        ASSERT_TRUE(mem.Symlink(content.substr(3), path));
      } else {
        ASSERT_TRUE(io::CreateDirs(mem, io::Dirname(path)));
        ASSERT_TRUE(io::WriteFileDurably(mem, path, content));
      }
    }
    for (const auto& [rel, content] : tree) {
      if (content.rfind("=> ", 0) == 0) {
        ASSERT_TRUE(mem.HardLink("/app/" + content.substr(3), "/app/" + rel));
      }
    }
  }

  Result<repo::Snapshot> Backup(repo::Strategy strategy = repo::Strategy::kFull) {
    Reopen();
    CreateOptions o;
    o.app_root = "/app";
    o.include = {"storage"};
    o.strategy = strategy;
    o.velin_version = "test";
    o.app = "shop";
    auto snap = CreateBackup(*repo, env, quiet, o);
    mem.Advance(std::chrono::minutes(1));  // the next backup gets another id
    return snap;
  }

  Result<RestoreStats> Restore(const repo::Snapshot& snap, const std::string& target) {
    Reopen();
    return RestoreSnapshot(*repo, snap, env, quiet, {.target = target});
  }

  // Everything under `root` (relative names), read without faults.
  Tree Walk(const std::string& root) {
    Tree out;
    std::function<void(const std::string&, const std::string&)> walk = [&](const std::string& dir,
                                                                           const std::string& rel) {
      auto entries = mem.ListDir(dir);
      ASSERT_TRUE(entries) << dir << ": " << entries.error().message;
      for (const auto& e : *entries) {
        const std::string path = dir + "/" + e.name;
        const std::string name = rel.empty() ? e.name : rel + "/" + e.name;
        if (e.type == io::FileType::kDirectory) {
          out[name] = "/";
          walk(path, name);
        } else if (e.type == io::FileType::kSymlink) {
          auto target = mem.ReadLink(path);
          ASSERT_TRUE(target) << target.error().message;
          out[name] = "-> " + *target;
        } else {
          auto text = mem.ReadFile(path);
          ASSERT_TRUE(text) << text.error().message;
          out[name] = *text;
        }
      }
    };
    walk(root, "");
    return out;
  }

  // The snapshot restores, into a fresh directory, to exactly `want` (plus "storage" itself).
  void ExpectRestores(const repo::Snapshot& snap, const Tree& want, const std::string& why) {
    static int n = 0;
    const std::string target = "/check-" + std::to_string(++n);
    auto restored = Restore(snap, target);
    ASSERT_TRUE(restored) << why << ": " << restored.error().message;
    Tree got = Walk(target);
    got.erase("storage");
    EXPECT_EQ(got, AsRead(want)) << why << ": backup " << snap.id
                                 << " does not restore what it saw";
    (void)io::RemoveAll(mem, target);
  }

  void ExpectVerifies(const std::string& why) {
    Reopen();
    auto report = VerifyBackups(*repo, quiet, {});
    ASSERT_TRUE(report) << why << ": " << report.error().message;
    EXPECT_TRUE(report->problems.empty())
        << why << ": " << (report->problems.empty() ? "" : report->problems.front());
  }
};

// Two versions of a small application: files of several sizes (one of several chunks), a
// subdirectory, a symlink; the second changes, removes and adds files. Seeded: the same bytes
// in every run. `mixed` adds 48 small files, a seeded random half of them the same in both
// versions: however the create's workers (one per core) share the blobs out, some pack then
// holds data of both backups, so a prune after the first is forgotten repacks.
Tree Version(int v, bool mixed = false) {
  std::mt19937 rng(1234 + v);
  auto bytes = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xff);
    return s;
  };
  std::mt19937 shared_rng(99);
  auto shared = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(shared_rng() & 0xff);
    return s;
  };
  Tree t;
  // Kept in both versions, so a pack can hold data of both backups.
  t["storage/keep-1.bin"] = shared(3000);
  t["storage/keep-2.txt"] = "the same in both backups\n";
  t["storage/docs"] = "/";
  t["storage/docs/big.bin"] = shared(600 << 10);  // more than one chunk
  t["storage/docs/link"] = "-> ../keep-2.txt";
  t["storage/docs/keep-2-again.txt"] = "=> storage/keep-2.txt";
  for (int i = 0; i < 4; ++i) {
    t["storage/v" + std::to_string(v) + "-" + std::to_string(i) + ".bin"] = bytes(500 + 700 * i);
  }
  t["storage/changed.txt"] = "version " + std::to_string(v) + "\n" + bytes(2000);
  if (mixed) {
    t["storage/mix"] = "/";
    std::mt19937 pattern(7);
    for (int i = 0; i < 48; ++i) {
      const bool same = (pattern() & 1) != 0;
      t["storage/mix/" + std::to_string(100 + i)] =
          same ? "kept " + std::to_string(i) : bytes(300) + std::to_string(i);
    }
  }
  return t;
}

// One failure of every call an operation makes, under both rules; `run` sets up a fresh world,
// arms the rule just before the operation and disarms it right after (World::Arm, Disarm), and
// checks the outcome.
void Sweep(const std::string& what,
           const std::function<void(World&, std::optional<io::FaultRule>)>& run) {
  for (const io::FaultRule& kind : {io::FaultRule{io::FaultOp::kAny, 1, EIO, false, false},
                                    io::FaultRule{io::FaultOp::kAny, 1, ENOSPC, true, true}}) {
    size_t fired = 0;
    const uint64_t stride = velin::testing::SweepStride();
    for (uint64_t n = 1; n < 5000; n += stride) {
      io::FaultRule rule = kind;
      rule.nth = n;
      auto world = std::make_unique<World>();
      run(*world, rule);
      if (::testing::Test::HasFatalFailure() || ::testing::Test::HasNonfatalFailure()) {
        ADD_FAILURE() << what << " failing at call " << n << " with "
                      << (kind.sticky ? "ENOSPC from then on" : "EIO once");
        return;
      }
      if (!world->fired) break;  // past the last call: the operation ran clean
      ++fired;
    }
    EXPECT_GE(fired * stride, 5u) << what << ": too few calls to be a sweep";
    // The number of calls failed, for docs/reliability.md (--gtest_output=xml shows it).
    ::testing::Test::RecordProperty(what + (kind.sticky ? "_enospc_from" : "_eio_at"),
                                    static_cast<int>(fired));
  }
}

// A failure is an I/O error with its errno's text, never damage.
template <typename T>
void ExpectIoFailure(const Result<T>& r, const io::FaultRule& rule, const std::string& what) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ExitCode::kFailed) << what << ": " << r.error().message;
  EXPECT_NE(r.error().message.find(std::strerror(rule.error)), std::string::npos)
      << what << ": " << r.error().message;
}

TEST(FaultSweepMemTest, CreateFailingAtAnyCallKeepsEveryListedBackupRestorable) {
  const Tree v1 = Version(1), v2 = Version(2);
  Sweep("create", [&](World& w, std::optional<io::FaultRule> rule) {
    w.Plant(v1);
    auto first = w.Backup();
    ASSERT_TRUE(first) << first.error().message;
    w.Plant(v2);
    w.Arm(rule);
    auto second = w.Backup(repo::Strategy::kIncremental);
    const bool fired = w.Disarm();
    if (!second) ExpectIoFailure(second, *rule, "create");
    if (!fired) {
      ASSERT_TRUE(second) << second.error().message;
    }

    w.Reopen();
    auto ids = w.repo->ListSnapshotIds();
    ASSERT_TRUE(ids) << ids.error().message;
    for (const std::string& id : *ids) {
      auto snap = w.repo->LoadSnapshot(id);
      ASSERT_TRUE(snap) << snap.error().message;
      w.ExpectRestores(*snap, id == first->id ? v1 : v2, "after the failed create");
    }
    if (second) {
      EXPECT_EQ(ids->size(), 2u);
    } else {
      EXPECT_GE(ids->size(), 1u);  // the first backup, and the second if it was committed
      EXPECT_LE(ids->size(), 2u);
    }
    if (!second) {
      auto rerun = w.Backup(repo::Strategy::kIncremental);
      ASSERT_TRUE(rerun) << "a create after the failed one: " << rerun.error().message;
      w.ExpectRestores(*rerun, v2, "the rerun");
    }
    w.ExpectVerifies("after the create");
  });
}

TEST(FaultSweepMemTest, PruneFailingAtAnyCallKeepsTheKeptBackupAndASecondPruneFinishes) {
  const Tree v1 = Version(1, true), v2 = Version(2, true);
  bool repacked = false;
  Sweep("prune", [&](World& w, std::optional<io::FaultRule> rule) {
    w.Plant(v1);
    auto first = w.Backup();
    ASSERT_TRUE(first) << first.error().message;
    w.Plant(v2);
    auto second = w.Backup();
    ASSERT_TRUE(second) << second.error().message;
    ASSERT_TRUE(w.backend->Delete(repo::SnapshotObjectName(first->id)));  // forgotten
    PruneOptions all;
    all.repack_threshold = 0.0;  // a pack with any unused blob is repacked
    w.Reopen();
    w.Arm(rule);
    auto pruned = Prune(*w.repo, w.env, all, w.quiet);
    const bool fired = w.Disarm();
    if (!pruned) ExpectIoFailure(pruned, *rule, "prune");
    if (!fired) {
      ASSERT_TRUE(pruned) << pruned.error().message;
      EXPECT_TRUE(pruned->changed);
      repacked = repacked || pruned->packs_repacked > 0;
    }
    w.ExpectRestores(*second, v2, "after the failed prune");
    w.ExpectVerifies("after the failed prune");

    // What the failed prune wrote and indexed nowhere is left alone until it is old enough.
    w.mem.Advance(std::chrono::minutes(31));
    w.Reopen();
    auto again = Prune(*w.repo, w.env, all, w.quiet);
    ASSERT_TRUE(again) << "a prune after the failed one: " << again.error().message;
    w.ExpectRestores(*second, v2, "after the second prune");
    w.ExpectVerifies("after the second prune");
    w.Reopen();
    auto third = Prune(*w.repo, w.env, all, w.quiet);
    ASSERT_TRUE(third) << third.error().message;
    EXPECT_FALSE(third->changed) << "the second prune left work undone";
  });
  EXPECT_TRUE(repacked) << "no run repacked a pack: the sweep missed the repack's calls";
}

// `unnamed_files`: whether the target's file system makes unnamed files (O_TMPFILE: each file is
// linked under its name once complete) or not (a temporary name renamed into place).
void SweepRestore(const std::string& what, bool unnamed_files) {
  Tree planted = Version(1);
  // Over 1 MiB: written by a worker of its own, beside the batches of small files.
  std::mt19937 rng(77);
  std::string large((1 << 20) + 4321, '\0');
  for (char& c : large) c = static_cast<char>(rng() & 0xff);
  planted["storage/docs/large.bin"] = large;
  const Tree v1 = AsRead(planted);
  Sweep(what, [&](World& w, std::optional<io::FaultRule> rule) {
    w.mem.SetUnnamedFiles(unnamed_files);
    w.Plant(planted);
    auto snap = w.Backup();
    ASSERT_TRUE(snap) << snap.error().message;
    ASSERT_TRUE(io::CreateDirs(w.mem, "/restore"));
    w.Arm(rule);
    auto restored = w.Restore(*snap, "/restore");
    const bool fired = w.Disarm();
    if (!restored) ExpectIoFailure(restored, *rule, "restore");
    if (!fired) {
      ASSERT_TRUE(restored) << restored.error().message;
    }

    Tree got = w.Walk("/restore");
    for (const auto& [name, content] : got) {
      EXPECT_EQ(name.find(".velin-restore-"), std::string::npos) << "temp file left: " << name;
      if (name == "storage") continue;
      auto want = v1.find(name);
      ASSERT_NE(want, v1.end()) << "restored what the backup does not hold: " << name;
      if (content != "/") {
        EXPECT_EQ(content.size(), want->second.size()) << name << " is there in part";
        EXPECT_TRUE(content == want->second) << name << " holds other bytes";
      }
    }
    if (!restored) {
      auto rerun = w.Restore(*snap, "/restore");
      ASSERT_TRUE(rerun) << "a restore after the failed one: " << rerun.error().message;
    }
    Tree all = w.Walk("/restore");
    all.erase("storage");
    EXPECT_EQ(all, v1);
  });
}

TEST(FaultSweepMemTest, RestoreFailingAtAnyCallNeverLeavesAPartialFileOrATempFile) {
  SweepRestore("restore", true);
}

TEST(FaultSweepMemTest, RestoreWithoutUnnamedFilesFailingAtAnyCallLeavesNoPartialOrTempFile) {
  SweepRestore("restore_named", false);
}

// A restore over an earlier one (names taken: each file is linked under a temporary name and
// renamed over the old one) failing at any call: every file holds either the first backup's
// bytes or the second's, whole; no temp file is left; a rerun completes the second.
TEST(FaultSweepMemTest, RestoreOverAnEarlierRestoreFailingAtAnyCallReplacesEachFileWhole) {
  const Tree v1 = AsRead(Version(1)), v2 = AsRead(Version(2));
  Sweep("restore_over", [&](World& w, std::optional<io::FaultRule> rule) {
    w.Plant(Version(1));
    auto first = w.Backup();
    ASSERT_TRUE(first) << first.error().message;
    w.Plant(Version(2));
    auto second = w.Backup();
    ASSERT_TRUE(second) << second.error().message;
    ASSERT_TRUE(w.Restore(*first, "/restore"));
    w.Arm(rule);
    auto restored = w.Restore(*second, "/restore");
    const bool fired = w.Disarm();
    if (!restored) ExpectIoFailure(restored, *rule, "restore over");
    if (!fired) {
      ASSERT_TRUE(restored) << restored.error().message;
    }

    for (const auto& [name, content] : w.Walk("/restore")) {
      EXPECT_EQ(name.find(".velin-restore-"), std::string::npos) << "temp file left: " << name;
      if (name == "storage" || content == "/") continue;
      auto old_one = v1.find(name);
      auto new_one = v2.find(name);
      const bool whole = (old_one != v1.end() && content == old_one->second) ||
                         (new_one != v2.end() && content == new_one->second);
      EXPECT_TRUE(whole) << name << " is neither the first backup's nor the second's";
    }
    if (!restored) {
      auto rerun = w.Restore(*second, "/restore");
      ASSERT_TRUE(rerun) << "a restore after the failed one: " << rerun.error().message;
    }
    Tree all = w.Walk("/restore");
    all.erase("storage");
    for (const auto& [name, content] : v2) EXPECT_EQ(all[name], content) << name;
  });
}

}  // namespace
}  // namespace velin::backup
