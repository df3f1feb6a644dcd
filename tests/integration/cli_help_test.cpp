// Issue 21 items 8-10 through the real binary: help pages with examples, global flags and named
// values (in German too), usage errors that suggest the nearest word, shell completion that
// completes, the man page, and install + uninstall as README.md says.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_support.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

RunOptions German(const std::string& report = "") {
  RunOptions o;
  o.env = {{"LANG", "de_DE.UTF-8"}};
  if (!report.empty()) o.env["VELIN_I18N_REPORT_MISSES"] = report;
  o.unset_env = {"LC_ALL", "LC_MESSAGES"};
  return o;
}

RunOptions English() {
  RunOptions o;
  o.env = {{"LANG", "C"}};
  o.unset_env = {"LC_ALL", "LC_MESSAGES"};
  return o;
}

bool Have(const std::string& program) {
  return RunProgram({"sh", "-c", "command -v " + program}).exit_code == 0;
}

// The build directory: the one above the binary that holds CMakeCache.txt.
std::string BuildDir() {
  for (fs::path p = fs::path(VelinBinary()).parent_path(); !p.empty() && p != p.root_path();
       p = p.parent_path()) {
    if (fs::exists(p / "CMakeCache.txt")) return p.string();
  }
  return "";
}

TEST(CliHelpTest, SubcommandHelpHasExamplesGlobalFlagsAndNamedValues) {
  RunResult r = RunVelin({"backup", "create", "--help"}, English());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Usage: velin backup create [OPTIONS]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--lock-wait DURATION"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--destination DIR|URL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Global flags:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--config FILE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-q, --quiet"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Examples:\n  # "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n  velin backup create --strategy full --lock-wait 10m\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("TEXT"), std::string::npos) << r.out;
  // A positional is its value name; a group's own flags show in its commands' help.
  r = RunVelin({"backup", "restore", "--help"}, English());
  EXPECT_NE(r.out.find("Usage: velin backup restore [OPTIONS] ID"), std::string::npos) << r.out;
  r = RunVelin({"rollback", "begin", "--help"}, English());
  EXPECT_NE(r.out.find("Flags of 'velin rollback':\n  --fleet"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--timeout DURATION"), std::string::npos) << r.out;
  // A second begin is refused (exit 3, naming `extend`): begin extends nothing.
  EXPECT_NE(r.out.find("Open a deploy transaction (none may be open; 'extend' gives an open one "
                       "more time)"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("or extend the open one"), std::string::npos) << r.out;
}

TEST(CliHelpTest, GermanHelpMissesNothing) {
  TempDir dir;
  const std::string report = dir / "misses.txt";
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--help"},
                                             {"backup", "--help"},
                                             {"backup", "restore", "--help"},
                                             {"rollback", "to-version", "--help"},
                                             {"backup", "creat"},
                                             {"backup", "create", "--strategi", "full"},
                                             {"rollback", "begin", "--timeout"},
                                             {"rollback", "begin", "--help"},
                                             {"backup", "create", "--lock-wait", "5x"},
                                             {"backup", "create", "--strategy", "fast"},
                                             {"backup", "restore"},
                                             {"--dry-run", "backup", "forget"}}) {
    RunResult r = RunVelin(args, German(report));
    if (args.back() == "--help") {
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_NE(r.out.find("Aufruf: velin"), std::string::npos) << r.out;
      EXPECT_NE(r.out.find("Beispiele:"), std::string::npos) << r.out;
    } else {
      EXPECT_EQ(r.exit_code, 2);
      EXPECT_EQ(r.err.rfind("Fehler: ", 0), 0u) << r.err;
    }
  }
  RunResult r = RunVelin({"backup", "create", "--help"}, German(report));
  EXPECT_NE(r.out.find("Globale Optionen:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Die konfigurierten Pfade (und Datenbanken) sichern"), std::string::npos);
  r = RunVelin({"backup", "creat"}, German(report));
  EXPECT_EQ(r.err, "Fehler: unbekannter Befehl 'velin backup creat' (meinten Sie 'create'?)\n");
  std::string misses = fs::exists(report) ? ReadFileOrDie(report) : "";
  EXPECT_EQ(misses, "");
}

TEST(CliHelpTest, MistypedWordsAreNamedWithTheNearestValidOne) {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const std::vector<Case> cases = {
      {{"backup", "creat"},
       "error: unknown command 'velin backup creat' (did you mean 'create'?)\n"},
      {{"rollback", "to-versoin", "v1"},
       "error: unknown command 'velin rollback to-versoin' (did you mean 'to-version'?)\n"},
      {{"bakup", "list"}, "error: unknown command 'velin bakup' (did you mean 'backup'?)\n"},
      {{"backup", "create", "--strategi", "full"},
       "error: unknown flag '--strategi' for 'velin backup create' (did you mean "
       "'--strategy'?)\n"},
      {{"backup", "list", "--jsno"},
       "error: unknown flag '--jsno' for 'velin backup list' (did you mean '--json'?)\n"},
      {{"backup", "list", "--frobnicate"},
       "error: unknown flag '--frobnicate' for 'velin backup list' (see 'velin backup list "
       "--help')\n"},
      // A command's own flag before the command: its place is what is wrong, not its name.
      {{"--dry-run", "backup", "forget"},
       "error: '--dry-run' is a flag of 'velin backup forget': put it after 'forget'\n"},
      {{"backup", "--dry-run", "forget"},
       "error: '--dry-run' is a flag of 'velin backup forget': put it after 'forget'\n"},
      {{"--destination", "x", "backup", "prune"},
       "error: '--destination' is a flag of 'velin backup prune': put it after 'prune'\n"},
      {{"backup", "list", "extra"},
       "error: unexpected argument 'extra' for 'velin backup list' (see 'velin backup list "
       "--help')\n"},
      {{"rollback", "begin", "--timeout"}, "error: --timeout needs a value (DURATION)\n"},
      {{"backup", "restore"},
       "error: 'velin backup restore' needs ID (see 'velin backup restore --help')\n"},
  };
  for (const Case& c : cases) {
    RunResult r = RunVelin(c.args, English());
    EXPECT_EQ(r.exit_code, 2) << c.err;
    EXPECT_EQ(r.err, c.err);
    EXPECT_EQ(r.out, "");
  }
  RunResult r = RunVelin({"backup"}, English());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("error: 'velin backup' needs a command: init, create, list", 0), 0u)
      << r.err;
  // With --json the error is the JSON document too.
  r = RunVelin({"--json", "backup", "creat"}, English());
  EXPECT_EQ(r.exit_code, 2);
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["error"]["exit_code"], 2);
  EXPECT_EQ(doc["error"]["message"],
            "unknown command 'velin backup creat' (did you mean 'create'?)");
}

