// The progress bar says what it counts: backup and restore count files, verify and copy count
// blobs (they read chunks and trees, not files), and a frame that said "files" for them
// counted something else. Run on a terminal (a pty), where the bar is drawn.
#include <gtest/gtest.h>

#include "support/backup_fixture.hpp"
#include "support/pty_run.hpp"

namespace velin::testing {
namespace {

// The last progress frame that starts with `label` ("\r\033[K" + label ...), up to the next
// frame or line.
std::string LastFrame(const std::string& out, const std::string& label) {
  const std::string start = "\r\033[K" + label + " ";
  size_t at = out.rfind(start);
  if (at == std::string::npos) return "";
  at += 4;
  size_t end = out.find_first_of("\r\n", at);
  return out.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

class ProgressCounts : public ::testing::Test {
 protected:
  ProgressCounts() {
    // Three files, one of them a few chunks: more blobs than files.
    WriteFile(app_.root() + "/storage/big.bin", RandomData(3 << 20, 11));
    WriteFile(app_.root() + "/storage/a.txt", "a\n");
    WriteFile(app_.root() + "/storage/b.txt", "b\n");
    RunResult r = app_.Run({"backup", "create"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    tty_.cwd = app_.path("");
    tty_.env = {{"LANG", "C.UTF-8"}, {"TERM", "xterm"}, {"NO_COLOR", "1"}};
    tty_.unset_env = {"LC_ALL", "LC_MESSAGES"};
  }

  BackupApp app_{{"storage"}, "encryption = \"none\"\n"};
  RunOptions tty_;
};

TEST_F(ProgressCounts, VerifyCountsBlobs) {
  nlohmann::json v = app_.Json({"backup", "verify", "latest"});
  ASSERT_TRUE(v.contains("blobs")) << v.dump();
  const uint64_t blobs = v["blobs"];
  ASSERT_GT(blobs, 3u) << v.dump();  // more than the files: the figure is not a file count

  RunResult r = RunVelinInPty({"backup", "verify", "latest"}, tty_);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string frame = LastFrame(r.out, "Verifying");
  EXPECT_NE(frame.find("] 100% "), std::string::npos) << r.out;
  EXPECT_NE(frame.find("  " + std::to_string(blobs) + " blobs"), std::string::npos) << frame;
  EXPECT_EQ(frame.find("files"), std::string::npos) << frame;

  RunOptions de = tty_;
  de.env["LANG"] = "de_DE.UTF-8";
  r = RunVelinInPty({"backup", "verify", "latest"}, de);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("  " + std::to_string(blobs) + " Blobs"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Dateien"), std::string::npos) << r.out;
}

TEST_F(ProgressCounts, CopyCountsBlobs) {
  nlohmann::json c = app_.Json({"backup", "copy", "latest", "--to", app_.path("copy1")});
  const uint64_t blobs = c.value("blobs_copied", uint64_t{0});
  ASSERT_GT(blobs, 3u) << c.dump();

  RunResult r = RunVelinInPty({"backup", "copy", "latest", "--to", app_.path("copy2")}, tty_);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string frame = LastFrame(r.out, "Copying");
  EXPECT_NE(frame.find("  " + std::to_string(blobs) + " blobs"), std::string::npos) << r.out;
  EXPECT_EQ(frame.find("files"), std::string::npos) << frame;
}

}  // namespace
}  // namespace velin::testing
