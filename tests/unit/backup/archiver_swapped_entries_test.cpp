// velin reads the tree as root, and anyone who may write in it (the web application, a user's
// upload) may swap an entry between the walk's lstat and its open: a symlink to /etc/shadow in
// place of an upload, a directory made a symlink to /root, a fifo in place of a file. None of
// that may be stored under the entry's name (a restore would hand it to them, readable), and a
// fifo may not hang the backup. On the real file system (PosixEnv), the repository in memory.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "mem_repo.hpp"
#include "support/meddling_env.hpp"
#include "support/warning_recorder.hpp"
#include "velin/backup/restorer.hpp"
#include "velin/io/posix_env.hpp"

namespace velin::backup {
namespace {

// The warnings, and the detail lines (Info) that name entries left out.
class SwappedEntriesReporter : public testing::WarningRecorder {
 public:
  void Info(std::string_view message) override { infos.emplace_back(message); }
  std::vector<std::string> infos;
};

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
    warnings_.infos.clear();
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

  // `path`'s node in the snapshot's only source (relative to app.root, "storage/…").
  repo::Node NodeAt(const repo::Snapshot& snapshot, const std::string& path) {
    EXPECT_EQ(snapshot.sources.size(), 1u);
    Reopen();
    auto tree = repo_->ReadTree(snapshot.sources[0].tree);
    EXPECT_TRUE(tree) << tree.error().message;
    if (!tree) return {};
    repo::Node node = tree->nodes.at(0);
    for (size_t start = path.find('/') + 1; start != 0;) {
      const size_t slash = path.find('/', start);
      const std::string name = path.substr(start, slash - start);
      start = slash == std::string::npos ? 0 : slash + 1;
      auto sub = repo_->ReadTree(node.subtree);
      EXPECT_TRUE(sub) << sub.error().message;
      if (!sub) return {};
      auto it = std::find_if(sub->nodes.begin(), sub->nodes.end(),
                             [&](const repo::Node& n) { return n.name == name; });
      EXPECT_NE(it, sub->nodes.end()) << path;
      if (it == sub->nodes.end()) return {};
      node = *it;
    }
    return node;
  }

  io::PosixEnv posix_;
  testing::MeddlingEnv meddling_{posix_};
  SwappedEntriesReporter warnings_;
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
  ASSERT_EQ(warnings_.infos.size(), 1u);
  EXPECT_NE(warnings_.infos[0].find("4 files and directories were replaced while the backup ran"),
            std::string::npos)
      << warnings_.infos[0];
  EXPECT_EQ(warnings_.infos[0].find("deleted"), std::string::npos) << warnings_.infos[0];
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

// A file replaced by another regular file (an atomic rename over it, as editors, deployments
// and applications saving their state every few milliseconds write) between its lstat and its
// open is backed up as the file there then: the one open (never what a path leads to), recorded
// with its own fstat, so that the tree says what was read. Left out, a state file rewritten
// that often was missing from most backups. Its place among the hard links is the new file's:
// the old one's other link keeps the old content, the new one's links are one file.
TEST_F(ArchiverSwappedEntriesTest, AFileRenamedOverBetweenItsLstatAndItsOpenIsBackedUpAsTheNewOne) {
  const std::string storage = app_ + "/storage";
  const std::string config = storage + "/config.json";
  ASSERT_TRUE(io::CreateDirs(posix_, root_ + "/staging"));
  Write(config, "old");
  ASSERT_EQ(::link(config.c_str(), (storage + "/z-old-link").c_str()), 0);
  Write(root_ + "/staging/new", R"({"gen":2})");
  ASSERT_EQ(::chmod((root_ + "/staging/new").c_str(), 0600), 0);
  const timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT},
                             {.tv_sec = 1000000000, .tv_nsec = 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root_ + "/staging/new").c_str(), times, 0), 0);
  ASSERT_EQ(::link((root_ + "/staging/new").c_str(), (storage + "/a-new-link").c_str()), 0);
  struct stat renamed {};
  meddling_.Once(config, [&] {
    ASSERT_EQ(::rename((root_ + "/staging/new").c_str(), config.c_str()), 0);
    ASSERT_EQ(::lstat(config.c_str(), &renamed), 0);
  });
  auto snap = BackupOfApp();
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_EQ(meddling_.calls[config], 1) << "the file open is the one read";
  EXPECT_EQ(snap->stats.files_vanished, 0u);
  EXPECT_TRUE(warnings_.infos.empty()) << warnings_.infos.front();
  EXPECT_EQ(snap->stats.files, 3u);
  const repo::Node node = NodeAt(*snap, "storage/config.json");
  ASSERT_EQ(node.type, repo::NodeType::kHardlink) << "a link to a-new-link, met before it";
  EXPECT_EQ(node.target, "storage/a-new-link");
  const repo::Node first = NodeAt(*snap, "storage/a-new-link");
  EXPECT_EQ(first.inode, renamed.st_ino);
  EXPECT_EQ(first.size, 9u);
  const auto restored = Restored(*snap);
  EXPECT_EQ(restored.at("/restore/storage/config.json"), R"({"gen":2})");
  EXPECT_EQ(restored.at("/restore/storage/a-new-link"), R"({"gen":2})");
  EXPECT_EQ(restored.at("/restore/storage/z-old-link"), "old")
      << "the old file's other link holds the old content";
  const auto restored_config = env_.Stat("/restore/storage/config.json");
  ASSERT_TRUE(restored_config);
  EXPECT_EQ(restored_config->inode, env_.Stat("/restore/storage/a-new-link")->inode);
  EXPECT_NE(restored_config->inode, env_.Stat("/restore/storage/z-old-link")->inode);
  EXPECT_EQ(restored_config->mode & 07777, 0600u);
  EXPECT_EQ(restored_config->mtime_ns, 1000000000LL * 1000000000LL);
}

