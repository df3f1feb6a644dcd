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

TEST(BackupOffsiteNote, TheNoteIsInPlaceBeforeTheSnapshotIsWritten) {
  TempDir dir;
  const std::string offsite = dir / "offsite";
  BackupApp app({"storage"}, "offsite = \"" + offsite + "\"\n");
  WriteFile(app.root() + "/storage/a.txt", "one\n");
  RunResult first = app.Run({"backup", "create"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string notes = app.repo() + "/state/offsite-pending";

  WriteFile(app.root() + "/storage/a.txt", "two\n");
  const std::string gate = dir / "gate";
  BackgroundVelin velin({"backup", "create"}, OffsiteNotePausedBeforeSnapshot(app, gate));
  ASSERT_TRUE(WaitForPath(gate + "/reached"));
  EXPECT_EQ(OffsiteNoteNames(notes).size(), 1u) << "no note before the snapshot is written";
  WriteFile(gate + "/go", "");
  ASSERT_TRUE(velin.WaitExit());
  RunResult second = velin.Finish();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(OffsiteNoteNames(notes), std::vector<std::string>());
  EXPECT_EQ(OffsiteNoteSnapshots(offsite), OffsiteNoteSnapshots(app.repo()));
}

TEST(BackupOffsiteNote, ANoteOfACreateKilledBeforeItsSnapshotIsDropped) {
  TempDir dir;
  const std::string offsite = dir / "offsite";
  BackupApp app({"storage"}, "offsite = \"" + offsite + "\"\n");
  WriteFile(app.root() + "/storage/a.txt", "one\n");
  RunResult first = app.Run({"backup", "create"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string notes = app.repo() + "/state/offsite-pending";

  WriteFile(app.root() + "/storage/a.txt", "two\n");
  const std::string gate = dir / "gate";
  {
    BackgroundVelin velin({"backup", "create"}, OffsiteNotePausedBeforeSnapshot(app, gate));
    ASSERT_TRUE(WaitForPath(gate + "/reached"));
    velin.Signal(SIGKILL);
    ASSERT_TRUE(velin.WaitExit());
    EXPECT_EQ(velin.Finish().exit_code, 128 + SIGKILL);
  }
  ASSERT_EQ(OffsiteNoteSnapshots(app.repo()).size(), 1u);  // the killed one wrote no snapshot

  RunOptions unlocked;
  unlocked.cwd = app.path(".");
  ASSERT_EQ(app.Run({"backup", "unlock", "--stale"}, unlocked).exit_code, 0);
  WriteFile(app.root() + "/storage/a.txt", "three\n");
  RunResult third = app.Run({"backup", "create"});
  EXPECT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(OffsiteNoteNames(notes), std::vector<std::string>());
  EXPECT_EQ(OffsiteNoteSnapshots(app.repo()).size(), 2u);
  EXPECT_EQ(OffsiteNoteSnapshots(offsite), OffsiteNoteSnapshots(app.repo()));
}

}  // namespace
}  // namespace velin::testing
