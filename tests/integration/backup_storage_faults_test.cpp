// Storage that lies or fills up (issue 16 §2): a backend that flips one bit in a fraction of the
// packs it reads (restic's checker test) — verify names every damaged pack, restore refuses
// damaged data with exit 4 and writes no damaged file; a restore into a small real tmpfs fails
// with one line, exit 1, and leaves no temp file; EIO/ENOSPC at every write and fsync index of a
// restore and of a prune fail cleanly and leave the repository verifying.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <set>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/backend.hpp"
#include "velin/storage/bit_flip_backend.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// Every regular file restored under `out` (the restored app root) is byte-identical to the same
// path under `source`: a damaged file must never be left looking restored.
void ExpectOnlyGoodFiles(const std::string& out, const std::string& source) {
  if (!fs::exists(out)) return;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), out).string();
    ASSERT_TRUE(fs::exists(source + "/" + rel)) << rel;
    EXPECT_EQ(ReadFileOrDie(e.path().string()), ReadFileOrDie(source + "/" + rel)) << rel;
  }
}

TEST(BackupStorageFaultsTest, BitFlipsInPackReadsAreAllReportedAndNeverRestored) {
  BackupApp app;
  // Eight creates, each adding files: several packs of data and of trees.
  for (int i = 0; i < 8; ++i) {
    WriteFile(app.root() + "/storage/f" + std::to_string(i), RandomData(3000 + 997 * i, 40 + i));
    WriteFile(app.root() + "/storage/d" + std::to_string(i) + "/g", "small " + std::to_string(i));
    ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  }
  auto backend = storage::OpenBackend(app.repo(), {}, io::Env::Default(), false);
  ASSERT_TRUE(backend) << backend.error().message;
  auto packs = (*backend)->List("data/");
  ASSERT_TRUE(packs);
  ASSERT_GE(packs->size(), 8u);
  // The packs the index resolves some blob to: what verify and restore read. A pack whose blobs
  // are all found first in another pack is never read, so a flip there harms nothing.
  std::set<std::string> live;
  {
    auto repo = repo::Repository::Open(**backend, false);
    ASSERT_TRUE(repo) << repo.error().message;
    ASSERT_TRUE((*repo)->LoadIndex());
    (*repo)->index().ForEach([&](const repo::BlobId&, const repo::IndexEntry& e) {
      live.insert((*repo)->index().PackId(e.pack).Hex());
    });
  }

  std::vector<std::string> ids;
  const nlohmann::json list = app.Json({"backup", "list"});
  for (const auto& b : list["backups"]) ids.push_back(b["id"]);
  ASSERT_EQ(ids.size(), 8u);
  int injected_total = 0, detected_total = 0, masked_total = 0, refused_restores = 0,
      unread_flips = 0;
  for (uint64_t seed : {1, 2, 3, 4}) {
    storage::BitFlipRule rule{50, seed};
    std::set<std::string> flipped, intact;
    for (const auto& p : *packs) {
      std::string hex = p.name.substr(p.name.rfind('/') + 1);
      if (!live.count(hex)) {
        unread_flips += storage::BitFlipPosition(rule, p.name, p.size).has_value();
        continue;
      }
      (storage::BitFlipPosition(rule, p.name, p.size) ? flipped : intact).insert(hex);
    }
    RunOptions options;
    options.env["VELIN_FAULT_BITFLIP"] = "50:" + std::to_string(seed);
    RunResult verify = app.Run({"backup", "verify", "--all"}, options);
    injected_total += static_cast<int>(flipped.size());
    if (flipped.empty()) {
      EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
      continue;
    }
    EXPECT_EQ(verify.exit_code, 4) << seed << verify.out << verify.err;
    const std::string report = verify.out + verify.err;
    for (const auto& hex : flipped) {
      bool found = report.find("pack " + hex.substr(0, 12)) != std::string::npos;
      // A pack whose blobs are reached only through a directory that is itself damaged cannot
      // be reached: verify reports that directory (":storage" with nothing after it) instead.
      bool masked = !found && report.find(":storage\n") != std::string::npos;
      masked_total += masked;
      found = found || masked;
      EXPECT_TRUE(found) << "seed " << seed << ": flipped pack " << hex << " not reported\n"
                         << report;
      detected_total += found && !masked;
    }
    for (const auto& hex : intact) {
      EXPECT_EQ(report.find("pack " + hex.substr(0, 12) + " ("), std::string::npos)
          << "seed " << seed << ": intact pack " << hex << " reported as modified\n"
          << report;
    }
    // Restore of every backup: exit 4 when a blob it needs is damaged, and any file that is in
    // the target is the one that was backed up.
    for (size_t b = 0; b < ids.size(); ++b) {
      std::string target = app.path("out-" + std::to_string(seed) + "-" + std::to_string(b));
      RunResult r = app.Run({"backup", "restore", ids[b], "--target", target}, options);
      EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 4) << seed << " " << b << r.err;
      if (r.exit_code == 4) {
        ++refused_restores;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      }
      ExpectOnlyGoodFiles(target + "/storage", app.root() + "/storage");
      EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{});
      fs::remove_all(target);
    }
  }
  EXPECT_GT(injected_total, 8);
  EXPECT_EQ(detected_total + masked_total, injected_total);
  EXPECT_GT(refused_restores, 0);
  // Without the fault everything is intact: the damage was in the reads only.
  EXPECT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  std::cerr << "[bitflip] flips injected " << injected_total << ", detected " << detected_total
            << ", behind a damaged directory " << masked_total << " (and " << unread_flips
            << " in packs nothing reads)"
            << "; restores refused " << refused_restores << " of " << 4 * ids.size() << "\n";
}

