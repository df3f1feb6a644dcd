// The progress bar's timing on a MemEnv clock (ConsoleOptions::env): a frame at most every
// 100 ms, "starting…" until 50 ms have passed with bytes done, the rate from the Env's
// monotonic clock. No real time passes, so no figure depends on the machine's load.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "support/test_support.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/output/console.hpp"

namespace velin::output {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using velin::testing::ReadStream;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class ConsoleMem : public ::testing::Test {
 protected:
  ConsoleMem() : out_(std::tmpfile()), err_(std::tmpfile()) {}
  ~ConsoleMem() override {
    std::fclose(out_);
    std::fclose(err_);
  }
  ConsoleOptions Terminal() {
    ConsoleOptions o;
    o.mode = Mode::kTerminal;
    o.env = &env_;
    return o;
  }
  io::MemEnv env_;
  FILE* out_;
  FILE* err_;
};

TEST_F(ConsoleMem, DrawsAFrameAtMostEveryHundredMilliseconds) {
  Console console(Terminal(), out_, err_);
  console.StartProgress("Backing up", 10'000);
  console.UpdateProgress(100, 1);  // the first update draws
  for (uint64_t i = 1; i <= 9; ++i) {
    env_.Advance(milliseconds(10));  // 10 ... 90 ms after the first frame: none drawn
    console.UpdateProgress(100 + 10 * i, 1 + i);
  }
  EXPECT_EQ(Count(ReadStream(out_), "Backing up ["), 1u);
  env_.Advance(milliseconds(10));  // 100 ms since the first frame
  console.UpdateProgress(1000, 10);
  env_.Advance(milliseconds(99));
  console.UpdateProgress(1100, 11);
  const std::string out = ReadStream(out_);
  EXPECT_EQ(Count(out, "Backing up ["), 2u) << out;
  EXPECT_NE(out.find("]  10% 1000 B/9.77 KiB  10 files  9.77 KiB/s"), std::string::npos) << out;
  console.EndProgress();
  console.Flush();
}

// A restore of one large file showed "1 files" in its bar (and a verify of one blob "1 blobs").
TEST_F(ConsoleMem, TheBarCountsOneFileOrBlobInTheSingular) {
  Console console(Terminal(), out_, err_);
  console.StartProgress("Restoring", 4 << 20);
  env_.Advance(milliseconds(1000));
  console.UpdateProgress(1 << 20, 1);
  console.FinishProgress();
  std::string out = ReadStream(out_);
  EXPECT_NE(out.find(" 1.00 MiB  1 file  "), std::string::npos) << out;
  EXPECT_EQ(out.find("1 files"), std::string::npos) << out;
  console.StartProgress("Verifying", 4 << 20, velin::ProgressItems::kBlobs);
  env_.Advance(milliseconds(1000));
  console.UpdateProgress(1 << 20, 1);
  console.FinishProgress();
  out = ReadStream(out_);
  EXPECT_NE(out.find(" 1.00 MiB  1 blob  "), std::string::npos) << out;
  EXPECT_EQ(out.find("1 blobs"), std::string::npos) << out;
  console.Flush();
}

TEST_F(ConsoleMem, SaysStartingUntilARateCanBeMeasuredThenShowsIt) {
  Console console(Terminal(), out_, err_);
  console.StartProgress("Restoring", 4 << 20);
  env_.Advance(milliseconds(40));
  console.UpdateProgress(1 << 20, 3);  // 40 ms: too early for a rate
  std::string out = ReadStream(out_);
  EXPECT_NE(out.find("1.00 MiB/4.00 MiB  starting…"), std::string::npos) << out;
  env_.Advance(milliseconds(1960));  // two seconds after the start
  console.UpdateProgress(2 << 20, 6);
  out = ReadStream(out_);
  EXPECT_NE(out.find("]  50% 2.00 MiB/4.00 MiB  6 files  1.00 MiB/s"), std::string::npos) << out;
  env_.Advance(seconds(2));
  console.UpdateProgress(4 << 20, 9);
  console.FinishProgress();
  out = ReadStream(out_);
  EXPECT_NE(out.find("] 100% 4.00 MiB  9 files  1.00 MiB/s\n"), std::string::npos) << out;
  console.Flush();
}

}  // namespace
}  // namespace velin::output
