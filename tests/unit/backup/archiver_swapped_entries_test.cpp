// velin reads the tree as root, and anyone who may write in it (the web application, a user's
// upload) may swap an entry between the walk's lstat and its open: a symlink to /etc/shadow in
// place of an upload, a directory made a symlink to /root, a fifo in place of a file. None of
// that may be stored under the entry's name (a restore would hand it to them, readable), and a
// fifo may not hang the backup. On the real file system (PosixEnv), the repository in memory.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

#include "mem_repo.hpp"
#include "support/meddling_env.hpp"
#include "support/warning_recorder.hpp"
#include "velin/backup/restorer.hpp"
#include "velin/io/posix_env.hpp"

namespace velin::backup {
namespace {

class ArchiverSwappedEntriesTest : public MemRepoTest {
 protected:
  void SetUp() override {
    MemRepoTest::SetUp();
    auto dir = posix_.MakeTempDir("velin-swapped-");
    ASSERT_TRUE(dir) << dir.error().message;
    root_ = *dir;
    app_ = root_ + "/app";
    ASSERT_TRUE(io::CreateDirs(posix_, app_ + "/storage/sub"));
    ASSERT_TRUE(io::CreateDirs(posix_, root_ + "/secret"));
    Write(root_ + "/secret/shadow", "SECRET");
    Write(root_ + "/secret/inner.txt", "SECRET too");
  }
  void TearDown() override {
    if (!root_.empty()) (void)io::RemoveAll(posix_, root_);
  }

  void Write(const std::string& path, const std::string& data) {
    auto f = posix_.NewWritableFile(path, {.mode = 0644});
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE((*f)->Append(data));
    ASSERT_TRUE((*f)->Close());
  }

  // `path` made a symlink to `target` (what was there removed).
  void SwapForSymlink(const std::string& path, const std::string& target) {
    ASSERT_TRUE(io::RemoveAll(posix_, path));
    ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
  }

  Result<repo::Snapshot> BackupOfApp() {
    Reopen();
    CreateOptions o;
    o.app_root = app_;
    o.include = {"storage"};
    o.strategy = *repo::ParseStrategy("full");
    o.velin_version = "test";
    o.app = "shop";
    return CreateBackup(*repo_, meddling_, warnings_, o);
  }

  // Every file the backup restores, with its content ("" for others), under /restore.
  std::map<std::string, std::string> Restored(const repo::Snapshot& snapshot) {
    Reopen();
    auto restored = RestoreSnapshot(*repo_, snapshot, env_, quiet_, {.target = "/restore"});
    EXPECT_TRUE(restored) << restored.error().message;
    std::map<std::string, std::string> out;
    std::function<void(const std::string&)> walk = [&](const std::string& dir) {
      auto entries = env_.ListDir(dir);
      if (!entries) return;
      for (const auto& e : *entries) {
        const std::string path = dir + "/" + e.name;
        auto info = env_.Stat(path);
        if (!info) continue;
        if (info->type == io::FileType::kDirectory) {
          out[path] = "";
          walk(path);
        } else if (info->type == io::FileType::kRegular) {
          out[path] = *env_.ReadFile(path);
        } else {
          out[path] = "";
        }
      }
    };
    walk("/restore");
    return out;
  }

