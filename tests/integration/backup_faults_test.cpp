// Failure and concurrency: an injected ENOSPC/EIO at every write of a create fails cleanly and
// leaves every earlier backup restorable; concurrent creates never corrupt the repository;
// a shifted copy of a large file costs only a few new chunks.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "support/backup_fixture.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/index.hpp"
#include "velin/storage/backend.hpp"

namespace velin::testing {
namespace {

// Packs in the (unencrypted) repository at `dir` that no index object names.
std::vector<std::string> UnindexedPacks(const std::string& dir) {
  auto backend = storage::OpenBackend(dir, {}, io::Env::Default(), false);
  EXPECT_TRUE(backend) << backend.error().message;
  if (!backend) return {};
  std::set<std::string> named;
  auto index = (*backend)->List("index/");
  EXPECT_TRUE(index);
  for (const auto& o : *index) {
    auto data = (*backend)->Get(o.name);
    EXPECT_TRUE(data);
    auto packs = repo::DecodeIndexObject(*data);
    EXPECT_TRUE(packs) << o.name;
    for (const auto& p : *packs) named.insert(p.first.Hex());
  }
  std::vector<std::string> out;
  auto data = (*backend)->List("data/");
  EXPECT_TRUE(data);
  for (const auto& o : *data) {
    if (!named.count(o.name.substr(o.name.rfind('/') + 1))) out.push_back(o.name);
  }
  return out;
}

TEST(BackupFaultsTest, InjectedFaultAtEveryIndexFailsCleanly) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "first\n");
  WriteFile(app.root() + "/storage/b.bin", RandomData(700000, 4));
  const std::string before = DescribeTree(app.root() + "/storage");
  std::string first = app.Json({"backup", "create"})["id"];
  WriteFile(app.root() + "/storage/c.txt", "second\n");
  WriteFile(app.root() + "/storage/d.bin", RandomData(600000, 5));

  int failures = 0;
  for (int n = 1; n < 80; ++n) {
    const char* errno_name = n % 2 ? "ENOSPC" : "EIO";
    RunOptions options;
    options.env["VELIN_FAULT_INJECT"] = "any:" + std::to_string(n) + ":" + errno_name;
    RunResult r = app.Run({"backup", "create"}, options);
    if (r.exit_code == 0) break;  // the fault index is past the last write: done
    ++failures;
    EXPECT_EQ(r.exit_code, 1) << n << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << n << r.err;
    EXPECT_NE(r.err.find(n % 2 ? "No space left" : "Input/output error"), std::string::npos)
        << n << r.err;
    RunResult verify = app.Run({"backup", "verify", "--all"});
    ASSERT_EQ(verify.exit_code, 0) << "after fault " << n << ": " << verify.err;
    // The failed create took away the packs it wrote (no index names them, none will).
    EXPECT_EQ(UnindexedPacks(app.repo()), std::vector<std::string>{}) << "after fault " << n;
  }
  EXPECT_GE(failures, 4);
  RunResult r = app.Run({"backup", "restore", first, "--target", app.path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DescribeTree(app.path("out/storage")), before);
}

// Short writes (issue 16 §2): the Nth write of a create puts half its bytes on disk and then
// fails, as a write(2) that filled the disk does. Every such failure ends with one line and
// exit 1, and leaves no temporary and no half-written pack or index object behind: the
// repository verifies, every earlier backup restores.
TEST(BackupFaultsTest, AShortWriteAtEveryWriteIndexFailsCleanly) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "first\n");
  WriteFile(app.root() + "/storage/b.bin", RandomData(300000, 6));
  const std::string before = DescribeTree(app.root() + "/storage");
  std::string first = app.Json({"backup", "create"})["id"];
  WriteFile(app.root() + "/storage/c.bin", RandomData(200000, 7));
  int failures = 0;
  for (int n = 1; n < 40; ++n) {
    RunOptions options;
    options.env["VELIN_FAULT_INJECT"] = "write:" + std::to_string(n) + ":ENOSPC:short";
    RunResult r = app.Run({"backup", "create"}, options);
    if (r.exit_code == 0) break;  // past the last write: done
    ++failures;
    EXPECT_EQ(r.exit_code, 1) << n << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << n << r.err;
    EXPECT_NE(r.err.find("No space left"), std::string::npos) << n << r.err;
    RunResult verify = app.Run({"backup", "verify", "--all"});
    ASSERT_EQ(verify.exit_code, 0) << "after short write " << n << ": " << verify.err;
    EXPECT_EQ(UnindexedPacks(app.repo()), std::vector<std::string>{}) << "after short write " << n;
    for (const auto& e : std::filesystem::recursive_directory_iterator(app.repo())) {
      EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
    }
  }
  EXPECT_GE(failures, 3);
  std::cerr << "[short-writes] create: " << failures << " short writes injected\n";
  RunResult r = app.Run({"backup", "restore", first, "--target", app.path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DescribeTree(app.path("out/storage")), before);
}