// The same, a single file with no other link: recorded as the new file's fstat (inode, size,
// mtime, mode), its content the new one.
TEST_F(ArchiverSwappedEntriesTest, AFileRenamedOverIsRecordedAsTheFileRead) {
  const std::string storage = app_ + "/storage";
  const std::string config = storage + "/state.json";
  Write(config, "old");
  struct stat renamed {};
  meddling_.Once(config, [&] {
    Write(storage + "/.state.tmp", R"({"gen":2})");
    ASSERT_EQ(::chmod((storage + "/.state.tmp").c_str(), 0640), 0);
    ASSERT_EQ(::rename((storage + "/.state.tmp").c_str(), config.c_str()), 0);
    ASSERT_EQ(::lstat(config.c_str(), &renamed), 0);
  });
  auto snap = BackupOfApp();
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_EQ(snap->stats.files_vanished, 0u);
  EXPECT_EQ(snap->stats.bytes, 9u);
  const repo::Node node = NodeAt(*snap, "storage/state.json");
  EXPECT_EQ(node.type, repo::NodeType::kFile);
  EXPECT_EQ(node.inode, renamed.st_ino);
  EXPECT_EQ(node.size, 9u);
  EXPECT_EQ(node.mode & 07777, 0640u);
  EXPECT_EQ(node.mtime_ns, renamed.st_mtim.tv_sec * 1000000000LL + renamed.st_mtim.tv_nsec);
  EXPECT_EQ(Restored(*snap).at("/restore/storage/state.json"), R"({"gen":2})");
}

// Replaced again at each of its reads (renamed over at every open, and written to before each
// read so that it is read once more): after three files taken in its place it is left out, named
// as replaced (not deleted), and the backup goes on.
TEST_F(ArchiverSwappedEntriesTest, AFileReplacedAtEveryReadIsLeftOutAsReplaced) {
  const std::string storage = app_ + "/storage";
  const std::string config = storage + "/state.json";
  Write(config, "gen 0");
  Write(storage + "/kept.txt", "kept");
  int generation = 0;
  meddling_.hooks[config] = [&] {
    Write(storage + "/.state.tmp", "gen " + std::to_string(++generation));
    ASSERT_EQ(::rename((storage + "/.state.tmp").c_str(), config.c_str()), 0);
  };
  meddling_.xattr_hooks[config] = [&] {
    const int fd = ::open(config.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(::write(fd, "+", 1), 1);
    ::close(fd);
  };
  auto snap = BackupOfApp();
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_EQ(meddling_.calls[config], 3) << "opened three times, then left out";
  EXPECT_EQ(snap->stats.files_vanished, 1u);
  EXPECT_EQ(snap->stats.files, 1u);
  ASSERT_EQ(warnings_.infos.size(), 1u);
  EXPECT_NE(warnings_.infos[0].find("1 file or directory was replaced while the backup ran"),
            std::string::npos)
      << warnings_.infos[0];
  EXPECT_NE(warnings_.infos[0].find("(storage/state.json)"), std::string::npos)
      << warnings_.infos[0];
  const auto restored = Restored(*snap);
  EXPECT_EQ(restored.count("/restore/storage/state.json"), 0u);
  EXPECT_EQ(restored.at("/restore/storage/kept.txt"), "kept");
}

// A symlink replaced by a file between its lstat and its readlink (EINVAL) is left out as
// replaced, as the other swaps are; it failed the whole backup before.
TEST_F(ArchiverSwappedEntriesTest, ASymlinkReplacedByAFileBeforeItsReadlinkIsLeftOutAsReplaced) {
  const std::string storage = app_ + "/storage";
  const std::string link = storage + "/current";
  Write(storage + "/kept.txt", "kept");
  ASSERT_EQ(::symlink("kept.txt", link.c_str()), 0);
  bool swapped = false;
  meddling_.stat_hooks[link] = [&] {
    if (swapped) return;
    swapped = true;
    ASSERT_EQ(::unlink(link.c_str()), 0);
    Write(link, "a file now");
  };
  auto snap = BackupOfApp();
  ASSERT_TRUE(snap) << snap.error().message;
  ASSERT_TRUE(swapped);
  EXPECT_EQ(snap->stats.files_vanished, 1u);
  ASSERT_EQ(warnings_.infos.size(), 1u);
  EXPECT_NE(warnings_.infos[0].find("was replaced while the backup ran"), std::string::npos)
      << warnings_.infos[0];
  EXPECT_NE(warnings_.infos[0].find("(storage/current)"), std::string::npos) << warnings_.infos[0];
  const auto restored = Restored(*snap);
  EXPECT_EQ(restored.count("/restore/storage/current"), 0u);
  EXPECT_EQ(restored.at("/restore/storage/kept.txt"), "kept");
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
  // And where it led, with no symlink in the path: what an in-place restore holds it to.
  EXPECT_EQ(next->sources[0].links_resolved.at("storage"),
            std::filesystem::canonical(root_ + "/nas").string());
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
  const std::string& refused = restored.error().message;
  EXPECT_NE(refused.find("refusing to restore through " + app_ + "/storage: it leads to "),
            std::string::npos)
      << refused;
  EXPECT_NE(refused.find("/cron.d now, not to "), std::string::npos) << refused;
  EXPECT_NE(refused.find("/nas as when backed up (a symlink on the way changed)"),
            std::string::npos)
      << refused;
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
