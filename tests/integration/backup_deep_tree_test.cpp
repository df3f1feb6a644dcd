// Directories nested past what the kernel takes in one path (PATH_MAX, 4,096 bytes) and past
// what a stack holds. Before: a backup of the first failed at the 240th level with an error that
// repeated every ancestor's path (half a megabyte on one line), and a tree 6,000 levels deep
// killed velin with SIGSEGV. Now the first backs up, verifies and restores like any tree, and
// the second stops with one line that names the directory (velin/core/stack.hpp). A tree
// deeper than the open-file limit (1,500 levels under 1,024 descriptors) backed up but failed
// to restore ("Too many open files"): the restore held every directory it was in open.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

int OpenDirAt(int at, const std::string& name) {
  const int fd = ::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) throw std::runtime_error("cannot open " + name + ": " + std::strerror(errno));
  return fd;
}

// `levels` directories named `name`, nested under `root` (made by descriptors: the path soon
// outgrows what the kernel takes whole), with a file "f<level>" every `every` levels (0: only
// at the bottom) and at the bottom a symlink to it.
void MakeDeepTree(const std::string& root, int levels, const std::string& name, int every) {
  std::filesystem::create_directories(root);
  int fd = OpenDirAt(AT_FDCWD, root);
  auto write_file = [&](const std::string& file, const std::string& content) {
    const int f = ::openat(fd, file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    ASSERT_GE(f, 0) << std::strerror(errno);
    ASSERT_EQ(::write(f, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::close(f);
  };
  for (int level = 1; level <= levels; ++level) {
    ASSERT_EQ(::mkdirat(fd, name.c_str(), 0750), 0) << std::strerror(errno);
    const int next = OpenDirAt(fd, name);
    ::close(fd);
    fd = next;
    if ((every > 0 && level % every == 0) || level == levels) {
      write_file("f" + std::to_string(level), "level " + std::to_string(level) + "\n");
    }
  }
  ASSERT_EQ(::symlinkat(("f" + std::to_string(levels)).c_str(), fd, "link"), 0);
  ::close(fd);
}

// Every entry under the directory `fd`, by descriptors: relative path, mode, mtime, size and
// content or link target, one line each in walk order (names sorted).
void Describe(int fd, const std::string& rel, std::string& out) {
  std::vector<std::string> names;
  const int listing_fd = ::dup(fd);
  DIR* d = ::fdopendir(listing_fd);
  ASSERT_NE(d, nullptr);
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    struct stat st {};
    ASSERT_EQ(::fstatat(fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW), 0);
    out += rel + "/" + n + " mode=" + std::to_string(st.st_mode) +
           " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    if (S_ISLNK(st.st_mode)) {
      char target[256] = {};
      const ssize_t len = ::readlinkat(fd, n.c_str(), target, sizeof(target));
      out += " -> " + std::string(target, static_cast<size_t>(std::max<ssize_t>(len, 0)));
    } else if (S_ISREG(st.st_mode)) {
      const int f = ::openat(fd, n.c_str(), O_RDONLY | O_CLOEXEC);
      char buf[256] = {};
      const ssize_t len = ::read(f, buf, sizeof(buf));
      ::close(f);
      out += " size=" + std::to_string(st.st_size) + " " +
             std::string(buf, static_cast<size_t>(std::max<ssize_t>(len, 0)));
    }
    out += "\n";
    if (S_ISDIR(st.st_mode)) {
      const int sub = OpenDirAt(fd, n);
      Describe(sub, rel + "/" + n, out);
      ::close(sub);
    }
  }
}

std::string DescribeDeep(const std::string& root) {
  std::string out;
  const int fd = OpenDirAt(AT_FDCWD, root);
  Describe(fd, "", out);
  ::close(fd);
  return out;
}

TEST(BackupDeepTreeTest, ATreeDeeperThanPathMaxBacksUpVerifiesAndRestores) {
  BackupApp app;
  // 250 levels of 24 bytes: paths up to ~6,300 bytes under the app, a file every 25 levels.
  MakeDeepTree(app.root() + "/storage", 250, std::string(24, 'n'), 25);
  // The path's length is what is tested here, not the stack: the sanitizer build's unoptimised
  // frames are several times the release build's (~0.5 MiB for these 250 levels).
  RunOptions deep;
  deep.stack_soft = 64 << 20;
  auto first = app.Run({"backup", "create"}, deep);
  ASSERT_EQ(first.exit_code, 0) << first.err.substr(0, 2000);
  auto again = app.Run({"backup", "create", "--strategy", "incremental"}, deep);
  ASSERT_EQ(again.exit_code, 0) << again.err.substr(0, 2000);
  auto verify = app.Run({"backup", "verify", "--all"}, deep);
  ASSERT_EQ(verify.exit_code, 0) << verify.err.substr(0, 2000);
  auto listed = app.Run({"backup", "ls", "latest", "--recursive"}, deep);
  ASSERT_EQ(listed.exit_code, 0) << listed.err.substr(0, 2000);
  EXPECT_NE(listed.out.find("/f250"), std::string::npos);

  const std::string target = app.path("restored");
  auto restore = app.Run({"backup", "restore", "latest", "--target", target, "--yes"}, deep);
  ASSERT_EQ(restore.exit_code, 0) << restore.err.substr(0, 2000);
  const std::string want = DescribeDeep(app.root() + "/storage");
  EXPECT_GE(std::count(want.begin(), want.end(), '\n'), 250 + 10 + 1);  // dirs, files, link
  EXPECT_EQ(DescribeDeep(target + "/storage"), want);
}

TEST(BackupDeepTreeTest, ATreeDeeperThanTheStackIsOneLineAndNoCrash) {
  BackupApp app;
  // 1,500 levels: a path of ~3,000 bytes, deeper than a backup walks with 1 MiB of stack
  // (~500 levels) and than a restore does (~950).
  MakeDeepTree(app.root() + "/storage", 1500, "d", 0);
  RunOptions small;
  small.stack_soft = 1 << 20;
  auto refused = app.Run({"backup", "create"}, small);
  EXPECT_EQ(refused.exit_code, 1) << refused.err.substr(0, 2000);
  EXPECT_EQ(SplitLines(refused.err).size(), 1u) << refused.err.substr(0, 2000);
  EXPECT_NE(refused.err.find("is nested deeper than velin's stack reaches: raise it (`ulimit "
                             "-s`) or leave the directory out (backup.exclude)"),
            std::string::npos)
      << refused.err.substr(0, 2000);
  EXPECT_NE(refused.err.find(app.root() + "/storage/d/d/d/"), std::string::npos);
  EXPECT_LT(refused.err.size(), 4000u);  // one path, not every ancestor's
  EXPECT_EQ(app.Json({"backup", "list"})["backups"].size(), 0u);

  RunOptions large;
  large.stack_soft = 256 << 20;
  auto made = app.Run({"backup", "create"}, large);
  ASSERT_EQ(made.exit_code, 0) << made.err.substr(0, 2000);
  const std::string target = app.path("restored");
  auto cut = app.Run({"backup", "restore", "latest", "--target", target, "--yes"}, small);
  EXPECT_EQ(cut.exit_code, 1) << cut.err.substr(0, 2000);
  const auto lines = SplitLines(cut.err);
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) { return l.starts_with("error: "); }),
            1)
      << cut.err.substr(0, 2000);
  EXPECT_NE(cut.err.find("is nested deeper than velin's stack reaches: raise it (`ulimit -s`)"),
            std::string::npos)
      << cut.err.substr(0, 2000);
  EXPECT_LT(cut.err.size(), 4000u);
  // The other walks over a backup's trees stop alike.
  for (const std::vector<std::string>& walk :
       {std::vector<std::string>{"backup", "ls", "latest", "--recursive"},
        std::vector<std::string>{"backup", "find", "f1500"}}) {
    auto stopped = app.Run(walk, small);
    EXPECT_EQ(stopped.exit_code, 1) << walk[1] << ": " << stopped.err.substr(0, 2000);
    EXPECT_EQ(SplitLines(stopped.err).size(), 1u) << walk[1] << ": " << stopped.err.substr(0, 2000);
    EXPECT_NE(stopped.err.find("is nested deeper than velin's stack reaches"), std::string::npos)
        << walk[1] << ": " << stopped.err.substr(0, 2000);
    auto whole = app.Run(walk, large);
    EXPECT_EQ(whole.exit_code, 0) << walk[1] << ": " << whole.err.substr(0, 2000);
    EXPECT_NE(whole.out.find("/f1500"), std::string::npos) << walk[1];
  }

  RunProgram({"rm", "-rf", target});  // std::filesystem cannot: the paths pass PATH_MAX
  auto restored = app.Run({"backup", "restore", "latest", "--target", target, "--yes"}, large);
  ASSERT_EQ(restored.exit_code, 0) << restored.err.substr(0, 2000);
  EXPECT_EQ(DescribeDeep(target + "/storage"), DescribeDeep(app.root() + "/storage"));
}