TEST(BackupStorageFaultsTest, MalformedBitFlipRuleIsAUsageError) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a", "a");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  RunOptions options;
  options.env["VELIN_FAULT_BITFLIP"] = "150:x";
  RunResult r = app.Run({"backup", "verify", "--all"}, options);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("VELIN_FAULT_BITFLIP"), std::string::npos) << r.err;
}

// Every write, fsync, rename and create of a restore in turn fails (ENOSPC and EIO alternately):
// each ends with one line and exit 1, leaves no temporary, every file already in the target is
// complete and right, and a rerun into the same target completes.
TEST(BackupStorageFaultsTest, RestoreFaultAtEveryIndexFailsCleanly) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  WriteFile(app.root() + "/storage/d/b.bin", RandomData(300000, 21));
  WriteFile(app.root() + "/storage/d/e/c.txt", "gamma\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const std::string before = DescribeTree(app.root() + "/storage");
  int failures = 0;
  for (int n = 1; n < 200; ++n) {
    const char* errno_name = n % 2 ? "ENOSPC" : "EIO";
    const std::string target = app.path("out");
    RunResult r =
        RestoreLatestUnderFault(app, target, "any:" + std::to_string(n) + ":" + errno_name);
    if (r.exit_code == 0) {
      EXPECT_EQ(DescribeTree(target + "/storage"), before);
      break;  // past the last write: done
    }
    ++failures;
    EXPECT_EQ(r.exit_code, 1) << n << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << n << r.err;
    EXPECT_NE(r.err.find(n % 2 ? "No space left" : "Input/output error"), std::string::npos)
        << n << r.err;
    EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{}) << n;
    ExpectOnlyGoodFiles(target + "/storage", app.root() + "/storage");
    RunResult again = app.Run({"backup", "restore", "latest", "--target", target});
    ASSERT_EQ(again.exit_code, 0) << n << again.err;
    EXPECT_EQ(DescribeTree(target + "/storage"), before) << n;
  }
  EXPECT_GE(failures, 8);
  std::cerr << "[restore-faults] faults injected " << failures << "\n";
}

// SIGTERM at every file-system operation of a restore (VELIN_FAULT_INJECT=any:N:SIGTERM: velin
// signals itself there; core/termination.hpp): the restore stops at its next file with one
// "interrupted" error and ends by SIGTERM; every file present is complete and right, no
// temporary stays, and a rerun restores the whole tree. After the last check it completes;
// before the restore begins (its lock) the signal ends velin at once, with nothing written.
TEST(BackupStorageFaultsTest, SigtermAtEveryOperationOfARestoreStopsItCleanly) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  WriteFile(app.root() + "/storage/d/b.bin", RandomData(300000, 21));
  WriteFile(app.root() + "/storage/d/e/c.txt", "gamma\n");
  WriteFile(app.root() + "/storage/f/g.txt", "delta\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const std::string before = DescribeTree(app.root() + "/storage");
  int early = 0, stopped = 0, completed = 0;
  for (int n = 1; n < 200; ++n) {
    const std::string target = app.path("out");
    RunResult r = RestoreLatestUnderFault(app, target, "any:" + std::to_string(n) + ":SIGTERM");
    if (r.exit_code == 0) break;  // past the last operation: no signal
    const std::string at = "SIGTERM at operation " + std::to_string(n) + ": ";
    EXPECT_EQ(r.exit_code, 128 + SIGTERM) << at << r.err;
    EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{}) << at;
    if (r.err.find("warning: SIGTERM received: stopping the restore") == std::string::npos) {
      // Before the restore began (opening the repository, taking its lock): ended at once,
      // as before there was anything to stop; nothing was written into the target.
      ++early;
      EXPECT_EQ(r.err, "") << at;
      EXPECT_FALSE(fs::exists(target + "/storage")) << at;
      RunResult again = app.Run({"backup", "restore", "latest", "--target", target});
      ASSERT_EQ(again.exit_code, 0) << at << again.err;
    } else if (r.err.find("error: restore interrupted by SIGTERM: it is incomplete; run it again "
                          "to finish it") != std::string::npos) {
      ++stopped;
      ExpectOnlyGoodFiles(target + "/storage", app.root() + "/storage");
      RunResult again = app.Run({"backup", "restore", "latest", "--target", target});
      ASSERT_EQ(again.exit_code, 0) << at << again.err;
    } else {
      ++completed;
      EXPECT_NE(r.out.find("Restored"), std::string::npos) << at << r.out << r.err;
    }
    EXPECT_EQ(DescribeTree(target + "/storage"), before) << at;
  }
  EXPECT_GE(stopped, 5);
  std::cerr << "[restore-sigterm] before the restore " << early << ", stopped " << stopped
            << ", completed " << completed << "\n";
}