  io::PosixEnv posix_;
  testing::MeddlingEnv meddling_{posix_};
  testing::WarningRecorder warnings_;
  std::string root_, app_;
};

TEST_F(ArchiverSwappedEntriesTest, WhatIsSwappedBetweenItsLstatAndItsOpenIsLeftOutNotFollowed) {
  const std::string storage = app_ + "/storage";
  Write(storage + "/upload.txt", "upload");
  Write(storage + "/pipe.txt", "a file");
  Write(storage + "/later.log", "line 1\n");
  Write(storage + "/sub/inner.txt", "inner");
  Write(storage + "/kept.txt", "kept");
  // A symlink to the secret in place of an upload, at its open.
  meddling_.Once(storage + "/upload.txt",
                 [&] { SwapForSymlink(storage + "/upload.txt", root_ + "/secret/shadow"); });
  // A fifo in place of a file, at its open: no writer ever comes.
  meddling_.Once(storage + "/pipe.txt", [&] {
    ASSERT_EQ(::unlink((storage + "/pipe.txt").c_str()), 0);
    ASSERT_EQ(::mkfifo((storage + "/pipe.txt").c_str(), 0644), 0);
  });
  // Written during its read (so it is read once more), and a symlink by its second open.
  meddling_.hooks[storage + "/later.log"] = [&] {
    if (meddling_.calls[storage + "/later.log"] == 1) {
      Write(storage + "/later.log", "line 1\nline 2\n");
    } else {
      SwapForSymlink(storage + "/later.log", root_ + "/secret/shadow");
    }
  };
  // A directory made a symlink to the secret directory, after its parent listed it.
  bool swapped_dir = false;
  meddling_.open_dir_hooks[storage + "/sub"] = [&] {
    if (swapped_dir) return;
    swapped_dir = true;
    SwapForSymlink(storage + "/sub", root_ + "/secret");
  };

  auto snap = BackupOfApp();
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_TRUE(swapped_dir);
  EXPECT_EQ(meddling_.calls[storage + "/later.log"], 2) << "read once more, then swapped";
  EXPECT_EQ(snap->stats.files_vanished, 4u) << "upload.txt, pipe.txt, later.log, sub";
  const auto restored = Restored(*snap);
  for (const auto& [path, data] : restored) {
    EXPECT_EQ(data.find("SECRET"), std::string::npos) << path << " holds the secret";
  }
  EXPECT_EQ(restored.count("/restore/storage/kept.txt"), 1u);
  EXPECT_EQ(restored.at("/restore/storage/kept.txt"), "kept");
  for (const char* gone : {"upload.txt", "pipe.txt", "later.log", "sub"}) {
    EXPECT_EQ(restored.count(std::string("/restore/storage/") + gone), 0u) << gone;
  }
  // The next backup takes them as they are now: the symlinks as symlinks.
  meddling_.hooks.clear();
  meddling_.open_dir_hooks.clear();
  auto next = BackupOfApp();
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->stats.files_vanished, 0u);
  const auto again = Restored(*next);
  for (const auto& [path, data] : again) {
    EXPECT_EQ(data.find("SECRET"), std::string::npos) << path << " holds the secret";
  }
  EXPECT_EQ(*env_.ReadLink("/restore/storage/upload.txt"), root_ + "/secret/shadow");
  EXPECT_EQ(*env_.ReadLink("/restore/storage/sub"), root_ + "/secret");
}

// A directory above a file made a symlink while the walk reads the file's extended attributes:
// they are read through the directory listed, not where the symlink leads (a file there with
// a file capability, as in /usr/bin, would have given it to this file at a restore).
TEST_F(ArchiverSwappedEntriesTest, ExtendedAttributesAreReadFromTheDirectoryListed) {
  const std::string storage = app_ + "/storage";
  Write(storage + "/sub/tool", "mine");
  ASSERT_TRUE(io::CreateDirs(posix_, root_ + "/elsewhere"));
  Write(root_ + "/elsewhere/tool", "theirs");
  if (::setxattr((root_ + "/elsewhere/tool").c_str(), "user.granted", "SECRET", 6, 0) != 0) {
    GTEST_SKIP() << "no user.* extended attributes on " << root_;
  }
  meddling_.xattr_hooks[storage + "/sub/tool"] = [&] {
    if (::access((storage + "/sub.real").c_str(), F_OK) == 0) return;
    ASSERT_EQ(::rename((storage + "/sub").c_str(), (storage + "/sub.real").c_str()), 0);
    ASSERT_EQ(::symlink((root_ + "/elsewhere").c_str(), (storage + "/sub").c_str()), 0);
  };
  auto snap = BackupOfApp();
  ASSERT_TRUE(snap) << snap.error().message;
  Reopen();
  auto restored = RestoreSnapshot(*repo_, *snap, env_, quiet_, {.target = "/restore"});
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_EQ(Read("/restore/storage/sub/tool"), "mine");
  auto xattrs = env_.ReadXattrs("/restore/storage/sub/tool");
  ASSERT_TRUE(xattrs) << xattrs.error().message;
  EXPECT_TRUE(xattrs->empty()) << xattrs->front().first << "=" << xattrs->front().second;
}

// A file replaced by another regular file (an atomic rename over it, as editors and
// deployments write) between its lstat and its open is left out like one deleted: what is
// read is always the file the listing named.
TEST_F(ArchiverSwappedEntriesTest, AFileRenamedOverBetweenItsLstatAndItsOpenIsLeftOut) {
  const std::string storage = app_ + "/storage";
  Write(storage + "/config.json", "old");
  meddling_.Once(storage + "/config.json", [&] {
    Write(storage + "/config.json.tmp", "new");
    ASSERT_EQ(::rename((storage + "/config.json.tmp").c_str(), (storage + "/config.json").c_str()),
              0);
  });
  auto snap = BackupOfApp();
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_EQ(snap->stats.files_vanished, 1u);
  meddling_.hooks.clear();
  auto next = BackupOfApp();
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(Restored(*next).at("/restore/storage/config.json"), "new");
}

// A symlink on the include path (storage -> the NAS) is followed and its text recorded, so that
// an in-place restore writes behind it again, as root. Swapped between its readlink and the
// walk (to a directory of the swapper's, then back), the snapshot would record the NAS and hold
// the swapper's files: a restore would write them where the text leads (a cron.d). The backup
// fails instead, and the next one, undisturbed, goes through.
TEST_F(ArchiverSwappedEntriesTest, AnIncludeLinkSwappedWhileReadFailsTheBackup) {
  ASSERT_TRUE(io::CreateDirs(posix_, root_ + "/nas"));
  Write(root_ + "/nas/photo.jpg", "photo");
  ASSERT_TRUE(io::RemoveAll(posix_, app_ + "/storage"));
  ASSERT_EQ(::symlink((root_ + "/nas").c_str(), (app_ + "/storage").c_str()), 0);
  // Right after the link's text is read (a lister thread may lstat it too: not a count of
  // lstats).
  bool swapped = false;
  meddling_.readlink_hooks[app_ + "/storage"] = [&] {
    if (swapped) return;
    swapped = true;
    SwapForSymlink(app_ + "/storage", root_ + "/secret");
  };
  auto snap = BackupOfApp();
  ASSERT_FALSE(snap);
  EXPECT_NE(snap.error().message.find(app_ +
                                      "/storage: a symlink on its path changed while velin "
                                      "read it (it led to " +
                                      root_ + "/nas when read); run the backup again"),
            std::string::npos)
      << snap.error().message;
  EXPECT_TRUE(swapped);
  meddling_.readlink_hooks.clear();
  SwapForSymlink(app_ + "/storage", root_ + "/nas");
  auto next = BackupOfApp();
  ASSERT_TRUE(next) << next.error().message;
  ASSERT_EQ(next->sources.size(), 1u);
  EXPECT_EQ(next->sources[0].links.at("storage"), root_ + "/nas");
  EXPECT_EQ(Restored(*next).at("/restore/storage/photo.jpg"), "photo");
}

// The other side: an in-place restore writes behind a recorded link while it has the recorded
// text. Swapped between the readlink and the open, to a directory of the swapper's choosing, it
// would have the backup's files (uploads anyone may have written) written there as root. The
// restore refuses instead, and nothing lands there.
TEST_F(ArchiverSwappedEntriesTest, AnInPlaceRestoreRefusesALinkSwappedWhileOpened) {
  ASSERT_TRUE(io::CreateDirs(posix_, root_ + "/nas"));
  ASSERT_TRUE(io::CreateDirs(posix_, root_ + "/cron.d"));
  Write(root_ + "/nas/job", "* * * * * root id");
  ASSERT_TRUE(io::RemoveAll(posix_, app_ + "/storage"));
  ASSERT_EQ(::symlink((root_ + "/nas").c_str(), (app_ + "/storage").c_str()), 0);
  auto snap = BackupOfApp();
  ASSERT_TRUE(snap) << snap.error().message;
  ASSERT_TRUE(io::RemoveAll(posix_, root_ + "/nas/job"));
  int opens = 0;
  meddling_.open_dir_hooks[app_ + "/storage"] = [&] {
    if (++opens != 2) return;  // the second: the one that follows, after the readlink
    SwapForSymlink(app_ + "/storage", root_ + "/cron.d");
  };
  Reopen();
  auto restored =
      RestoreSnapshot(*repo_, *snap, meddling_, quiet_, {.target = app_, .in_place = true});
  ASSERT_FALSE(restored);
  EXPECT_NE(restored.error().message.find("refusing to restore through " + app_ +
                                          "/storage: the symlink changed while velin opened it "
                                          "(it led to " +
                                          root_ + "/nas when read)"),
            std::string::npos)
      << restored.error().message;
  auto listed = posix_.ListDir(root_ + "/cron.d");
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  // Undisturbed, the restore writes behind the link as before.
  meddling_.open_dir_hooks.clear();
  SwapForSymlink(app_ + "/storage", root_ + "/nas");
  Reopen();
  restored = RestoreSnapshot(*repo_, *snap, meddling_, quiet_, {.target = app_, .in_place = true});
  ASSERT_TRUE(restored) << restored.error().message;
  auto job = posix_.ReadFile(root_ + "/nas/job");
  ASSERT_TRUE(job);
  EXPECT_EQ(*job, "* * * * * root id");
}

}  // namespace
}  // namespace velin::backup