// SIGTERM at every file-system operation of a create that writes (VELIN_FAULT_INJECT=any:N:SIGTERM:
// velin signals itself at the Nth create, write, fsync or rename; core/termination.hpp). Before the
// commit the backup stops at its next check: nothing committed, on_backup_failure says why
// (maintenance mode ends), no temp file, no pack that no index names, no lock left. At an operation
// after the last check the commit goes through and after_backup runs. Either way velin then ends by
// SIGTERM, and the repository verifies; the run after succeeds.
TEST(BackupFaultsTest, SigtermAtEveryOperationOfACreateStopsItCleanly) {
  BackupApp app({"storage"},
                "\n[hooks]\nbefore_backup = \"echo down > ../state\"\n"
                "after_backup = \"echo up-after > ../state\"\n"
                "on_backup_failure = \"echo \\\"up-failure: $VELIN_ERROR\\\" > ../state\"\n");
  WriteFile(app.root() + "/storage/a.txt", "first\n");
  WriteFile(app.root() + "/storage/b.bin", RandomData(300000, 6));
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  WriteFile(app.root() + "/storage/c.bin", RandomData(3 << 20, 7));
  WriteFile(app.root() + "/storage/d.txt", "second\n");
  int stopped = 0, committed = 0;
  size_t backups = app.Json({"backup", "list"})["backups"].size();
  for (int n = 1; n < 200; ++n) {
    RunOptions options;
    options.env["VELIN_FAULT_INJECT"] = "any:" + std::to_string(n) + ":SIGTERM";
    RunResult r = app.Run({"backup", "create"}, options);
    if (r.exit_code == 0) break;  // past the last operation: no signal
    const std::string at = "SIGTERM at operation " + std::to_string(n) + ": ";
    EXPECT_EQ(r.exit_code, 128 + SIGTERM) << at << r.out << r.err;
    EXPECT_NE(r.err.find("warning: SIGTERM received: stopping the backup"), std::string::npos)
        << at << r.err;
    const size_t now = app.Json({"backup", "list"})["backups"].size();
    const std::string state = ReadFileOrDie(app.path("state"));
    if (r.err.find("error: backup interrupted by SIGTERM; nothing was committed") !=
        std::string::npos) {
      ++stopped;
      EXPECT_EQ(now, backups) << at;
      EXPECT_EQ(state, "up-failure: backup interrupted by SIGTERM; nothing was committed\n") << at;
    } else {
      ++committed;
      EXPECT_EQ(now, backups + 1) << at << r.err;
      EXPECT_EQ(state, "up-after\n") << at << r.err;
    }
    backups = now;
    EXPECT_EQ(UnindexedPacks(app.repo()), std::vector<std::string>{}) << at;
    for (const auto& e : std::filesystem::recursive_directory_iterator(app.repo())) {
      EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << at << e.path();
    }
    EXPECT_TRUE(std::filesystem::is_empty(app.repo() + "/locks")) << at;
    RunResult verify = app.Run({"backup", "verify", "--all"});
    ASSERT_EQ(verify.exit_code, 0) << at << verify.err;
  }
  EXPECT_GE(stopped, 3);
  EXPECT_GE(committed, 1);
  std::cerr << "[sigterm] create: stopped " << stopped << " times, committed " << committed
            << " times\n";
  RunResult r = app.Run({"backup", "create"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// Temp files anywhere in the repository at `dir`.
std::vector<std::string> TempFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp-") != std::string::npos) {
      out.push_back(e.path().string());
    }
  }
  return out;
}

