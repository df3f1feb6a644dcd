// A restore onto a file system that cannot hold some kinds of entries (FAT and exFAT: no
// symlinks, hardlinks or fifos, refused with EPERM or ENOSYS; other FUSE and network file
// systems: EOPNOTSUPP; a file at its link limit: EMLINK). Before, the restore stopped at the
// first such entry with almost nothing restored. Now a refused hardlink's file is written as a
// separate copy (a warning, exit 0: every byte is there); refused symlinks and fifos are left
// out, everything else is restored, and the restore fails with one line saying what is missing.
// Names the target does not take (`:` or `?` on exFAT) are left out the same way. The
// refusals are injected (VELIN_FAULT_INJECT=symlink|link|node:N:ERRNO:sticky) and also met on a
// real exFAT file system where one can be mounted.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "support/backup_fixture.hpp"
#include "velin/io/posix_env.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// DescribeTree's lines without those of `paths` (relative to its root, with a leading '/').
std::string WithoutEntries(const std::string& tree, const std::vector<std::string>& paths) {
  std::istringstream in(tree);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    bool drop = false;
    for (const std::string& p : paths) drop = drop || line.rfind(p + " ", 0) == 0;
    if (!drop) out += line + "\n";
  }
  return out;
}

// DescribeTree's lines with their hardlink groups dissolved (every file a copy of its own).
std::string WithoutLinkGroups(const std::string& tree) {
  std::istringstream in(tree);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (size_t at = line.find(" link="); at != std::string::npos) {
      size_t end = line.find(' ', at + 1);
      line.erase(at, end == std::string::npos ? std::string::npos : end - at);
    }
    out += line + "\n";
  }
  return out;
}

std::vector<std::string> ErrorLines(const std::string& err) {
  std::vector<std::string> out;
  for (const std::string& line : SplitLines(err)) {
    if (line.rfind("error: ", 0) == 0) out.push_back(line);
  }
  return out;
}

class RestoreRefusedEntriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string s = app_.root() + "/storage";
    WriteFile(s + "/a.txt", "alpha\n");
    WriteFile(s + "/c.txt", "gamma\n");
    WriteFile(s + "/sub/b.txt", RandomData(300000, 7));
    fs::create_symlink("../a.txt", s + "/sub/link");
    fs::create_symlink("c.txt", s + "/link2");
    fs::create_hard_link(s + "/a.txt", s + "/sub/hard");
    ASSERT_EQ(::mkfifo((s + "/sub/fifo").c_str(), 0640), 0);
    WriteFile(s + "/zz/last.txt", "restored after every refusal\n");
    ASSERT_EQ(app_.Run({"backup", "create"}).exit_code, 0);
    tree_ = DescribeTree(s);
  }

  RunResult RestoreWith(const std::string& rule, const std::string& target) {
    RunOptions o;
    o.env["VELIN_FAULT_INJECT"] = rule;
    return app_.Run({"backup", "restore", "latest", "--target", target}, o);
  }

  BackupApp app_;
  std::string tree_;
};

TEST_F(RestoreRefusedEntriesTest, RefusedSymlinksAreLeftOutAndTheRestFailsTheRestoreInOneLine) {
  const std::string target = app_.path("out");
  RunResult r = RestoreWith("symlink:1:ENOSYS:sticky", target);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(ErrorLines(r.err),
            std::vector<std::string>{"error: the target refused 2 symlinks (e.g. " + target +
                                     "/storage/link2 -> c.txt: Function not implemented); "
                                     "everything else is restored"})
      << r.err;
  EXPECT_EQ(DescribeTree(target + "/storage"), WithoutEntries(tree_, {"/link2", "/sub/link"}));
  EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{});
}

