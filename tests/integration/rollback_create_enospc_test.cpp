// A create-version or create-snapshot that fails on a full disk removes its temporary release
// and config directories (`.velin/releases/.tmp-NAME-PID`, `.velin/configs/.tmp-NAME-PID`):
// before, they held their space until the next create, on the very disk that was full.
#include <gtest/gtest.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/rollback_app.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

// The entries of `dir` whose names start with ".tmp-".
std::vector<std::string> TempEntriesOfCreate(const std::string& dir) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".tmp-", 0) == 0) out.push_back(name);
  }
  return out;
}

TEST(RollbackCreateEnospcTest, AFailedCreateLeavesNoTemporaryRelease) {
  for (const char* command : {"create-version", "create-snapshot"}) {
    ToyApp app(NoService());
    app.Build("v1");
    ASSERT_EQ(app.Velin({"rollback", command, "v1"}).exit_code, 0);
    app.Build("v2");
    for (int i = 0; i < 4; ++i) {  // files no release holds yet: copied, not linked
      WriteFile(app.app() + "/bin/new-" + std::to_string(i), std::string(1000 + i, 'n'));
    }
    int failed = 0;
    bool created = false;
    // Every write of the create in turn fails with ENOSPC (the first half of it written),
    // until the create gets through.
    for (int nth = 1; nth <= 200 && !created; ++nth) {
      const std::string rule = "write:" + std::to_string(nth) + ":ENOSPC:short";
      RunResult r = app.Velin({"rollback", command, "v2"}, {{"VELIN_FAULT_INJECT", rule}});
      if (r.exit_code == 0) {
        created = true;
        break;
      }
      ++failed;
      EXPECT_EQ(r.exit_code, 1) << command << " " << rule << ": " << r.err;
      EXPECT_NE(r.err.find("No space left"), std::string::npos) << rule << ": " << r.err;
      EXPECT_EQ(TempEntriesOfCreate(app.state() + "/releases"), std::vector<std::string>{})
          << command << " " << rule;
      EXPECT_EQ(TempEntriesOfCreate(app.state() + "/configs"), std::vector<std::string>{})
          << command << " " << rule;
      if (::testing::Test::HasFailure()) return;  // one rule's report is enough
    }
    EXPECT_TRUE(created) << command;
    EXPECT_GT(failed, 3) << command << ": the faults should hit the copies of the files";
    EXPECT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0) << command;
    EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v2\n") << command;
  }
}

// The lines of `text` that start with "error:".
int EnospcErrorLines(const std::string& text) {
  int n = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (text.compare(at, 6, "error:") == 0) ++n;
    at = end + 1;
  }
  return n;
}

// Bytes free on the file system holding `path`.
uint64_t EnospcFreeBytes(const std::string& path) {
  struct statvfs fs {};
  if (::statvfs(path.c_str(), &fs) != 0) return 0;
  return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
}

// A real full disk: the state dir on a small tmpfs (needs root to mount; skipped otherwise),
// first out of inodes (a release of many small files, as a node_modules is), then out of space.
// Each create fails with one line naming the file and why, exit 1, registers nothing, leaves no
// temporary release holding space; once there is room again the next create works. Before, an
// inode table that was full said only `No space left on device` while `df -h` showed free space.
TEST(RollbackCreateEnospcTest, ARealFullDiskOrInodeTableFailsCleanlyAndSaysWhichOne) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
  ToyApp app(NoService());
  std::filesystem::create_directories(app.state());
  RunResult mounted = RunProgram(
      {"mount", "-t", "tmpfs", "-o", "size=4m,nr_inodes=64,mode=0711", "tmpfs", app.state()});
  if (mounted.exit_code != 0) GTEST_SKIP() << "cannot mount a tmpfs: " << mounted.err;
  struct Unmount {
    std::string dir;
    ~Unmount() { RunProgram({"umount", dir}); }
  } unmount{app.state()};
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  const uint64_t free_after_v1 = EnospcFreeBytes(app.state());

  app.Build("v2");
  for (int i = 0; i < 100; ++i) {
    WriteFile(app.app() + "/bin/many/f" + std::to_string(i), "file " + std::to_string(i) + "\n");
  }
  RunResult r = app.Velin({"rollback", "create-version", "v2"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(EnospcErrorLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(app.state() + "/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No space left on device (no free inodes"), std::string::npos) << r.err;
  EXPECT_EQ(TempEntriesOfCreate(app.state() + "/releases"), std::vector<std::string>{});
  EXPECT_FALSE(std::filesystem::exists(app.state() + "/releases/v2"));

  std::filesystem::remove_all(app.app() + "/bin/many");
  WriteFile(app.app() + "/bin/big.dat", std::string(5 << 20, 'b'));
  r = app.Velin({"rollback", "create-version", "v2"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(EnospcErrorLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("no free inodes"), std::string::npos) << r.err;  // space, not inodes
  EXPECT_EQ(TempEntriesOfCreate(app.state() + "/releases"), std::vector<std::string>{});
  // What the failed copy had written was given back.
  EXPECT_GE(EnospcFreeBytes(app.state()) + 64 * 1024, free_after_v1);

  RunResult listed = app.Velin({"rollback", "list"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("v1"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find("v2"), std::string::npos) << listed.out;

  std::filesystem::remove(app.app() + "/bin/big.dat");
  r = app.Velin({"rollback", "create-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v2\n");
}

}  // namespace
}  // namespace velin::testing