// Short writes into the target: the Nth write of a restore puts half its bytes into the file
// and then fails. No file is left half-written under its name (every file present is complete
// and right), no temporary stays, and a rerun restores the whole tree.
TEST(BackupStorageFaultsTest, RestoreShortWriteAtEveryWriteIndexFailsCleanly) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  WriteFile(app.root() + "/storage/d/b.bin", RandomData(300000, 22));
  WriteFile(app.root() + "/storage/d/e/c.txt", RandomData(5000, 23));
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const std::string before = DescribeTree(app.root() + "/storage");
  int failures = 0;
  for (int n = 1; n < 60; ++n) {
    const std::string target = app.path("out");
    RunResult r = RestoreLatestUnderFault(app, target, "write:" + std::to_string(n) + ":EIO:short");
    if (r.exit_code == 0) {
      EXPECT_EQ(DescribeTree(target + "/storage"), before);
      break;  // past the last write: done
    }
    ++failures;
    EXPECT_EQ(r.exit_code, 1) << n << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << n << r.err;
    EXPECT_NE(r.err.find("Input/output error"), std::string::npos) << n << r.err;
    EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{}) << n;
    ExpectOnlyGoodFiles(target + "/storage", app.root() + "/storage");
    RunResult again = app.Run({"backup", "restore", "latest", "--target", target});
    ASSERT_EQ(again.exit_code, 0) << n << again.err;
    EXPECT_EQ(DescribeTree(target + "/storage"), before) << n;
  }
  EXPECT_GE(failures, 3);
  std::cerr << "[short-writes] restore: " << failures << " short writes injected\n";
}

TEST(BackupStorageFaultsTest, RestoreIntoAFullFilesystemFailsWithOneLine) {
  BackupApp app;
  for (int i = 0; i < 6; ++i) {
    WriteFile(app.root() + "/storage/f" + std::to_string(i), RandomData(200000, 70 + i));
  }
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  SmallTmpfs small(app.path("small"), "512k");
  if (!small.mounted()) GTEST_SKIP() << "mount -t tmpfs not permitted here";
  const std::string target = app.path("small/out");
  RunResult r = app.Run({"backup", "restore", "latest", "--target", target});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("No space left"), std::string::npos) << r.err;
  EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{});
  ExpectOnlyGoodFiles(target + "/storage", app.root() + "/storage");
}