// Must show: an in-place restore (here into a target, the same code) meeting a directory with
// content where the backup has a file, a symlink and a fifo leaves the directories and what is
// in them alone, restores everything else, and fails in one line saying what to do; before, it
// failed with the raw rename error ("cannot rename …/.velin-restore-… to …: Is a directory").
TEST_F(RestoreRefusedEntriesTest, ADirectoryWhereTheBackupHasAFileIsLeftAloneAndNamed) {
  const std::string target = app_.path("out");
  for (const char* in_the_way : {"/storage/c.txt", "/storage/link2", "/storage/sub/fifo"}) {
    WriteFile(target + in_the_way + "/keep/me.txt", "someone's\n");
  }
  RunResult r = app_.Run({"backup", "restore", "latest", "--target", target});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const std::vector<std::string> errors = ErrorLines(r.err);
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_EQ(errors[0].rfind("error: the target refused 3 names (e.g. " + target + "/storage/", 0),
            0u)
      << r.err;
  EXPECT_NE(errors[0].find(": a directory is in its place; move it away and restore again); "
                           "everything else is restored"),
            std::string::npos)
      << r.err;
  for (const char* in_the_way : {"/storage/c.txt", "/storage/link2", "/storage/sub/fifo"}) {
    EXPECT_EQ(ReadFileOrDie(target + in_the_way + "/keep/me.txt"), "someone's\n") << in_the_way;
  }
  EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{});
  // Everything else is there, also what comes after them.
  EXPECT_EQ(ReadFileOrDie(target + "/storage/a.txt"), "alpha\n");
  EXPECT_EQ(ReadFileOrDie(target + "/storage/sub/b.txt"), RandomData(300000, 7));
  EXPECT_EQ(fs::read_symlink(target + "/storage/sub/link"), "../a.txt");
  EXPECT_EQ(ReadFileOrDie(target + "/storage/zz/last.txt"), "restored after every refusal\n");
  for (const char* in_the_way : {"/storage/c.txt", "/storage/link2", "/storage/sub/fifo"}) {
    fs::remove_all(target + std::string(in_the_way));
  }
  // Moved away, the next restore puts them back.
  RunResult again = app_.Run({"backup", "restore", "latest", "--target", target});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(DescribeTree(target + "/storage"), tree_);
}

// A directory in the place of a hardlink group's first name (storage/a.txt, linked as
// storage/sub/hard): that name is refused and named, and the other name gets the file's
// content. The target holds hardlinks well: no warning that it refused one (linkat met the
// directory, EPERM, and was taken for a file system without hardlinks).
TEST_F(RestoreRefusedEntriesTest, AGroupsFirstNameTakenByADirectoryIsNoRefusedHardlink) {
  const std::string target = app_.path("out");
  WriteFile(target + "/storage/a.txt/keep/me.txt", "someone's\n");
  RunResult r = app_.Run({"backup", "restore", "latest", "--target", target});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(ErrorLines(r.err),
            std::vector<std::string>{"error: the target refused 1 name (" + target +
                                     "/storage/a.txt: a directory is in its place; move it away "
                                     "and restore again); everything else is restored"})
      << r.err;
  EXPECT_EQ(r.err.find("hardlink"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFileOrDie(target + "/storage/sub/hard"), "alpha\n");
  EXPECT_EQ(ReadFileOrDie(target + "/storage/a.txt/keep/me.txt"), "someone's\n");
  EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{});
}

TEST_F(RestoreRefusedEntriesTest, RefusedFifosAreLeftOutTheSameWay) {
  const std::string target = app_.path("out");
  RunResult r = RestoreWith("node:1:EOPNOTSUPP:sticky", target);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(ErrorLines(r.err),
            std::vector<std::string>{"error: the target refused 1 fifo (" + target +
                                     "/storage/sub/fifo: Operation not "
                                     "supported); everything else is restored"})
      << r.err;
  EXPECT_EQ(DescribeTree(target + "/storage"), WithoutEntries(tree_, {"/sub/fifo"}));
  EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{});
}

// A file larger than the target holds (FAT32: 4 GiB; here a file-size limit, which the kernel
// checks the same way and velin meets as EFBIG too, not as a SIGXFSZ death): left out, with
// its temporary file; everything else is restored; one line. Written directly (large), through
// the page cache and sparse. A rerun onto a target that holds it restores the whole tree.
TEST_F(RestoreRefusedEntriesTest, AFileLargerThanTheTargetHoldsIsLeftOut) {
  const std::string s = app_.root() + "/storage";
  WriteFile(s + "/big.bin", RandomData(3 << 20, 9));
  fs::create_hard_link(s + "/big.bin", s + "/sub/big-link");  // left out with its file
  WriteFile(s + "/sub/medium.bin", RandomData(700 << 10, 10));
  {
    std::string sparse(4 << 20, '\0');
    sparse.replace(0, 4096, RandomData(4096, 11));
    WriteFile(s + "/sparse.bin", sparse);
  }
  ASSERT_EQ(app_.Run({"backup", "create"}).exit_code, 0);
  const std::string tree = DescribeTree(s);
  const std::string target = app_.path("out");
  RunOptions o;
  o.file_size_limit = 512 << 10;
  RunResult r = app_.Run({"backup", "restore", "latest", "--target", target}, o);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  ASSERT_EQ(ErrorLines(r.err).size(), 1u) << r.err;
  EXPECT_EQ(
      ErrorLines(r.err)[0].rfind(
          "error: the target refused 4 files too large for it (e.g. " + target + "/storage/", 0),
      0u)
      << r.err;
  EXPECT_NE(r.err.find(": File too large); everything else is restored"), std::string::npos)
      << r.err;
  EXPECT_EQ(DescribeTree(target + "/storage"),
            WithoutEntries(tree, {"/big.bin", "/sparse.bin", "/sub/big-link", "/sub/medium.bin"}));
  EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{});

  RunResult again = app_.Run({"backup", "restore", "latest", "--target", target});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(DescribeTree(target + "/storage"), tree);
}

