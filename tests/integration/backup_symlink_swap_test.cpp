// An in-place restore through a symlink the backup followed (storage/uploads -> a NAS), when a
// symlink further along the link's text was swapped since the backup (the NAS's uploads, or the
// NAS's mount point, made to lead to a directory of someone's choosing): the link's own text
// is unchanged, but it leads elsewhere now. The restore refuses (exit 1) and writes nothing
// there; a NAS directory merely made anew, or a link through a symlink that was there at backup
// time (/mnt/nas -> /media/nas), still restores in place (docs/operations.md, "Symlinked data").
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "support/backup_fixture.hpp"
#include "velin/repo/blob_id.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// One app whose include storage/uploads is a symlink to `uploads` (the NAS's directory, with one
// file), by `text`: the path, or one relative to storage/ when `relative`.
class SwappedLinkTest : public ::testing::Test {
 protected:
  void LinkUploads(const std::string& uploads, bool relative = false) {
    WriteFile(uploads + "/u1.txt", "content from uploads");
    fs::create_directories(app_.root() + "/storage");
    const std::string at = app_.root() + "/storage/uploads";
    const std::string text =
        relative ? fs::relative(uploads, app_.root() + "/storage").string() : uploads;
    ASSERT_EQ(::symlink(text.c_str(), at.c_str()), 0);
    RunResult r = app_.Run({"backup", "create"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  // `dir` made to lead to a new directory `to` (with uploads/u1.txt "precious" in it) by a
  // symlink in its place; the real one is kept beside it.
  void SwapForVictim(const std::string& dir, const std::string& to, const std::string& file) {
    WriteFile(to + "/" + file, "precious");
    fs::rename(dir, dir + ".real");
    ASSERT_EQ(::symlink(to.c_str(), dir.c_str()), 0);
  }

  // The only snapshot rewritten as a velin of before 2026-12-06 wrote it: without
  // "links_resolved" (its checksum over the edited body, as repository-format.md says).
  void DropResolvedLinks() {
    std::vector<fs::path> snapshots;
    for (const auto& e : fs::directory_iterator(app_.repo() + "/snapshots")) {
      snapshots.push_back(e.path());
    }
    ASSERT_EQ(snapshots.size(), 1u);
    auto j = nlohmann::json::parse(ReadFileOrDie(snapshots[0]), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "snapshot objects of an unencrypted repository are JSON";
    bool dropped = false;
    for (auto& src : j["snapshot"]["sources"]) dropped |= src.erase("links_resolved") > 0;
    ASSERT_TRUE(dropped) << j.dump();
    j["sha256"] = repo::Sha256(j["snapshot"].dump()).Hex();
    fs::permissions(snapshots[0], fs::perms::owner_write, fs::perm_options::add);
    WriteFile(snapshots[0], j.dump());
  }

  RunResult RestoreInPlace() { return app_.Run({"backup", "restore", "latest", "--yes"}); }

  BackupApp app_{{"storage/uploads"}};
};

// The finding: the NAS's uploads swapped for a symlink to a victim directory holding a file of
// the backup's name. The link's text is as recorded; the old restore followed it and overwrote
// the victim's file.
TEST_F(SwappedLinkTest, ALaterSymlinkSwappedOnTheLinksPathIsRefused) {
  const std::string nas = app_.path("nas");
  LinkUploads(nas + "/uploads");
  const std::string victim = app_.path("victim");
  SwapForVictim(nas + "/uploads", victim, "u1.txt");
  RunResult r = RestoreInPlace();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(
      r.err.find("refusing to restore through " + app_.root() +
                 "/storage/uploads: it "
                 "leads to " +
                 fs::canonical(victim).string() + " now, not to " + fs::canonical(nas).string() +
                 "/uploads as when backed up (a symlink on the way changed); fix it, or "
                 "restore with --target"),
      std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFileOrDie(victim + "/u1.txt"), "precious");
  EXPECT_EQ(ReadFileOrDie(nas + "/uploads.real/u1.txt"), "content from uploads");
}

// The same one level up: the NAS's mount point made to lead to a directory holding uploads/.
TEST_F(SwappedLinkTest, AHigherSymlinkSwappedOnTheLinksPathIsRefused) {
  const std::string nas = app_.path("nas");
  LinkUploads(nas + "/uploads");
  const std::string evil = app_.path("evil2");
  SwapForVictim(nas, evil, "uploads/u1.txt");
  RunResult r = RestoreInPlace();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("refusing to restore through " + app_.root() + "/storage/uploads"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFileOrDie(evil + "/uploads/u1.txt"), "precious");
}

// The NAS's directory removed and made again (a new inode, the same path): in place as before.
TEST_F(SwappedLinkTest, ANasDirectoryMadeAgainRestoresInPlace) {
  const std::string uploads = app_.path("nas/uploads");
  LinkUploads(uploads);
  fs::remove_all(uploads);
  fs::create_directories(uploads);
  RunResult r = RestoreInPlace();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(uploads + "/u1.txt"), "content from uploads");
  EXPECT_TRUE(fs::is_symlink(app_.root() + "/storage/uploads"));  // still a link
}

// A link whose text passes a symlink that was there at backup time (/mnt/nas -> /media/nas, the
// text /mnt/nas/uploads): the backup recorded where it led, and it leads there still. A
// backup of an older velin recorded only the text: it is refused there, as another symlink on
// the way, with what to do.
TEST_F(SwappedLinkTest, ALinkThroughAMountPointSymlinkRestoresInPlace) {
  const std::string media = app_.path("media/nas");
  fs::create_directories(media);
  fs::create_directories(app_.path("mnt"));
  ASSERT_EQ(::symlink(media.c_str(), app_.path("mnt/nas").c_str()), 0);
  LinkUploads(app_.path("mnt/nas/uploads"));
  fs::remove(media + "/uploads/u1.txt");
  RunResult r = RestoreInPlace();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(media + "/uploads/u1.txt"), "content from uploads");

  DropResolvedLinks();
  fs::remove(media + "/uploads/u1.txt");
  r = RestoreInPlace();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("refusing to restore through " + app_.root() +
                       "/storage/uploads: it "
                       "leads to " +
                       fs::canonical(media).string() + "/uploads, not to "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("restore with --target"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(media + "/uploads/u1.txt"));
}

// A backup of an older velin (no "links_resolved"), its link relative: restored in place while
// the text leads where it says with no other symlink on the way, refused once one is swapped
// in.
TEST_F(SwappedLinkTest, AnOlderBackupIsRefusedThroughASwappedSymlink) {
  const std::string nas = app_.path("nas");
  LinkUploads(nas + "/uploads", true);
  DropResolvedLinks();
  fs::remove(nas + "/uploads/u1.txt");
  RunResult r = RestoreInPlace();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(nas + "/uploads/u1.txt"), "content from uploads");

  const std::string victim = app_.path("victim");
  SwapForVictim(nas + "/uploads", victim, "u1.txt");
  r = RestoreInPlace();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("refusing to restore through " + app_.root() +
                       "/storage/uploads: it "
                       "leads to " +
                       fs::canonical(victim).string() + ", not to "),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFileOrDie(victim + "/u1.txt"), "precious");
}

}  // namespace
}  // namespace velin::testing
