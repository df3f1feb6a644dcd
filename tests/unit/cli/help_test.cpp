// Issue 21 item 8: every command of the real command tree has two or more examples that parse,
// every value is named (never TEXT), every help text has a German entry. A command or flag
// added later fails here until it gets its examples (src/cli/help.cpp) and its German texts
// (src/core/i18n_help_german.cpp).
#include "velin/cli/help.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_support.hpp"
#include "velin/cli/context.hpp"
#include "velin/core/i18n.hpp"

namespace velin::cli {
namespace {

// Every command a user can type, the root first.
std::vector<CLI::App*> AllCommands(CLI::App& root) {
  std::vector<CLI::App*> out;
  std::vector<CLI::App*> stack = {&root};
  while (!stack.empty()) {
    CLI::App* app = stack.back();
    stack.pop_back();
    out.push_back(app);
    for (CLI::App* sub : VisibleSubcommands(app)) stack.push_back(sub);
  }
  return out;
}

TEST(HelpTest, EveryCommandHasTwoExamplesThatParse) {
  Context ctx;
  CLI::App app;
  BuildCommandTree(app, ctx);
  std::vector<CLI::App*> commands = AllCommands(app);
  ASSERT_GE(commands.size(), 30u);  // the tree is the real one
  for (CLI::App* cmd : commands) {
    const std::string path = CommandPathOf(cmd);
    const auto& examples = ExamplesFor(path);
    EXPECT_GE(examples.size(), 2u)
        << "'velin " << path << "' needs two or three examples in src/cli/help.cpp";
    for (const Example& e : examples) {
      EXPECT_EQ(CheckExample(app, e.line), "") << e.line;
      EXPECT_FALSE(e.what.empty()) << e.line;
    }
  }
}

TEST(HelpTest, CheckExampleFindsWhatTheParserWouldRefuse) {
  Context ctx;
  CLI::App app;
  BuildCommandTree(app, ctx);
  EXPECT_EQ(CheckExample(app, "velin backup create --lock-wait 10m > /dev/null"), "");
  EXPECT_EQ(CheckExample(app, "velin --json backup restore latest --only 'a b' --yes"), "");
  EXPECT_NE(CheckExample(app, "velin backup creat"), "");
  EXPECT_NE(CheckExample(app, "velin backup create --lock-wait"), "");
  EXPECT_NE(CheckExample(app, "velin backup create --strategi full"), "");
  EXPECT_NE(CheckExample(app, "velin backup restore"), "");  // its ID is required
  EXPECT_NE(CheckExample(app, "velin backup"), "");          // a group needs a command
  EXPECT_NE(CheckExample(app, "velin backup list extra"), "");
  EXPECT_NE(CheckExample(app, "velin config check 'unclosed"), "");
}

TEST(HelpTest, EveryValueIsNamed) {
  Context ctx;
  CLI::App app;
  BuildCommandTree(app, ctx);
  int values = 0;
  for (CLI::App* cmd : AllCommands(app)) {
    for (const CLI::Option* opt : cmd->get_options()) {
      if (!TakesValue(opt) || opt->get_group().empty()) continue;
      ++values;
      const std::string name = ValueName(opt);
      for (const char* generic : {"", "TEXT", "INT", "UINT", "FLOAT", "NUMBER", "VALUE"}) {
        EXPECT_NE(name, generic) << "velin " << CommandPathOf(cmd) << " " << opt->get_name();
      }
    }
  }
  EXPECT_GE(values, 20);
}

TEST(HelpTest, NearestSuggestsTyposAndPrefixes) {
  std::vector<std::string> commands = {"init", "create", "list", "restore", "verify"};
  EXPECT_EQ(Nearest("creat", commands), "create");
  EXPECT_EQ(Nearest("lsit", commands), "list");  // a transposition
  EXPECT_EQ(Nearest("veryfy", commands), "verify");
  EXPECT_EQ(Nearest("res", commands), "restore");  // the start of a name
  EXPECT_EQ(Nearest("frobnicate", commands), "");
  EXPECT_EQ(Nearest("x", commands), "");
  EXPECT_EQ(Nearest("--strategi", {"--strategy", "--destination", "-y"}), "--strategy");
  EXPECT_EQ(Nearest("--", {"--json"}), "");
}

// The German catalogue has every text of every help page: descriptions of commands and flags,
// section titles, what the examples do. The catalogue's own miss report says which it lacks.
TEST(HelpTest, EveryHelpTextHasAGermanEntry) {
  testing::TempDir dir;
  const std::string report = dir / "misses.txt";
  ::setenv("LANG", "de_DE.UTF-8", 1);
  ::unsetenv("LC_ALL");
  ::unsetenv("LC_MESSAGES");
  ::setenv("VELIN_I18N_REPORT_MISSES", report.c_str(), 1);
  InitLanguageFromEnvironment();
  std::string pages;
  {
    Context ctx;
    CLI::App app;
    BuildCommandTree(app, ctx);  // translates every description
    for (CLI::App* cmd : AllCommands(app)) pages += cmd->help();
    pages += ManPage(app);
  }
  ::unsetenv("VELIN_I18N_REPORT_MISSES");
  ::unsetenv("LANG");
  InitLanguageFromEnvironment();
  std::string misses;
  if (std::filesystem::exists(report)) misses = testing::ReadFileOrDie(report);
  EXPECT_EQ(misses, "") << "help texts without a German entry (src/core/i18n_help_german.cpp)";
  // The pages are German indeed.
  EXPECT_NE(pages.find("Beispiele:"), std::string::npos);
  EXPECT_NE(pages.find("Globale Optionen:"), std::string::npos);
}

}  // namespace
}  // namespace velin::cli