// In German: every piece of the line comes from the catalogue.
TEST_F(RestoreRefusedEntriesTest, TheLineIsInTheUsersLanguage) {
  const std::string target = app_.path("out");
  const std::string misses = app_.path("misses.txt");
  RunOptions o;
  o.env = {{"VELIN_FAULT_INJECT", "symlink:1:EPERM:sticky"},
           {"LANG", "de_DE.UTF-8"},
           {"VELIN_I18N_REPORT_MISSES", misses}};
  o.unset_env = {"LC_ALL", "LC_MESSAGES"};
  RunResult r = app_.Run({"backup", "restore", "latest", "--target", target}, o);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  ASSERT_EQ(ErrorLines(r.err).size(), 0u) << r.err;  // "Fehler: ", not "error: "
  EXPECT_NE(r.err.find("Fehler: das Ziel hat 2 symbolische Links abgelehnt (z. B. " + target),
            std::string::npos)
      << r.err;
  EXPECT_EQ(fs::exists(misses) ? ReadFileOrDie(misses) : "", "");
  EXPECT_EQ(DescribeTree(target + "/storage"), WithoutEntries(tree_, {"/link2", "/sub/link"}));
}

TEST_F(RestoreRefusedEntriesTest, ARefusedHardlinkIsRestoredAsACopyWithAWarning) {
  for (const std::string rule : {"link:1:EPERM:sticky", "link:1:EMLINK"}) {
    const std::string target = app_.path("out-" + rule.substr(7, 5));
    RunResult r = RestoreWith(rule, target);
    EXPECT_EQ(r.exit_code, 0) << rule << "\n" << r.err;
    EXPECT_NE(r.err.find("warning: the target refused a hardlink (" + target +
                         "/storage/sub/hard to " + target + "/storage/a.txt: "),
              std::string::npos)
        << rule << "\n"
        << r.err;
    EXPECT_NE(r.err.find("its file is restored as a separate copy"), std::string::npos) << r.err;
    EXPECT_EQ(DescribeTree(target + "/storage"), WithoutLinkGroups(tree_)) << rule;
    EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{}) << rule;
  }
  RunOptions o;
  o.env["VELIN_FAULT_INJECT"] = "link:1:EPERM:sticky";
  auto j = app_.Json({"backup", "restore", "latest", "--target", app_.path("out-json")}, 0, o);
  EXPECT_EQ(j.value("hardlinks_copied", -1), 1) << j.dump();
  EXPECT_EQ(j.value("hardlinks", -1), 0) << j.dump();
}

TEST_F(RestoreRefusedEntriesTest, AnyOtherFailureStillStopsTheRestoreAndARerunFinishesIt) {
  // EIO is no refusal of a kind of entry: the disk failed. The restore stops there, leaves no
  // temporary name, and a second run restores the whole tree.
  const std::string target = app_.path("out");
  for (const std::string rule : {"symlink:1:EIO", "link:1:EIO", "node:1:EIO"}) {
    RunResult r = RestoreWith(rule, target);
    EXPECT_EQ(r.exit_code, 1) << rule << "\n" << r.err;
    EXPECT_EQ(r.err.find("refused"), std::string::npos) << rule << "\n" << r.err;
    EXPECT_NE(r.err.find("Input/output error"), std::string::npos) << rule << "\n" << r.err;
    EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{}) << rule;
  }
  RunResult again = app_.Run({"backup", "restore", "latest", "--target", target});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(DescribeTree(target + "/storage"), tree_);
}

// A real exFAT file system (exfat-fuse on a loop device), where one can be mounted: its files
// are restored, the symlink and fifo it cannot hold are named, the hardlink is a copy, and
// nothing of velin's is left there (exfat-fuse, asked for a fifo, makes a plain file and fails
// with EIO: that is a failure, and its file is removed).
class ExfatMount {
 public:
  explicit ExfatMount(const std::string& dir) : image_(dir + ".img"), dir_(dir) {
    fs::create_directories(dir);
    if (::geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0) return;
    if (RunProgram({"truncate", "-s", "64M", image_}).exit_code != 0) return;
    if (RunProgram({"mkfs.exfat", image_}).exit_code != 0) return;
    RunResult loop = RunProgram({"losetup", "-f", "--show", image_});
    if (loop.exit_code != 0) return;
    loop_ = SplitLines(loop.out).empty() ? "" : SplitLines(loop.out)[0];
    mounted_ = RunProgram({"mount.exfat-fuse", loop_, dir}).exit_code == 0;
  }
  ~ExfatMount() {
    if (mounted_) RunProgram({"umount", dir_});
    if (!loop_.empty()) RunProgram({"losetup", "-d", loop_});
  }
  bool mounted() const { return mounted_; }