TEST(BackupStorageFaultsTest, PruneOnAFullRepositoryDiskFailsCleanlyAndLaterSucceeds) {
  BackupApp app({"storage"}, "keep_last = 1\nprune_after_create = false\ncompression = \"none\"");
  SmallTmpfs small(app.repo(), "4m");
  if (!small.mounted()) GTEST_SKIP() << "mount -t tmpfs not permitted here";
  // Fill the repository's disk with backups of random data, then forget most of them: prune
  // has to write new packs (repacking) and a new index on a disk with no room left.
  int created = 0;
  for (int i = 0; i < 40; ++i) {
    WriteFile(app.root() + "/storage/keep", RandomData(20000, 900));
    WriteFile(app.root() + "/storage/f", RandomData(300000, 100 + i));
    RunResult r = app.Run({"backup", "create"});
    if (r.exit_code != 0) {
      EXPECT_EQ(r.exit_code, 1) << r.err;
      EXPECT_NE(r.err.find("No space left"), std::string::npos) << r.err;
      break;
    }
    ++created;
  }
  ASSERT_GE(created, 3);
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  // Take the last bytes: a filler file on the same filesystem.
  {
    std::string filler = app.repo() + "/filler";
    FILE* f = std::fopen(filler.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::string block(4096, 'x');
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size() && std::fflush(f) == 0) {
    }
    std::fclose(f);
  }
  RunResult forget = app.Run({"backup", "forget"});
  RunResult prune = app.Run({"backup", "prune"});
  std::cerr << "[enospc] " << created << " backups; forget " << forget.exit_code << " "
            << forget.err << "; prune " << prune.exit_code << " " << prune.err;
  if (forget.exit_code == 0) {
    EXPECT_TRUE(prune.exit_code == 0 || prune.exit_code == 1) << prune.err;
    if (prune.exit_code == 1) {
      EXPECT_EQ(std::count(prune.err.begin(), prune.err.end(), '\n'), 1) << prune.err;
    }
  } else {
    EXPECT_EQ(forget.exit_code, 1) << forget.err;
  }
  // Whatever failed, what remains verifies (without a lock: there is no room for one); with
  // room again, forget and prune complete.
  RunResult verify = app.Run({"backup", "verify", "--all", "--no-lock"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  fs::remove(app.repo() + "/filler");
  EXPECT_EQ(app.Run({"backup", "forget"}).exit_code, 0);
  RunResult again = app.Run({"backup", "prune"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  EXPECT_EQ(TempFilesUnder(app.repo()), std::vector<std::string>{});
}

// S3 answering 500/503 or dropping the connection on the first or the second connection of a
// create and of a prune (velin keeps its connections, so the second is one of the parallel pack
// uploads): each either retries to success or fails with one line (exit 1); either way the
// repository verifies and the same command run again succeeds.
TEST(BackupStorageFaultsTest, S3FaultsMidUploadAndMidPruneLeaveTheRepositoryConsistent) {
  S3Server server;
  BackupApp app({"storage"},
                "keep_last = 1\nprune_after_create = false\n[storage.s3]\nendpoint = \"" +
                    server.endpoint() + "\"\npath_style = true\n");
  TempDir cache;
  RunOptions direct;
  direct.env = {{"AWS_ACCESS_KEY_ID", S3Server::kAccessKey},
                {"AWS_SECRET_ACCESS_KEY", S3Server::kSecretKey},
                {"VELIN_CACHE_DIR", cache.path()}};
  using Fault = FaultProxy::Fault;
  int injected = 0, retried = 0, failed = 0, round = 0;
  for (Fault fault : {Fault::kHttp500, Fault::kHttp503, Fault::kDrop}) {
    for (int pass_first : {0, 1}) {
      const std::string url = "s3://bkt/f" + std::to_string(round++);
      WriteFile(app.root() + "/storage/base", RandomData(200000, round));
      ASSERT_EQ(app.Run({"backup", "create", "--destination", url}, direct).exit_code, 0);
      for (int i = 0; i < 4; ++i) {
        WriteFile(app.root() + "/storage/f" + std::to_string(i),
                  RandomData(300000, 50 * round + i));
      }
      for (const char* command : {"create", "prune"}) {
        if (std::string(command) == "prune") {
          ASSERT_EQ(app.Run({"backup", "forget", "--destination", url}, direct).exit_code, 0);
        }
        FaultProxy proxy(server.port(), fault, 1, pass_first);
        RunOptions faulty = direct;
        faulty.env["VELIN_STORAGE_S3_ENDPOINT"] =
            "http://127.0.0.1:" + std::to_string(proxy.port());
        RunResult r = app.Run({"backup", command, "--destination", url}, faulty);
        injected += proxy.injected();
        const std::string what = std::string(command) + " round " + std::to_string(round);
        EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << what << r.err;
        if (r.exit_code == 0) {
          retried += proxy.injected() > 0;
        } else {
          ++failed;
          EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << r.err;
        }
        RunResult verify = app.Run({"backup", "verify", "--all", "--destination", url}, direct);
        EXPECT_EQ(verify.exit_code, 0) << what << verify.out << verify.err;
        RunResult again = app.Run({"backup", command, "--destination", url}, direct);
        EXPECT_EQ(again.exit_code, 0) << what << again.err;
      }
    }
  }
  EXPECT_GT(injected, 0);
  std::cerr << "[s3-faults] injected " << injected << "; retried to success " << retried
            << ", failed cleanly " << failed << "\n";
}

}  // namespace
}  // namespace velin::testing
