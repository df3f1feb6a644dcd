// A backup is noted as due offsite (state/offsite-pending/ID) when it is committed, not after:
// noted only once the commit was over, a `backup create` killed between its snapshot's write and
// the note left a backup that no later create copied offsite (catching up goes by the notes
// alone), and nothing said so. Found killing creates with strace at each rename; here the create
// is held right before its snapshot is written (VELIN_TEST_PAUSE_AT), where the note must be in
// place already.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "support/background_velin.hpp"
#include "support/backup_fixture.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> OffsiteNoteNames(const std::string& dir) {
  std::vector<std::string> names;
  if (!fs::exists(dir)) return names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

std::set<std::string> OffsiteNoteSnapshots(const std::string& repo) {
  std::set<std::string> ids;
  for (const auto& e : fs::directory_iterator(repo + "/snapshots")) {
    ids.insert(e.path().filename().string());
  }
  return ids;
}

RunOptions OffsiteNotePausedBeforeSnapshot(const BackupApp& app, const std::string& gate) {
  fs::create_directories(gate);
  RunOptions o;
  o.cwd = app.path(".");
  o.env["VELIN_TEST_PAUSE_AT"] = "snapshot-checked";
  o.env["VELIN_TEST_PAUSE_DIR"] = gate;
  return o;
}

// A first backup of storage/a.txt in `app_`'s repository, whose creates copy it to `offsite_`,
// and a.txt changed since, for the create a test holds at `gate_`
// (OffsiteNotePausedBeforeSnapshot).
class BackupOffsiteNote : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(app_.root() + "/storage/a.txt", "one\n");
    RunResult first = app_.Run({"backup", "create"});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    WriteFile(app_.root() + "/storage/a.txt", "two\n");
  }

  TempDir dir_;
  const std::string offsite_ = dir_ / "offsite";
  const BackupApp app_{{"storage"}, "offsite = \"" + offsite_ + "\"\n"};
  const std::string notes_ = app_.repo() + "/state/offsite-pending";
  const std::string gate_ = dir_ / "gate";
};

TEST_F(BackupOffsiteNote, TheNoteIsInPlaceBeforeTheSnapshotIsWritten) {
  BackgroundVelin velin({"backup", "create"}, OffsiteNotePausedBeforeSnapshot(app_, gate_));
  ASSERT_TRUE(WaitForPath(gate_ + "/reached"));
  EXPECT_EQ(OffsiteNoteNames(notes_).size(), 1u) << "no note before the snapshot is written";
  WriteFile(gate_ + "/go", "");
  ASSERT_TRUE(velin.WaitExit());
  RunResult second = velin.Finish();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(OffsiteNoteNames(notes_), std::vector<std::string>());
  EXPECT_EQ(OffsiteNoteSnapshots(offsite_), OffsiteNoteSnapshots(app_.repo()));
}

TEST_F(BackupOffsiteNote, ANoteOfACreateKilledBeforeItsSnapshotIsDropped) {
  {
    BackgroundVelin velin({"backup", "create"}, OffsiteNotePausedBeforeSnapshot(app_, gate_));
    ASSERT_TRUE(WaitForPath(gate_ + "/reached"));
    velin.Signal(SIGKILL);
    ASSERT_TRUE(velin.WaitExit());
    EXPECT_EQ(velin.Finish().exit_code, 128 + SIGKILL);
  }
  ASSERT_EQ(OffsiteNoteSnapshots(app_.repo()).size(), 1u);  // the killed one wrote no snapshot

  RunOptions unlocked;
  unlocked.cwd = app_.path(".");
  ASSERT_EQ(app_.Run({"backup", "unlock", "--stale"}, unlocked).exit_code, 0);
  WriteFile(app_.root() + "/storage/a.txt", "three\n");
  RunResult third = app_.Run({"backup", "create"});
  EXPECT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(OffsiteNoteNames(notes_), std::vector<std::string>());
  EXPECT_EQ(OffsiteNoteSnapshots(app_.repo()).size(), 2u);
  EXPECT_EQ(OffsiteNoteSnapshots(offsite_), OffsiteNoteSnapshots(app_.repo()));
}

}  // namespace
}  // namespace velin::testing