// A pack of more than a megabyte goes out while it fills (a stream thread writes it piece by
// piece into a temp file and names it by its hash at the end: blob_writer.hpp). A write, an
// fsync or a rename failing at any point of that fails the create with one line and leaves no
// temp, no pack that no index names, and every earlier backup whole; the run after succeeds.
TEST(BackupFaultsTest, AFaultAnywhereInAStreamedPackFailsCleanly) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "first\n");
  const std::string before = DescribeTree(app.root() + "/storage");
  std::string first = app.Json({"backup", "create"})["id"];
  WriteFile(app.root() + "/storage/big.bin", RandomData(5 << 20, 9));
  const std::string after = DescribeTree(app.root() + "/storage");
  int failures = 0;
  bool done = false;
  for (const char* kind : {"rename", "sync", "write"}) {
    for (int n = 1; n < 40; ++n) {
      const bool enospc = n % 2 == 1;
      RunOptions options;
      options.env["VELIN_FAULT_INJECT"] =
          std::string(kind) + ":" + std::to_string(n) + (enospc ? ":ENOSPC" : ":EIO");
      RunResult r = app.Run({"backup", "create"}, options);
      if (r.exit_code == 0) {  // past the last such call: this backup is whole
        done = std::string(kind) == "write";
        break;
      }
      ++failures;
      const std::string at = std::string(kind) + " " + std::to_string(n) + ": ";
      EXPECT_EQ(r.exit_code, 1) << at << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << at << r.err;
      EXPECT_NE(r.err.find(enospc ? "No space left" : "Input/output error"), std::string::npos)
          << at << r.err;
      EXPECT_EQ(TempFiles(app.repo()), std::vector<std::string>{}) << at;
      EXPECT_EQ(UnindexedPacks(app.repo()), std::vector<std::string>{}) << at;
      RunResult verify = app.Run({"backup", "verify", "--all"});
      ASSERT_EQ(verify.exit_code, 0) << at << verify.err;
    }
  }
  EXPECT_TRUE(done);
  std::cerr << "[streamed pack] create: " << failures << " faults injected\n";
  EXPECT_GE(failures, 8);  // five pieces of the pack, its fsync and rename, and the rest
  RunResult r = app.Run({"backup", "restore", first, "--target", app.path("first")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DescribeTree(app.path("first/storage")), before);
  r = app.Run({"backup", "restore", "latest", "--target", app.path("latest")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DescribeTree(app.path("latest/storage")), after);
}

// Killed (as kill -9 would) while a pack is half written, or right after it was named and
// before any index names it: the next create sweeps the dead run's temp file, writes what it
// needs, and the repository verifies and restores.
TEST(BackupFaultsTest, KilledWhileAPackStreamsOutTheNextRunCleansUpAndSucceeds) {
  for (const char* step : {"writer-pack-piece", "writer-pack-named"}) {
    SCOPED_TRACE(step);
    BackupApp app;
    WriteFile(app.root() + "/storage/a.txt", "first\n");
    ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
    WriteFile(app.root() + "/storage/big.bin", RandomData(5 << 20, 10));
    RunOptions crash;
    crash.env["VELIN_TEST_CRASH_AT"] = step;
    RunResult killed = app.Run({"backup", "create"}, crash);
    ASSERT_EQ(killed.exit_code, 86) << killed.err;
    // Each worker streams its own pack: one or two half-written ones, and one named or none.
    const std::vector<std::string> temps = TempFiles(app.repo());
    for (const std::string& t : temps) {
      EXPECT_EQ(t.rfind(app.repo() + "/data/object.tmp-", 0), 0u) << t;
    }
    if (std::string(step) == "writer-pack-piece") {
      EXPECT_GE(temps.size(), 1u) << "the half-written pack";
    } else {
      EXPECT_EQ(UnindexedPacks(app.repo()).size(), 1u) << "named, never indexed";
    }
    EXPECT_EQ(app.Json({"backup", "list"})["backups"].size(), 1u);
    ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
    EXPECT_TRUE(TempFiles(app.repo()).empty());
    RunResult verify = app.Run({"backup", "verify", "--all"});
    ASSERT_EQ(verify.exit_code, 0) << verify.err;
    RunResult r = app.Run({"backup", "restore", "latest", "--target", app.path("out")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(DescribeTree(app.path("out/storage")), DescribeTree(app.root() + "/storage"));
  }
}

TEST(BackupFaultsTest, ConcurrentCreatesBothSucceedOrOneIsLockedOut) {
  BackupApp app;
  for (int i = 0; i < 30; ++i) {
    WriteFile(app.root() + "/storage/f" + std::to_string(i), RandomData(20000 + i, i));
  }
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  RunResult a, b;
  std::thread ta([&] { a = app.Run({"backup", "create", "--json"}); });
  std::thread tb([&] { b = app.Run({"backup", "create", "--json"}); });
  ta.join();
  tb.join();
  for (const RunResult* r : {&a, &b}) {
    EXPECT_TRUE(r->exit_code == 0 || r->exit_code == 3) << r->err;
  }
  RunResult verify = app.Run({"backup", "verify", "--all"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  nlohmann::json list = app.Json({"backup", "list"});
  size_t ok = (a.exit_code == 0) + (b.exit_code == 0);
  ASSERT_EQ(list["backups"].size(), ok);
  if (ok == 2) {
    EXPECT_NE(list["backups"][0]["id"], list["backups"][1]["id"]);
  }
  EXPECT_TRUE(std::filesystem::is_empty(app.repo() + "/locks"));
}

TEST(BackupFaultsTest, ExclusiveLockHolderIsNamedAndExitIs3) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a", "a");
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  // A live exclusive lock of another process on this host (our own pid is alive).
  WriteFile(app.repo() + "/locks/exclusive-test",
            "{\"host\":\"elsewhere\",\"pid\":1,\"kind\":\"exclusive\",\"time\":" +
                std::to_string(time(nullptr)) + "}\n");
  RunResult r = app.Run({"backup", "create", "--lock-wait", "300ms"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("locked by host elsewhere pid 1, exclusive lock"), std::string::npos)
      << r.err;
  // A stale one (not rewritten for 40 minutes, by the storage's times) is removed and does not
  // block.
  WriteFile(app.repo() + "/locks/exclusive-test",
            "{\"host\":\"elsewhere\",\"pid\":1,\"kind\":\"exclusive\",\"time\":1000}\n");
  std::filesystem::last_write_time(
      app.repo() + "/locks/exclusive-test",
      std::filesystem::file_time_type::clock::now() - std::chrono::minutes(40));
  r = app.Run({"backup", "create"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(BackupFaultsTest, ShiftedCopyOfALargeFileDeduplicates) {
  BackupApp app;
  std::string big = RandomData(16 << 20, 11);
  WriteFile(app.root() + "/storage/big.bin", big);
  nlohmann::json first = app.Json({"backup", "create"});
  EXPECT_GT(first["bytes_added"].get<uint64_t>(), 16u << 20);
  WriteFile(app.root() + "/storage/shifted.bin", "a few bytes in front" + big);
  nlohmann::json second = app.Json({"backup", "create"});
  EXPECT_EQ(second["bytes_read"].get<uint64_t>(), (16u << 20) * 2 + 20);
  EXPECT_LT(second["bytes_added"].get<uint64_t>(), 4u << 20) << second;
}

}  // namespace
}  // namespace velin::testing