TEST(CliHelpTest, VersionFlagsBothWork) {
  for (const char* flag : {"-V", "--version"}) {
    RunResult r = RunVelin({flag});
    EXPECT_EQ(r.exit_code, 0) << flag;
    EXPECT_EQ(r.out.rfind("velin ", 0), 0u) << r.out;
  }
}

TEST(CliHelpTest, BashCompletionCompletes) {
  RunResult script = RunVelin({"completion", "bash"});
  ASSERT_EQ(script.exit_code, 0) << script.err;
  TempDir dir;
  WriteFile(dir / "velin.bash", script.out);
  WriteFile(dir / "d1/x", "");
  auto complete = [&](const std::string& words, int cword) {
    RunOptions o;
    o.cwd = dir.path();
    return RunProgram({"bash", "-c",
                       "source velin.bash; COMP_WORDS=(" + words + "); COMP_CWORD=" +
                           std::to_string(cword) + "; _velin; echo \"${COMPREPLY[*]}\""},
                      o);
  };
  EXPECT_EQ(complete("velin backup cr", 2).out, "create\n");
  EXPECT_EQ(complete("velin ba", 1).out, "backup\n");
  EXPECT_EQ(complete("velin backup create --str", 3).out, "--strategy\n");
  EXPECT_EQ(complete("velin backup create --strategy ''", 4).out, "full incremental\n");
  EXPECT_EQ(complete("velin --config x.toml rollback to-version pre", 5).out, "previous\n");
  EXPECT_EQ(complete("velin completion ''", 2).out, "bash zsh fish\n");
  EXPECT_EQ(complete("velin backup restore latest --target d", 5).out, "d1\n");
  // Global flags complete after a command too; hidden commands do not show.
  EXPECT_NE(complete("velin backup list --", 3).out.find("--json"), std::string::npos);
  EXPECT_EQ(complete("velin __", 1).out, "\n");
  EXPECT_EQ(complete("velin rollback w", 2).out, "\n");
}