TEST(BackupDeepTreeTest, ATreeDeeperThanTheOpenFileLimitRestores) {
  BackupApp app;
  // A file every 100 levels: directories with files a worker writes while the walk goes on
  // below them, whose metadata comes last.
  MakeDeepTree(app.root() + "/storage", 1500, "d", 100);
  RunOptions deep;
  deep.stack_soft = 256 << 20;  // the sanitizer build's frames (see above)
  RunOptions few_files = deep;
  few_files.open_files_soft = 64;
  few_files.open_files_hard = 64;
  auto made = app.Run({"backup", "create"}, few_files);
  ASSERT_EQ(made.exit_code, 0) << made.err.substr(0, 2000);
  const std::string want = DescribeDeep(app.root() + "/storage");
  for (unsigned limit : {1024u, 256u}) {
    RunOptions limited = deep;
    limited.open_files_soft = limit;
    limited.open_files_hard = limit;
    const std::string target = app.path("restored" + std::to_string(limit));
    auto restored = app.Run({"backup", "restore", "latest", "--target", target, "--yes"}, limited);
    ASSERT_EQ(restored.exit_code, 0) << limit << ": " << restored.err.substr(0, 2000);
    EXPECT_EQ(DescribeDeep(target + "/storage"), want) << limit;
    // Again, over what the first left (the in-place path: every directory there already).
    restored = app.Run({"backup", "restore", "latest", "--target", target, "--yes"}, limited);
    ASSERT_EQ(restored.exit_code, 0) << limit << ": " << restored.err.substr(0, 2000);
    EXPECT_EQ(DescribeDeep(target + "/storage"), want) << limit;
    RunProgram({"rm", "-rf", target});
  }
}

}  // namespace
}  // namespace velin::testing
