#include "velin/output/console.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>

namespace velin::output {
namespace {

// Captures what a Console writes to its two streams.
class Captured {
 public:
  explicit Captured(ConsoleOptions options)
      : out_(std::tmpfile()), err_(std::tmpfile()), console_(options, out_, err_) {}
  ~Captured() {
    std::fclose(out_);
    std::fclose(err_);
  }
  Console& console() { return console_; }
  std::string out() { return Read(out_); }
  std::string err() { return Read(err_); }

 private:
  static std::string Read(FILE* f) {
    std::fflush(f);
    std::rewind(f);
    std::string s;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    return s;
  }
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