TEST(CliHelpTest, ZshAndFishCompletionsParseAndComplete) {
  RunResult zsh = RunVelin({"completion", "zsh"});
  RunResult fish = RunVelin({"completion", "fish"});
  ASSERT_EQ(zsh.exit_code, 0) << zsh.err;
  ASSERT_EQ(fish.exit_code, 0) << fish.err;
  EXPECT_EQ(zsh.out.rfind("#compdef velin\n", 0), 0u);
  EXPECT_NE(zsh.out.find("'velin backup' 'init create list"), std::string::npos);
  EXPECT_NE(fish.out.find("-l 'strategy' -x -a 'full incremental'"), std::string::npos);
  TempDir dir;
  WriteFile(dir / "_velin", zsh.out);
  WriteFile(dir / "velin.fish", fish.out);
  if (Have("zsh")) {
    RunResult r = RunProgram({"zsh", "-n", dir / "_velin"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    // The completion function itself, with zsh's completion builtins stood in for by ones that
    // print what they are given (zsh narrows the candidates to the typed prefix itself).
    const std::string stubs =
        "compdef() { : }; compadd() { print -r -- \"${@:#--}\" }; _files() { print FILES }; "
        "_directories() { print DIRS }; source " +
        dir / "_velin" + "; ";
    auto complete = [&](const std::string& words, int current) {
      return RunProgram(
                 {"zsh", "-c",
                  stubs + "words=(" + words + "); CURRENT=" + std::to_string(current) + "; _velin"})
          .out;
    };
    EXPECT_EQ(complete("velin backup cr", 3),
              "init create list restore verify forget prune status unlock upgrade copy key ls find "
              "diff dump stats\n");
    EXPECT_EQ(complete("velin backup create --strategy ''", 5), "full incremental\n");
    EXPECT_EQ(complete("velin --config x rollback to-version ''", 6), "previous\n");
    EXPECT_EQ(complete("velin backup restore latest --target ''", 6), "DIRS\n");
    EXPECT_EQ(complete("velin --config ''", 3), "FILES\n");
  }
  if (Have("fish")) {
    RunResult r = RunProgram({"fish", "-n", dir / "velin.fish"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // fish completes without a terminal: complete -C runs the generated rules.
    r = RunProgram(
        {"fish", "-c", "source " + dir / "velin.fish" + "; complete -C 'velin backup cr'"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("create\t", 0), 0u) << r.out;
    r = RunProgram(
        {"fish", "-c",
         "source " + dir / "velin.fish" + "; complete -C 'velin backup create --strategy '"});
    EXPECT_EQ(r.out.rfind("full\t", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("\nincremental\t"), std::string::npos) << r.out;
  }
  RunResult bad = RunVelin({"completion", "tcsh"}, English());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "error: no completion for the shell 'tcsh' (bash, zsh or fish)\n");
}

TEST(CliHelpTest, ManPageRendersWithoutWarnings) {
  const std::string build = BuildDir();
  ASSERT_NE(build, "");
  const std::string page = build + "/velin.1";
  ASSERT_TRUE(fs::exists(page)) << "the velin_docs target writes it";
  EXPECT_EQ(ReadFileOrDie(page), RunVelin({"__man"}, English()).out);  // current
  RunOptions o;
  o.env = {{"MANWIDTH", "80"}, {"LC_ALL", "C.UTF-8"}};
  RunResult r = RunProgram({"man", "--warnings", "-E", "UTF-8", "-l", page}, o);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  for (const char* text : {"velin backup create", "--lock-wait DURATION", "EXIT STATUS",
                           "velin rollback to-version previous --dry-run"}) {
    EXPECT_NE(r.out.find(text), std::string::npos) << text;
  }
}

// The codes of docs/exit-codes.md's table, each with its meaning (the second column).
std::map<int, std::string> ExitCodesOfTheDocs() {
  std::istringstream in(ReadFileOrDie(SourceDir() + "/docs/exit-codes.md"));
  std::map<int, std::string> codes;
  for (std::string l; std::getline(in, l);) {
    if (l.size() < 5 || l.rfind("| ", 0) != 0 || !std::isdigit(static_cast<unsigned char>(l[2]))) {
      continue;
    }
    const size_t meaning = l.find(" | ") + 3;
    codes[std::stoi(l.substr(2))] = l.substr(meaning, l.find(" | ", meaning) - meaning);
  }
  return codes;
}

// The man page's EXIT STATUS and README's "Exit codes:" name every code docs/exit-codes.md
// names (6 was missing from both), the man page with the same meaning.
TEST(CliHelpTest, ManPageAndReadmeListEveryExitCode) {
  const std::map<int, std::string> codes = ExitCodesOfTheDocs();
  ASSERT_GE(codes.size(), 7u);
  const std::string man = RunVelin({"__man"}, English()).out;
  const size_t section = man.find(".SH EXIT STATUS\n");
  ASSERT_NE(section, std::string::npos);
  const std::string exit_status = man.substr(section, man.find(".SH ", section + 1) - section);
  const std::string readme_all = ReadFileOrDie(SourceDir() + "/README.md");
  const size_t start = readme_all.find("\nExit codes:");
  ASSERT_NE(start, std::string::npos);
  std::string readme = readme_all.substr(start, readme_all.find("\n\n", start) - start);
  std::replace(readme.begin(), readme.end(), '\n', ' ');
  ASSERT_FALSE(readme.empty());
  for (const auto& [code, meaning] : codes) {
    EXPECT_NE(exit_status.find(".TP\n" + std::to_string(code) + "\n" + meaning), std::string::npos)
        << code << " " << meaning << "\n"
        << exit_status;
    EXPECT_NE(readme.find(" " + std::to_string(code) + " "), std::string::npos) << code << "\n"
                                                                                << readme;
  }
}

// The uninstall lines of README.md: the code block after "### Uninstall", without sudo, and
// without systemctl (no systemd here; they act on units by name, not on files).
std::vector<std::string> ReadmeUninstallLines() {
  std::istringstream in(ReadFileOrDie(SourceDir() + "/README.md"));
  std::vector<std::string> lines;
  bool section = false, block = false;
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("### Uninstall", 0) == 0) section = true;
    if (!section) continue;
    if (l.rfind("```", 0) == 0) {
      if (block) break;
      block = true;
      continue;
    }
    if (!block) continue;
    if (l.rfind("sudo ", 0) == 0) l = l.substr(5);
    if (l.rfind("systemctl ", 0) == 0) continue;
    lines.push_back(l);
  }
  return lines;
}

TEST(CliHelpTest, InstallIntoDestdirAndUninstallAsTheReadmeSays) {
  const std::string build = BuildDir();
  ASSERT_NE(build, "");
  TempDir dir;
  const std::string root = dir / "root";
  RunOptions o;
  o.env = {{"DESTDIR", root}};
  RunResult r = RunProgram({"cmake", "--install", build, "--prefix", "/usr/local"}, o);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::vector<std::string> expected = {"bin/velin",
                                             "share/man/man1/velin.1",
                                             "share/bash-completion/completions/velin",
                                             "share/zsh/site-functions/_velin",
                                             "share/fish/vendor_completions.d/velin.fish",
                                             "lib/systemd/system/velin-backup.service",
                                             "lib/systemd/system/velin-backup.timer",
                                             "lib/systemd/system/velin-verify.service",
                                             "lib/systemd/system/velin-verify.timer",
                                             "lib/systemd/system/velin-rollback-recover.service"};
  std::vector<std::string> installed;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_directory()) installed.push_back(fs::relative(e.path(), root + "/usr/local"));
  }
  std::sort(installed.begin(), installed.end());
  std::vector<std::string> want = expected;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(installed, want);
  EXPECT_NE(ReadFileOrDie(root + "/usr/local/lib/systemd/system/velin-backup.service")
                .find("ExecStart=/usr/local/bin/velin "),
            std::string::npos);
  RunResult version = RunProgram({root + "/usr/local/bin/velin", "--version"});
  EXPECT_EQ(version.exit_code, 0);

  // The README's uninstall, run in a source tree whose build/install_manifest.txt names the
  // files under the DESTDIR (cmake writes the manifest without it): what a real install's
  // manifest is to the real root. Never the real manifest: that would remove /usr/local files.
  std::vector<std::string> lines = ReadmeUninstallLines();
  ASSERT_FALSE(lines.empty()) << "README.md has no uninstall block";
  std::istringstream manifest(ReadFileOrDie(build + "/install_manifest.txt"));
  std::string rooted;
  int listed = 0;
  for (std::string l; std::getline(manifest, l);) {
    ASSERT_EQ(l.rfind("/usr/local/", 0), 0u) << l;
    rooted += root + l + "\n";
    ++listed;
  }
  EXPECT_EQ(listed, static_cast<int>(expected.size()));
  WriteFile(dir / "src/build/install_manifest.txt", rooted);
  for (const std::string& line : lines) {
    RunOptions in_src;
    in_src.cwd = dir / "src";
    RunResult step = RunProgram({"sh", "-c", line}, in_src);
    EXPECT_EQ(step.exit_code, 0) << line << "\n" << step.err;
  }
  for (const std::string& file : expected) {
    EXPECT_FALSE(fs::exists(root + "/usr/local/" + file)) << file << " survived the uninstall";
  }
}

}  // namespace
}  // namespace velin::testing