 private:
  std::string image_;
  std::string dir_;
  std::string loop_;
  bool mounted_ = false;
};

TEST_F(RestoreRefusedEntriesTest, OnARealExfatFileSystem) {
  ExfatMount exfat(app_.path("exfat"));
  if (!exfat.mounted()) GTEST_SKIP() << "cannot mount an exFAT file system here (exfat-fuse)";
  // Without the fifo, which exfat-fuse fails with EIO.
  ASSERT_TRUE(fs::remove(app_.root() + "/storage/sub/fifo"));
  ASSERT_EQ(app_.Run({"backup", "create"}).exit_code, 0);
  const std::string target = app_.path("exfat/out");
  RunResult r = app_.Run({"backup", "restore", "latest", "--target", target});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(ErrorLines(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("error: the target refused 2 symlinks (e.g. " + target + "/storage/"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("warning: the target refused a hardlink"), std::string::npos) << r.err;
  for (const std::string rel : {"a.txt", "c.txt", "sub/b.txt", "sub/hard", "zz/last.txt"}) {
    EXPECT_EQ(ReadFileOrDie(target + "/storage/" + rel),
              ReadFileOrDie(app_.root() + "/storage/" + rel))
        << rel;
  }
  EXPECT_FALSE(fs::exists(fs::symlink_status(target + "/storage/link2")));
  EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{});
  // A FUSE file system may number a file anew once the kernel forgot it: a backup of it checks
  // what it opens by type only (docs/operations.md).
  io::PosixEnv posix;
  auto fuse = posix.OpenDir(target);
  ASSERT_TRUE(fuse) << fuse.error().message;
  EXPECT_FALSE(posix.StableInodes(**fuse));
  auto local = posix.OpenDir(app_.root());
  ASSERT_TRUE(local) << local.error().message;
  EXPECT_TRUE(posix.StableInodes(**local));

  // The fifo: exfat-fuse makes a plain file and says EIO; the restore stops, its temp goes.
  ASSERT_EQ(::mkfifo((app_.root() + "/storage/sub/fifo").c_str(), 0640), 0);
  ASSERT_EQ(app_.Run({"backup", "create"}).exit_code, 0);
  const std::string target2 = app_.path("exfat/out2");
  RunResult fifo = app_.Run({"backup", "restore", "latest", "--target", target2});
  EXPECT_EQ(fifo.exit_code, 1) << fifo.err;
  EXPECT_EQ(TempFilesUnder(target2), std::vector<std::string>{});
}

TEST_F(RestoreRefusedEntriesTest, NamesARealExfatFileSystemDoesNotTakeAreLeftOut) {
  // `:` and `?` are not allowed in exFAT names (a timestamp in an upload's name is enough). The
  // file and the directory (with what is in it) are left out and named; the rest is restored.
  ExfatMount exfat(app_.path("exfat"));
  if (!exfat.mounted()) GTEST_SKIP() << "cannot mount an exFAT file system here (exfat-fuse)";
  ASSERT_TRUE(fs::remove(app_.root() + "/storage/sub/fifo"));
  WriteFile(app_.root() + "/storage/upload 2024-01-01T10:00:00.jpg", "jpeg\n");
  WriteFile(app_.root() + "/storage/what?/inside.txt", "inside\n");
  ASSERT_EQ(app_.Run({"backup", "create"}).exit_code, 0);
  const std::string target = app_.path("exfat/out");
  RunResult r = app_.Run({"backup", "restore", "latest", "--target", target});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  ASSERT_EQ(ErrorLines(r.err).size(), 1u) << r.err;
  EXPECT_EQ(
      ErrorLines(r.err)[0].rfind(
          "error: the target refused 2 symlinks and 2 names (e.g. " + target + "/storage/", 0),
      0u)
      << r.err;
  for (const std::string rel : {"a.txt", "c.txt", "sub/b.txt", "sub/hard", "zz/last.txt"}) {
    EXPECT_EQ(ReadFileOrDie(target + "/storage/" + rel),
              ReadFileOrDie(app_.root() + "/storage/" + rel))
        << rel;
  }
  EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{});
}

}  // namespace
}  // namespace velin::testing
