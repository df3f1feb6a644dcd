#include "velin/output/console.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "support/test_support.hpp"
#include "velin/io/mem_env.hpp"

namespace velin::output {
namespace {

// Captures what a Console writes to its two streams.
class Captured {
 public:
  explicit Captured(ConsoleOptions options)
      : out_(std::tmpfile()), err_(std::tmpfile()), console_(options, out_, err_) {}
  ~Captured() {
    console_.Flush();  // before the streams close
    std::fclose(out_);
    std::fclose(err_);
  }
  Console& console() { return console_; }
  std::string out() { return velin::testing::ReadStream(out_); }
  std::string err() { return velin::testing::ReadStream(err_); }

 private:
  FILE* out_;
  FILE* err_;
  Console console_;
};

ConsoleOptions Options(Mode mode, bool color) {
  ConsoleOptions o;
  o.mode = mode;
  o.color = color;
  return o;
}

TEST(Console, TerminalShowsSymbolsAndColour) {
  Captured c(Options(Mode::kTerminal, true));
  c.console().Begin(Icon::kBackup, "Creating backup...");
  c.console().Done("File backup created");
  EXPECT_EQ(c.out(), "💾 \033[1mCreating backup...\033[0m\n\033[32m✓\033[0m File backup created\n");
}

TEST(Console, TerminalWithoutColourKeepsSymbols) {
  Captured c(Options(Mode::kTerminal, false));
  c.console().Begin(Icon::kBackup, "Creating backup...");
  c.console().Done("Backup ID: 20261124-1430-full");
  EXPECT_EQ(c.out(), "💾 Creating backup...\n✓ Backup ID: 20261124-1430-full\n");
}

TEST(Console, PlainLinesHaveNoSymbolsOrEscapes) {
  Captured c(Options(Mode::kPlain, false));
  c.console().Begin(Icon::kBackup, "Creating backup...");
  c.console().Done("Backup ID: 20261124-1430-full");
  c.console().StartProgress("Reading", 100);
  c.console().UpdateProgress(50, 1);
  c.console().EndProgress();
  EXPECT_EQ(c.out(), "Creating backup...\nBackup ID: 20261124-1430-full\n");
}

TEST(Console, JsonModePrintsOnlyTheDocument) {
  Captured c(Options(Mode::kJson, false));
  c.console().Begin(Icon::kBackup, "Creating backup...");
  c.console().Done("done");
  c.console().Info("detail");
  c.console().Line("a table row");
  c.console().Warn("careful");
  c.console().Json({{"id", "20261124-1430-full"}, {"files", 3}});
  EXPECT_EQ(c.out(), "");  // printed when the command ends
  c.console().Flush();
  auto doc = nlohmann::json::parse(c.out());
  EXPECT_EQ(doc["id"], "20261124-1430-full");
  EXPECT_EQ(doc["files"], 3);
  EXPECT_EQ(c.err(), "warning: careful\n");
}

TEST(Console, FailPrintsOneLineOnStderrAndJsonOnStdout) {
  Captured c(Options(Mode::kJson, false));
  c.console().Fail(Error{ExitCode::kLocked, "repository /r is locked by pid 7 on host h", 0});
  EXPECT_EQ(c.err(), "error: repository /r is locked by pid 7 on host h\n");
  auto doc = nlohmann::json::parse(c.out());
  EXPECT_EQ(doc["error"]["exit_code"], 3);
}

TEST(Console, QuietHidesStepsButNotListings) {
  ConsoleOptions o = Options(Mode::kPlain, false);
  o.quiet = true;
  Captured c(o);
  c.console().Begin(Icon::kList, "Available versions:");
  c.console().Done("ok");
  c.console().Line("v1.2.0");
  EXPECT_EQ(c.out(), "v1.2.0\n");
}

TEST(Console, ProgressBarDrawsOnTerminalAndClears) {
  Captured c(Options(Mode::kTerminal, false));
  c.console().StartProgress("Backing up", 1000);
  c.console().UpdateProgress(500, 3);
  c.console().Done("File backup created");
  std::string out = c.out();
  EXPECT_NE(out.find("\r\033[KBacking up ["), std::string::npos) << out;
  EXPECT_NE(out.find(" 50% "), std::string::npos) << out;
  EXPECT_NE(out.find("\r\033[K✓ File backup created\n"), std::string::npos) << out;
}

TEST(Console, JsonModePrintsOneDocumentWhateverFollows) {
  Captured c(Options(Mode::kJson, false));
  c.console().Json({{"ok", false}, {"error", {{"message", "stale"}, {"exit_code", 1}}}});
  c.console().Json({{"second", true}});
  c.console().Fail(Error{ExitCode::kFailed, "stale", 0});
  c.console().Flush();
  auto doc = nlohmann::json::parse(c.out());  // throws on a second document
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["error"]["message"], "stale");
  EXPECT_EQ(c.err(), "error: stale\n");
}

TEST(Console, AFailureAfterTheDocumentGoesIntoIt) {
  Captured c(Options(Mode::kJson, false));
  c.console().Json({{"id", "20261124-1430-full"}});
  c.console().Fail(Error{ExitCode::kFailed, "hooks.after_backup failed", 0});
  c.console().Flush();
  auto doc = nlohmann::json::parse(c.out());
  EXPECT_EQ(doc["id"], "20261124-1430-full");
  EXPECT_EQ(doc["error"]["exit_code"], 1);
}

TEST(Console, ProgressStartsWithoutFakeFiguresAndFinishesAtOneHundredPercent) {
  io::MemEnv clock;  // no time passes between the updates, however loaded the machine
  ConsoleOptions o = Options(Mode::kTerminal, false);
  o.env = &clock;
  Captured c(o);
  c.console().StartProgress("Restoring", 1000);
  c.console().UpdateProgress(0, 0);    // the first frame, before anything was measured
  c.console().UpdateProgress(990, 4);  // within 100 ms: not drawn, but the final figures
  c.console().FinishProgress();
  c.console().Done("Restored");
  std::string out = c.out();
  EXPECT_NE(out.find("Restoring [░"), std::string::npos) << out;
  EXPECT_NE(out.find("starting…"), std::string::npos) << out;
  EXPECT_EQ(out.find("0 B/s"), std::string::npos) << out;
  EXPECT_EQ(out.find("0 files"), std::string::npos) << out;
  EXPECT_NE(out.find("] 100% 990 B  4 files"), std::string::npos) << out;
  EXPECT_NE(out.find("\n✓ Restored\n"), std::string::npos) << out;  // the last frame stays
}

TEST(Console, ProgressEndedByAnErrorLeavesNoFrame) {
  Captured c(Options(Mode::kTerminal, false));
  c.console().StartProgress("Restoring", 1000);
  c.console().UpdateProgress(400, 1);
  c.console().EndProgress();
  EXPECT_EQ(c.out().find("100%"), std::string::npos);
  EXPECT_EQ(c.out().substr(c.out().size() - 4), "\r\033[K");
}

TEST(FormatTime, LocalForPeopleUtcForJson) {
  const char* old_tz = std::getenv("TZ");
  const std::string saved = old_tz ? old_tz : "";
  ::setenv("TZ", "Europe/Berlin", 1);
  ::tzset();
  EXPECT_EQ(FormatLocalTime(1795617005), "2026-11-25 15:30:05");
  EXPECT_EQ(FormatUtcTime(1795617005), "2026-11-25T14:30:05Z");
  if (old_tz) {
    ::setenv("TZ", saved.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
}

// Verify and copy count blobs, not files: the frame says which.
TEST(Console, ProgressNamesWhatItCounts) {
  Captured c(Options(Mode::kTerminal, false));
  c.console().StartProgress("Verifying", 1000, ProgressItems::kBlobs);
  c.console().UpdateProgress(1000, 230);
  c.console().FinishProgress();
  c.console().StartProgress("Restoring", 1000);
  c.console().UpdateProgress(1000, 4);
  c.console().FinishProgress();
  std::string out = c.out();
  EXPECT_NE(out.find("] 100% 1000 B  230 blobs"), std::string::npos) << out;
  EXPECT_EQ(out.find("230 files"), std::string::npos) << out;
  EXPECT_NE(out.find("] 100% 1000 B  4 files"), std::string::npos) << out;
}

TEST(ParseUtcTime, InvertsFormatUtcTimeAndRefusesOtherShapes) {
  EXPECT_EQ(ParseUtcTime("2026-11-25T14:30:05Z"), std::optional<int64_t>(1795617005));
  EXPECT_EQ(ParseUtcTime(FormatUtcTime(0)), std::optional<int64_t>(0));
  for (const char* bad : {"", "2026-11-25 14:30:05", "2026-11-25T14:30:05", "2026-11-25T14:30Z",
                          "2026-13-25T14:30:05Z", "2026-11-25T24:30:05Z", "2026-11-2xT14:30:05Z",
                          "2026-11-25T14:30:05.123Z", "2026-11-25T14:30:05+01:00"}) {
    EXPECT_EQ(ParseUtcTime(bad), std::nullopt) << bad;
  }
}

TEST(TableColumns, PadByScreenColumnsNotBytes) {
  EXPECT_EQ(DisplayWidth("✓"), 1u);
  EXPECT_EQ(DisplayWidth("wiederhergestellt"), 17u);
  EXPECT_EQ(PadRight("✓", 3), "✓  ");
  EXPECT_EQ(PadRight("Größe", 7), "Größe  ");
  EXPECT_EQ(PadLeft("12", 5), "   12");
  EXPECT_EQ(PadLeft("abweichend", 3), "abweichend");  // longer: as it is
}

TEST(Console, DetectHonoursNoColorAndJson) {
  ::setenv("NO_COLOR", "1", 1);
  ConsoleOptions o = DetectConsoleOptions(false, false, false);
  EXPECT_FALSE(o.color);
  ::unsetenv("NO_COLOR");
  EXPECT_EQ(DetectConsoleOptions(true, false, false).mode, Mode::kJson);
}

TEST(FormatBytes, UsesBinaryUnits) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.50 KiB");
  EXPECT_EQ(FormatBytes(200ull << 20), "200 MiB");
}

}  // namespace
}  // namespace velin::output
