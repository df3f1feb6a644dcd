// What the Console prints on the paths the other tests leave alone: each icon, warnings and
// errors in colour, a progress bar whose total is unknown, the JSON document of a failure with
// the fields gathered for it, byte sizes up to the largest unit; and the log file's own paths.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "support/test_support.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/output/console.hpp"
#include "velin/output/logging.hpp"

namespace velin::output {
namespace {

using velin::testing::ReadStream;

class ConsoleCov : public ::testing::Test {
 protected:
  ConsoleCov() : out_(std::tmpfile()), err_(std::tmpfile()) {}
  ~ConsoleCov() override {
    std::fclose(out_);
    std::fclose(err_);
  }
  ConsoleOptions Options(Mode mode, bool color) {
    ConsoleOptions o;
    o.mode = mode;
    o.color = color;
    o.env = &env_;
    return o;
  }
  io::MemEnv env_;
  FILE* out_;
  FILE* err_;
};

TEST_F(ConsoleCov, EachIconOnATerminalAndNoneInPlainText) {
  {
    Console console(Options(Mode::kTerminal, false), out_, err_);
    console.Begin(Icon::kRestore, "r");
    console.Begin(Icon::kVerify, "v");
    console.Begin(Icon::kList, "l");
    console.Begin(Icon::kRollback, "b");
    console.Begin(Icon::kConfig, "c");
    console.Begin("n");  // the Reporter's Begin: no icon
    console.Info("detail");
  }
  EXPECT_EQ(ReadStream(out_), "♻️  r\n🔍 v\n📋 l\n⏪ b\n⚙️  c\nn\n  detail\n");
  EXPECT_EQ(ReadStream(err_), "");
}

TEST_F(ConsoleCov, WarningsAreYellowAndErrorsOnAFileStayUncoloured) {
  Console console(Options(Mode::kTerminal, true), out_, err_);
  console.Warn("disk almost full");
  // stderr is not a terminal here (a file): the error line has no escapes.
  console.Fail(Error{ExitCode::kFailed, "pack 3f2a: Input/output error", EIO});
  console.Flush();
  EXPECT_EQ(ReadStream(err_),
            "\033[33mwarning: \033[0mdisk almost full\nerror: pack 3f2a: Input/output error\n");
  EXPECT_EQ(ReadStream(out_), "");  // not JSON: nothing on stdout
}

TEST_F(ConsoleCov, AFailureWithoutADocumentPrintsTheFieldsGatheredForIt) {
  Console console(Options(Mode::kJson, false), out_, err_);
  console.AttachToFailure({{"hosts", {{"web1", "ok"}}}});
  console.AttachToFailure({{"hosts", {{"web2", "failed"}}}, {"version", "v2"}});  // replaces
  console.Fail(Error{ExitCode::kHealthFailed, "web2: health check failed", 0});
  console.Fail(Error{ExitCode::kFailed, "second", 0});  // the document is out: stderr only
  console.Flush();
  auto doc = nlohmann::json::parse(ReadStream(out_));  // throws on a second document
  EXPECT_EQ(doc["hosts"], nlohmann::json({{"web2", "failed"}}));
  EXPECT_EQ(doc["version"], "v2");
  EXPECT_EQ(doc["error"]["message"], "web2: health check failed");
  EXPECT_EQ(doc["error"]["exit_code"], static_cast<int>(ExitCode::kHealthFailed));
  EXPECT_EQ(ReadStream(err_), "error: web2: health check failed\nerror: second\n");
}

TEST_F(ConsoleCov, AProgressBarWithoutATotalShowsTheBytesDone) {
  Console console(Options(Mode::kTerminal, false), out_, err_);
  console.UpdateProgress(5, 1);  // before any start: nothing
  console.FinishProgress();      // nothing started: nothing
  EXPECT_EQ(ReadStream(out_), "");
  console.StartProgress("Reading", 0);
  console.UpdateProgress(2048, 1);
  env_.Advance(std::chrono::seconds(2));
  console.UpdateProgress(4096, 2);
  console.FinishProgress();
  const std::string out = ReadStream(out_);
  EXPECT_NE(out.find("\r\033[KReading 2.00 KiB  starting…"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\033[KReading 4.00 KiB  2 files  2.00 KiB/s\r\033[KReading 4.00 KiB  2 "
                     "files  2.00 KiB/s\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("Reading ["), std::string::npos) << out;  // no bar without a total
  console.Flush();
}

TEST_F(ConsoleCov, QuietOrPlainShowsNoProgress) {
  ConsoleOptions quiet = Options(Mode::kTerminal, false);
  quiet.quiet = true;
  Console console(quiet, out_, err_);
  console.StartProgress("Reading", 100);
  console.UpdateProgress(50, 1);
  console.FinishProgress();
  console.Info("hidden");
  EXPECT_EQ(ReadStream(out_), "");
}

TEST(ConsoleDetect, ADumbTerminalIsPlainWithoutColour) {
  const char* old = std::getenv("TERM");
  const std::string saved = old ? old : "";
  ::setenv("TERM", "dumb", 1);
  ConsoleOptions o = DetectConsoleOptions(false, true, true);
  if (old) {
    ::setenv("TERM", saved.c_str(), 1);
  } else {
    ::unsetenv("TERM");
  }
  EXPECT_EQ(o.mode, Mode::kPlain);
  EXPECT_FALSE(o.color);
  EXPECT_TRUE(o.quiet);
  EXPECT_TRUE(o.verbose);
}

TEST(FormatBytesCov, EachUnitUpToPebibytesAndNoFurther) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1024), "1.00 KiB");
  EXPECT_EQ(FormatBytes(45ull << 20), "45.0 MiB");
  EXPECT_EQ(FormatBytes(3ull << 30), "3.00 GiB");
  EXPECT_EQ(FormatBytes(512ull << 40), "512 TiB");
  EXPECT_EQ(FormatBytes(2ull << 50), "2.00 PiB");
  EXPECT_EQ(FormatBytes(UINT64_MAX), "16384 PiB");  // no unit beyond PiB
}

TEST(ParseUtcTimeCov, OutOfRangeFieldsAreRefusedAndALeapSecondTaken) {
  for (const char* bad : {"2026-11-00T10:00:00Z", "2026-11-32T10:00:00Z", "2026-11-25T10:60:00Z",
                          "2026-11-25T10:00:61Z", "2026-00-25T10:00:00Z", "2026-02-29T10:00:00Z",
                          "2026-04-31T10:00:00Z"}) {
    EXPECT_EQ(ParseUtcTime(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(ParseUtcTime("2016-12-31T23:59:60Z"), ParseUtcTime("2017-01-01T00:00:00Z"));
  EXPECT_EQ(ParseUtcTime("2028-02-29T10:00:00Z"), std::optional<int64_t>(1835431200));
}

// The log file: created private, errors added to it alone, and one that cannot be opened is
// one line naming it.
TEST(LoggingCov, TheLogFileIsPrivateAndAnUnopenableOneIsNamed) {
  testing::TempDir dir;
  config::LogSection log;
  log.file = dir / "logs/velin.log";
  log.level = "info";
  log.max_size_mb = 1;
  log.max_files = 2;
  ASSERT_TRUE(SetupLogging(log, false, true));
  LogErrorToFile("backup create failed: pack 3f2a: Input/output error");
  struct stat st {};
  ASSERT_EQ(::stat(log.file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string text = testing::ReadFileOrDie(log.file);
  EXPECT_NE(text.find("error: backup create failed: pack 3f2a: Input/output error\n"),
            std::string::npos)
      << text;

  testing::WriteFile(dir / "file", "x");
  config::LogSection bad = log;
  bad.file = dir / "file/velin.log";  // under a regular file
  auto refused = SetupLogging(bad, false, true);
  SetupEarlyLogging(false, false);  // what the other tests of this binary expect
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message.rfind("cannot open log file " + bad.file + ": ", 0), 0u)
      << refused.error().message;
}

}  // namespace
}  // namespace velin::output
