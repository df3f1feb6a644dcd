// Symlinks and restore: an include path through a symlink (storage/uploads -> a NAS) is
// followed, recorded, stated by config check and restored behind the link in place; an include
// that held no files is a warning and a failing status; and restore never writes outside its
// target through a symlink in the target (hostile trees, one an earlier restore made, a swap
// racing the restore).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

bool IsSymlink(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

std::string Listing(const std::string& dir) {
  std::string out;
  if (!fs::exists(dir)) return out;
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) names.push_back(e.path().string());
  std::sort(names.begin(), names.end());
  for (const auto& n : names) out += n + "\n";
  return out;
}

TEST(BackupSymlinkTest, IncludeRootSymlinkIsFollowedAndRestoredBehindTheLink) {
  BackupApp app({"storage/uploads"});
  const std::string nas = app.path("nas/uploads");
  WriteFile(nas + "/a.jpg", "aaa");
  WriteFile(nas + "/2024/b.jpg", "bbb");
  fs::create_directories(app.root() + "/storage");
  ASSERT_EQ(::symlink(nas.c_str(), (app.root() + "/storage/uploads").c_str()), 0);

  RunResult check = app.Run({"config", "check"});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE((check.out + check.err).find("storage/uploads is a symlink to " + nas),
            std::string::npos)
      << check.out << check.err;

  auto created = app.Json({"backup", "create"});
  auto list = app.Json({"backup", "list"});
  EXPECT_EQ(list["backups"][0]["files"], 2) << list.dump();
  RunResult status = app.Run({"backup", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;

  // In place: the files go back behind the link, which stays a link.
  fs::remove(nas + "/a.jpg");
  WriteFile(nas + "/2024/b.jpg", "changed");
  RunResult r = app.Run({"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(IsSymlink(app.root() + "/storage/uploads"));
  EXPECT_EQ(ReadFileOrDie(nas + "/a.jpg"), "aaa");
  EXPECT_EQ(ReadFileOrDie(nas + "/2024/b.jpg"), "bbb");

  // Under --target: a real directory there, nothing written to the NAS.
  const std::string target = app.path("target");
  fs::remove(nas + "/a.jpg");
  r = app.Run({"backup", "restore", "latest", "--target", target});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(IsSymlink(target + "/storage/uploads"));
  EXPECT_EQ(ReadFileOrDie(target + "/storage/uploads/a.jpg"), "aaa");
  EXPECT_FALSE(fs::exists(nas + "/a.jpg"));

  // The link now points elsewhere: in place refuses rather than replace it or follow it.
  const std::string other = app.path("other");
  fs::create_directories(other);
  fs::remove(app.root() + "/storage/uploads");
  ASSERT_EQ(::symlink(other.c_str(), (app.root() + "/storage/uploads").c_str()), 0);
  r = app.Run({"backup", "restore", "latest", "--yes"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("points elsewhere"), std::string::npos) << r.err;
  EXPECT_TRUE(IsSymlink(app.root() + "/storage/uploads"));
  EXPECT_TRUE(fs::is_empty(other));
}

TEST(BackupSymlinkTest, IntermediateSymlinkIsFollowedStatedAndRestoredBehind) {
  BackupApp app({"storage/uploads"});
  const std::string shared = app.path("shared");
  WriteFile(shared + "/uploads/a.jpg", "aaa");
  ASSERT_EQ(::symlink(shared.c_str(), (app.root() + "/storage").c_str()), 0);

  auto check = app.Json({"config", "check"});
  ASSERT_EQ(check["include_links"].size(), 1u) << check.dump();
  EXPECT_EQ(check["include_links"][0]["path"], "storage");
  EXPECT_EQ(check["include_links"][0]["target"], shared);

  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  fs::remove(shared + "/uploads/a.jpg");
  RunResult r = app.Run({"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(IsSymlink(app.root() + "/storage"));
  EXPECT_EQ(ReadFileOrDie(shared + "/uploads/a.jpg"), "aaa");
}

// Overlapping includes (docs/cli.md) where the inner one is a link to the NAS: `storage` holds
// the link itself, `storage/uploads` what is behind it. An in-place restore wrote the outer
// include's copy of the link first, then refused to follow it as a link it had made itself
// ("refusing to replace the symlink …: it now points elsewhere", exit 1, nothing restored
// behind it); with --target it counted a symlink the directory had replaced.
TEST(BackupSymlinkTest, AnInnerIncludeThroughALinkIsRestoredBehindItInPlace) {
  BackupApp app({"storage", "storage/uploads"});
  const std::string nas = app.path("nas/uploads");
  const std::string link = app.root() + "/storage/uploads";
  WriteFile(nas + "/a.jpg", "orig");
  WriteFile(app.root() + "/storage/app.cfg", "cfg");
  ASSERT_EQ(::symlink(nas.c_str(), link.c_str()), 0);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);

  for (const std::vector<std::string>& selection :
       {std::vector<std::string>{}, std::vector<std::string>{"--only", "storage/uploads"},
        std::vector<std::string>{"--include", "storage/uploads/a.jpg"},
        std::vector<std::string>{"--include", "storage/uploads"}}) {
    WriteFile(nas + "/a.jpg", "BAD");
    std::vector<std::string> args = {"backup", "restore", "latest", "--yes"};
    args.insert(args.end(), selection.begin(), selection.end());
    RunResult r = app.Run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(IsSymlink(link));
    EXPECT_EQ(fs::read_symlink(link).string(), nas);
    EXPECT_EQ(ReadFileOrDie(nas + "/a.jpg"), "orig") << r.err;
  }

  // Under --target: a directory in the link's place, and no symlink counted.
  const std::string target = app.path("target");
  WriteFile(nas + "/a.jpg", "BAD");
  auto j = app.Json({"backup", "restore", "latest", "--target", target});
  EXPECT_EQ(j["symlinks"], 0) << j.dump();
  EXPECT_EQ(j["files"], 2) << j.dump();
  EXPECT_FALSE(IsSymlink(target + "/storage/uploads"));
  EXPECT_EQ(ReadFileOrDie(target + "/storage/uploads/a.jpg"), "orig");
  EXPECT_EQ(ReadFileOrDie(target + "/storage/app.cfg"), "cfg");
  EXPECT_EQ(ReadFileOrDie(nas + "/a.jpg"), "BAD");

  // The link gone: the files go into a new directory in its place (operations.md).
  fs::remove(link);
  RunResult r = app.Run({"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(IsSymlink(link));
  EXPECT_EQ(ReadFileOrDie(link + "/a.jpg"), "orig");
  EXPECT_EQ(ReadFileOrDie(nas + "/a.jpg"), "BAD");

  // The link leading elsewhere now: refused as before, with the message that says so.
  const std::string other = app.path("other");
  fs::create_directories(other);
  fs::remove_all(link);
  ASSERT_EQ(::symlink(other.c_str(), link.c_str()), 0);
  r = app.Run({"backup", "restore", "latest", "--yes"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("points elsewhere"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(other));
}

// The same with the link above the inner include (`storage/uploads -> NAS`, includes `storage`
// and `storage/uploads/2024`): --target refused to walk through the link the outer include had
// just written ("it is not a directory"), and in place refused it as one it had made.
TEST(BackupSymlinkTest, AnInnerIncludeBelowALinkIsRestoredBehindItOrUnderTarget) {
  BackupApp app({"storage", "storage/uploads/2024"});
  const std::string nas = app.path("nas/uploads");
  WriteFile(nas + "/2024/a.jpg", "orig");
  WriteFile(app.root() + "/storage/app.cfg", "cfg");
  ASSERT_EQ(::symlink(nas.c_str(), (app.root() + "/storage/uploads").c_str()), 0);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);

  WriteFile(nas + "/2024/a.jpg", "BAD");
  RunResult r = app.Run({"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(IsSymlink(app.root() + "/storage/uploads"));
  EXPECT_EQ(ReadFileOrDie(nas + "/2024/a.jpg"), "orig");

  const std::string target = app.path("target");
  WriteFile(nas + "/2024/a.jpg", "BAD");
  r = app.Run({"backup", "restore", "latest", "--target", target});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(IsSymlink(target + "/storage/uploads"));
  EXPECT_EQ(ReadFileOrDie(target + "/storage/uploads/2024/a.jpg"), "orig");
  EXPECT_EQ(ReadFileOrDie(nas + "/2024/a.jpg"), "BAD");
}

TEST(BackupSymlinkTest, AnIncludeWithNoFilesWarnsAndFailsStatusUnlessAllowed) {
  {
    BackupApp app({"storage", "cache"});
    WriteFile(app.root() + "/storage/a", "a");
    fs::create_directories(app.root() + "/cache");
    RunResult r = app.Run({"backup", "create"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE((r.out + r.err).find("backup.include 'cache' holds no files"), std::string::npos)
        << r.out << r.err;
    RunResult status = app.Run({"backup", "status"});
    EXPECT_EQ(status.exit_code, 1) << status.out << status.err;
    EXPECT_NE(status.err.find("holds no files of 'cache'"), std::string::npos) << status.err;
  }
  {
    BackupApp app({"storage", "cache"}, "allow_empty = [\"cache\"]");
    WriteFile(app.root() + "/storage/a", "a");
    fs::create_directories(app.root() + "/cache");
    RunResult r = app.Run({"backup", "create"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ((r.out + r.err).find("holds no files"), std::string::npos) << r.out << r.err;
    RunResult status = app.Run({"backup", "status"});
    EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  }
}

// TARGET/storage -> elsewhere, present before the restore.
TEST(BackupSymlinkTest, RestoreDoesNotFollowASymlinkAlreadyInTheTarget) {
  BackupApp app({"storage", "var/uploads"});
  WriteFile(app.root() + "/storage/a.txt", "a");
  WriteFile(app.root() + "/storage/sub/b.txt", "b");
  WriteFile(app.root() + "/var/uploads/c.txt", "c");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const std::string outside = app.path("outside");
  fs::create_directories(outside);

  // Where the backup has a directory, the link is replaced by one.
  const std::string t1 = app.path("t1");
  fs::create_directories(t1 + "/storage");
  ASSERT_EQ(::symlink(outside.c_str(), (t1 + "/storage/sub").c_str()), 0);
  RunResult r = app.Run({"backup", "restore", "latest", "--target", t1, "--only", "storage"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(IsSymlink(t1 + "/storage/sub"));
  EXPECT_EQ(ReadFileOrDie(t1 + "/storage/sub/b.txt"), "b");

  // Above the backed-up path (var/ of include var/uploads): refused, one line, exit 1.
  const std::string t2 = app.path("t2");
  fs::create_directories(t2);
  ASSERT_EQ(::symlink(outside.c_str(), (t2 + "/var").c_str()), 0);
  r = app.Run({"backup", "restore", "latest", "--target", t2});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(t2 + "/var"), std::string::npos) << r.err;
  // The advice fits a restore that already has a --target: another one, not "use --target".
  EXPECT_NE(r.err.find("restore elsewhere with --target, or remove it"), std::string::npos)
      << r.err;
  EXPECT_TRUE(IsSymlink(t2 + "/var"));

  // A file where a directory goes, above the selected path: the same refusal.
  const std::string t3 = app.path("t3");
  WriteFile(t3 + "/storage", "a file");
  r = app.Run({"backup", "restore", "latest", "--target", t3, "--only", "storage/sub/b.txt"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(ReadFileOrDie(t3 + "/storage"), "a file");
  EXPECT_EQ(Listing(outside), "");
}

// A symlink an earlier restore put into the target, then reached with --only.
TEST(BackupSymlinkTest, RestoreDoesNotFollowASymlinkAnEarlierRestoreCreated) {
  BackupApp app({"storage"});
  const std::string outside = app.path("outside");
  fs::create_directories(outside);
  fs::create_directories(app.root() + "/storage");
  ASSERT_EQ(::symlink(outside.c_str(), (app.root() + "/storage/x").c_str()), 0);
  auto first = app.Json({"backup", "create"});
  fs::remove(app.root() + "/storage/x");
  WriteFile(app.root() + "/storage/x/f.txt", "f");
  auto second = app.Json({"backup", "create"});
  ASSERT_NE(first["id"], second["id"]);

  const std::string target = app.path("target");
  RunResult r = app.Run({"backup", "restore", first["id"], "--target", target});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(IsSymlink(target + "/storage/x"));
  r = app.Run({"backup", "restore", second["id"], "--target", target, "--only", "storage/x/f.txt"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(Listing(outside), "");
  // The directory itself selected: the link is replaced by the backup's directory.
  r = app.Run({"backup", "restore", second["id"], "--target", target, "--only", "storage/x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(IsSymlink(target + "/storage/x"));
  EXPECT_EQ(ReadFileOrDie(target + "/storage/x/f.txt"), "f");
  EXPECT_EQ(Listing(outside), "");
}

// Someone who can write in the target swaps its directories for symlinks to a file outside while
// the restore runs: the restore works on the directories it opened, so the outside file keeps
// its mode, owner, mtime and content whatever the timing.
TEST(BackupSymlinkTest, RestoreRacingSymlinkSwapsNeverTouchesOutside) {
  BackupApp app({"storage"});
  for (int i = 0; i < 120; ++i) {
    std::string d = app.root() + "/storage/d" + std::to_string(i);
    WriteFile(d + "/f", "file " + std::to_string(i));
    ::chmod(d.c_str(), 0711);
  }
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const std::string victim = app.path("victim");
  WriteFile(victim, "precious", 0644);
  struct stat before {};
  ASSERT_EQ(::stat(victim.c_str(), &before), 0);

  const std::string target = app.path("target");
  std::atomic<int> swaps{0};
  for (int round = 0; round < 3; ++round) {
    fs::remove_all(target);
    std::atomic<bool> done{false};
    std::thread swapper([&] {
      // Each directory is swapped as soon as its file is in: a restore that set directory
      // modes by path at the end would chmod the victim.
      std::vector<bool> swapped(120, false);
      int n = 0;
      while (!done.load()) {
        for (int i = 0; i < 120; ++i) {
          std::string d = target + "/storage/d" + std::to_string(i);
          if (swapped[i] || ::access((d + "/f").c_str(), F_OK) != 0) continue;
          std::string away = target + "/away-" + std::to_string(n++);
          if (::rename(d.c_str(), away.c_str()) == 0 && ::symlink(victim.c_str(), d.c_str()) == 0) {
            ++swaps;
          }
          swapped[i] = true;
        }
        ::usleep(200);
      }
    });
    RunResult r = app.Run({"backup", "restore", "latest", "--target", target});
    done.store(true);
    swapper.join();
    EXPECT_NE(r.exit_code, 2) << r.err;
    struct stat after {};
    ASSERT_EQ(::stat(victim.c_str(), &after), 0);
    EXPECT_EQ(after.st_mode, before.st_mode) << round;
    EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec) << round;
    EXPECT_EQ(ReadFileOrDie(victim), "precious");
  }
  EXPECT_GT(swaps.load(), 0);  // the race happened
  std::cout << swaps.load() << " directories swapped for symlinks during the restores\n";
}

}  // namespace
}  // namespace velin::testing
