// A system out of threads (`ulimit -u`) or memory (`ulimit -v`) fails a command as any other
// failure does: exit 1, one line ("error: cannot start a worker thread: …", "error: out of
// memory: …"), on_backup_failure run, the lock removed — not "terminate called after throwing
// an instance of 'std::system_error'", SIGABRT and a lock left for `unlock --stale`
// (docs/exit-codes.md). The real binary, under each limit from "nothing starts" to "enough":
// every run either succeeds or fails that way, and some fail. Threads are counted per user,
// and root is not held to the limit: those runs are by a user of their own (a number no other
// test runs as), which needs root.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

constexpr unsigned kLimitedUser = 59431;

// Whether a run succeeded, or failed as a failure must: exit 1 and one "error: " line.
void ExpectOkOrOneErrorLine(const RunResult& r, const std::string& what) {
  EXPECT_EQ(r.err.find("terminate called"), std::string::npos) << what << ": " << r.err;
  if (r.exit_code == 0) return;
  EXPECT_EQ(r.exit_code, 1) << what << ": " << r.err;
  EXPECT_TRUE(r.err.starts_with("error: ")) << what << ": " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": " << r.err;
}

std::vector<std::string> LocksIn(const std::string& repo) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(repo + "/locks")) out.push_back(e.path().string());
  return out;
}

// A backup of a large file (packs, chunks, a restore's large-file path) and a small one.
void WriteExhaustionData(const BackupApp& app) {
  WriteFile(app.root() + "/storage/big", RandomData(12 << 20, 7));
  WriteFile(app.root() + "/storage/small.txt", "hi\n");
}

TEST(ResourceExhaustionTest, OutOfThreadsFailsWithOneLineAndReleasesTheLock) {
  if (::geteuid() != 0) GTEST_SKIP() << "runs as a user of its own: needs root";
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "LeakSanitizer needs a thread of its own at exit, which the limit refuses";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "LeakSanitizer needs a thread of its own at exit, which the limit refuses";
#endif
#endif
  BackupApp app({"storage"}, "encryption = \"none\"");
  WriteExhaustionData(app);
  for (const auto& e : fs::recursive_directory_iterator(app.path(""))) {
    ASSERT_EQ(::lchown(e.path().c_str(), kLimitedUser, kLimitedUser), 0) << e.path();
  }
  ASSERT_EQ(::lchown(app.path("").c_str(), kLimitedUser, kLimitedUser), 0);
  RunOptions as_user;
  as_user.user = kLimitedUser;
  as_user.env["HOME"] = app.path("");
  RunResult r = app.Run({"backup", "create", "-q"}, as_user);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  int failed = 0;
  int succeeded = 0;
  for (unsigned limit : {1u, 2u, 3u, 4u, 5u, 6u, 8u, 64u}) {
    RunOptions limited = as_user;
    limited.process_limit = limit;
    const std::string target = app.path("out" + std::to_string(limit));
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"backup", "create", "--strategy", "full"},
          std::vector<std::string>{"backup", "restore", "latest", "--target", target},
          std::vector<std::string>{"backup", "verify", "--all"}}) {
      const std::string what = "ulimit -u " + std::to_string(limit) + ": " + args[1];
      r = app.Run(args, limited);
      ExpectOkOrOneErrorLine(r, what);
      if (r.exit_code == 0) {
        ++succeeded;
      } else {
        ++failed;
        EXPECT_NE(r.err.find("error: cannot start a worker thread: Resource temporarily "
                             "unavailable"),
                  std::string::npos)
            << what << ": " << r.err;
      }
      EXPECT_EQ(LocksIn(app.repo()), std::vector<std::string>{}) << what;
      if (args[1] == "restore") {
        EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{}) << what;
        if (r.exit_code == 0) {
          EXPECT_EQ(DescribeTree(target + "/storage"), DescribeTree(app.root() + "/storage"))
              << what;
        }
      }
    }
  }
  EXPECT_GE(failed, 3);     // no thread at all: each of the three fails
  EXPECT_GE(succeeded, 3);  // enough threads: each of the three works
  // Nothing a failed run left in the way: unlimited, all is well.
  r = app.Run({"backup", "verify", "--all"}, as_user);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(ResourceExhaustionTest, OutOfMemoryFailsWithOneLineAndRunsTheFailureHook) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan reserves more address space than any limit here allows";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "ASan reserves more address space than any limit here allows";
#endif
#endif
  BackupApp app({"storage"},
                "encryption = \"none\"\n[hooks]\non_backup_failure = \"printf '%s\\\\n' "
                "\\\"$VELIN_ERROR\\\" >> hook.log\"");
  WriteExhaustionData(app);
  RunResult r = app.Run({"backup", "create", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::string hook_log = app.root() + "/hook.log";  // hooks run in app.root
  int out_of_memory = 0;
  int succeeded = 0;
  int create_failures = 0;
  for (uint64_t mib : {24, 32, 40, 48, 56, 64, 80, 96, 128, 160, 192, 256, 512}) {
    RunOptions limited;
    limited.address_space_limit = mib << 20;
    const std::string target = app.path("out" + std::to_string(mib));
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"backup", "create", "--strategy", "full"},
          std::vector<std::string>{"backup", "restore", "latest", "--target", target},
          std::vector<std::string>{"backup", "verify", "--all"}}) {
      const std::string what = "ulimit -v " + std::to_string(mib << 10) + ": " + args[1];
      r = app.Run(args, limited);
      ExpectOkOrOneErrorLine(r, what);
      if (r.exit_code == 0) ++succeeded;
      if (r.err.find("error: out of memory: ") != std::string::npos) ++out_of_memory;
      EXPECT_EQ(LocksIn(app.repo()), std::vector<std::string>{}) << what;
      if (args[1] == "create" && r.exit_code != 0) {
        ++create_failures;
        // on_backup_failure ran with the error the line shows.
        const std::vector<std::string> lines = SplitLines(ReadFileOrDie(hook_log));
        ASSERT_EQ(lines.size(), static_cast<size_t>(create_failures)) << what;
        EXPECT_EQ("error: " + lines.back() + "\n", r.err) << what;
      }
      if (args[1] == "restore") {
        EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{}) << what;
      }
    }
  }
  EXPECT_GE(out_of_memory, 1);
  EXPECT_GE(create_failures, 1);
  EXPECT_GE(succeeded, 3);
  r = app.Run({"backup", "verify", "--all"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace velin::testing
