// Every velin command line the project ships runs through the real binary: the ExecStart= of
// contrib/ units, the velin lines of contrib/ scripts, and every velin line in the code blocks
// of docs/*.md and README.md. Lines are found by rule, not listed: a new doc line is tested the
// day it is written. Each is rewritten to a scratch application (its config in a temp dir, a
// local repository holding one backup, two rollback versions, an SQLite database) and run; none
// may fail as a usage error (exit 2), and a command list ("begin | commit | rollback") must
// name commands that exist. The unit files also pass `systemd-analyze verify` where that tool
// works.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "support/rollback_app.hpp"
#include "support/test_support.hpp"
#include "velin/core/time_text.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

struct Word {
  std::string text;
  bool quoted = false;  // held quotes: an operator or bracket inside is text
};

// Shell-like words: quotes group and are removed, a backslash escapes one character.
std::vector<Word> SplitWords(const std::string& line) {
  std::vector<Word> words;
  Word cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        cur.text += c;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      cur.quoted = true;
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      cur.text += line[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(cur);
      cur = Word();
      in_word = false;
    } else {
      cur.text += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(cur);
  return words;
}

// One line of shipped text that may hold a velin command.
struct Source {
  std::string where;  // file:line
  std::string text;
  int block = 0;  // lines of one code block or script share shell variables
};

std::vector<Source> ShippedLines() {
  const std::string top = SourceDir();
  std::vector<Source> lines;
  int block = 0;
  auto read = [](const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  };
  std::vector<fs::path> contrib;
  for (const auto& e : fs::recursive_directory_iterator(top + "/contrib")) {
    if (e.is_regular_file()) contrib.push_back(e.path());
  }
  std::sort(contrib.begin(), contrib.end());
  for (const auto& p : contrib) {
    auto text = read(p);
    ++block;
    const bool script = !text.empty() && text[0].rfind("#!", 0) == 0;
    for (size_t i = 0; i < text.size(); ++i) {
      const std::string& l = text[i];
      if (script || l.rfind("ExecStart", 0) == 0) {
        lines.push_back({fs::relative(p, top).string() + ":" + std::to_string(i + 1), l, block});
      }
    }
  }
  std::vector<fs::path> docs;
  for (const auto& e : fs::directory_iterator(top + "/docs")) {
    if (e.path().extension() == ".md") docs.push_back(e.path());
  }
  std::sort(docs.begin(), docs.end());
  docs.push_back(top + "/README.md");
  for (const auto& p : docs) {
    auto text = read(p);
    bool in_block = false;
    for (size_t i = 0; i < text.size(); ++i) {
      std::string trimmed =
          text[i].substr(std::min(text[i].find_first_not_of(' '), text[i].size()));
      if (trimmed.rfind("```", 0) == 0) {
        in_block = !in_block;
        ++block;
        continue;
      }
      if (in_block) {
        lines.push_back(
            {fs::relative(p, top).string() + ":" + std::to_string(i + 1), text[i], block});
      }
    }
  }
  return lines;
}

// The words of the velin command in `line` (without the binary), or nothing. A command starts
// at `velin` or a path ending in /velin (also after ExecStart=, a `$ ` prompt, a cron
// schedule, `if`/`then`/`&&`...) or at `$NAME` where NAME was set to a velin command; it ends
// at a shell operator, a redirection or a comment.
std::optional<std::vector<Word>> VelinCommand(const Source& line,
                                              std::map<std::string, std::vector<Word>>& aliases) {
  std::vector<Word> words = SplitWords(line.text);
  if (words.empty()) return std::nullopt;
  if (!words[0].quoted && words[0].text.rfind("ExecStart=", 0) == 0) {
    words[0].text = words[0].text.substr(10);
    while (!words[0].text.empty() &&
           std::string("-@:+!").find(words[0].text[0]) != std::string::npos) {
      words[0].text.erase(0, 1);
    }
  }
  auto is_binary = [](const Word& w) {
    return !w.quoted && (w.text == "velin" || (w.text.size() > 6 && w.text[0] == '/' &&
                                               w.text.substr(w.text.size() - 6) == "/velin"));
  };
  // NAME="velin …": later $NAME runs it.
  std::smatch m;
  static const std::regex kAssign("^([A-Za-z_][A-Za-z0-9_]*)=(.*)$");
  if (words.size() == 1 && std::regex_match(words[0].text, m, kAssign)) {
    auto inner = SplitWords(m[2]);
    if (!inner.empty() && is_binary(inner[0])) {
      aliases[m[1]] = std::vector<Word>(inner.begin() + 1, inner.end());
    }
    return std::nullopt;
  }
  static const std::set<std::string> kBefore = {"$", "if", "then", "else", "do",
                                                "!", "&&", "||",   "exec", "time"};
  std::vector<Word> cmd;
  size_t i = 0;
  for (; i < words.size(); ++i) {
    const Word& w = words[i];
    bool position = i == 0 || (!words[i - 1].quoted && kBefore.count(words[i - 1].text)) ||
                    (w.text.size() > 1 && w.text[0] == '/');
    if (!position) continue;
    if (is_binary(w)) break;
    if (!w.quoted && w.text.size() > 1 && w.text[0] == '$' && aliases.count(w.text.substr(1))) {
      cmd = aliases[w.text.substr(1)];
      break;
    }
  }
  if (i == words.size()) return std::nullopt;
  for (++i; i < words.size(); ++i) {
    const Word& w = words[i];
    if (!w.quoted && (w.text == "||" || w.text == "&&" || w.text == ";" || w.text[0] == '#' ||
                      w.text[0] == '>' || w.text.rfind("2>", 0) == 0 ||
                      w.text.rfind("1>", 0) == 0 || w.text == "<")) {
      break;
    }
    if (!w.quoted && w.text.back() == ';') {
      Word last = w;
      last.text.pop_back();
      if (!last.text.empty()) cmd.push_back(last);
      break;
    }
    cmd.push_back(w);
  }
  return cmd;
}

// A synopsis with a list of commands ("velin rollback begin | commit | rollback"): one command
// per alternative. Empty when `cmd` has no list (a lone `|` then is a pipe: cut there).
std::vector<std::vector<Word>> CommandList(std::vector<Word>& cmd) {
  auto bar = std::find_if(cmd.begin(), cmd.end(),
                          [](const Word& w) { return !w.quoted && w.text == "|"; });
  if (bar == cmd.end()) return {};
  // A list when every part after the first bar is one word (a trailing "…" allowed).
  std::vector<std::string> alternatives = {std::prev(bar)->text};
  bool list = bar != cmd.begin();
  for (auto it = bar; it != cmd.end() && list;) {
    if (it->text != "|" || it + 1 == cmd.end()) {
      list = false;
      break;
    }
    alternatives.push_back((it + 1)->text);
    it += 2;
    if (it != cmd.end() && it->text == "…") ++it;
  }
  if (!list) {
    cmd.erase(bar, cmd.end());
    return {};
  }
  std::vector<std::vector<Word>> out;
  std::vector<Word> head(cmd.begin(), std::prev(bar));
  for (const auto& a : alternatives) {
    auto one = head;
    one.push_back({a, false});
    out.push_back(one);
  }
  return out;
}

// The scratch application every line runs against.
class Scratch {
 public:
  Scratch()
      : app_(ToyAppOptions{.with_service = false,
                           .health_as_url = false,
                           .extra_rollback = "\n[backup]\ninclude = [\"db\", \"storage\"]\n"
                                             "destination = \"repo\"\n"
                                             "[database]\ndriver = \"sqlite\"\n"
                                             "path = \"var/app.db\"\n"
                                             // --fleet lines: a host that cannot exist
                                             // (exit 1, fast), not a usage error
                                             "[fleet]\nhosts = [\"fleet-host.invalid\"]\n"
                                             "connect_timeout = \"1s\"\n"}) {
    WriteFile(app_.app() + "/storage/uploads/logo.png", "png");
    WriteFile(app_.app() + "/storage/notes.txt", "notes\n");
    fs::create_directories(app_.app() + "/var");
    RunProgram({"sqlite3", app_.app() + "/var/app.db",
                "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');"});
    app_.Build("v0-base");
    Expect(app_.Velin({"rollback", "create-version", "v0-base - scratch base"}));
    app_.Build("v0-next");
    Expect(app_.Velin({"rollback", "create-version", "v0-next - scratch next"}));
    Expect(app_.Velin({"rollback", "to-version", "v0-base"}));  // a live version to leave
    Expect(app_.Velin({"backup", "create"}));
    RunResult list = app_.Velin({"backup", "list", "--json"});
    auto j = nlohmann::json::parse(list.out, nullptr, false);
    if (!j.is_discarded() && !j["backups"].empty()) backup_id_ = j["backups"].back()["id"];
    // Whose backups the scratch made: docs name hosts and apps of their example fleet.
    if (!j.is_discarded() && j["host"].is_string()) host_ = j["host"];
    if (!j.is_discarded() && j["app"].is_string()) app_name_ = j["app"];
  }

  // The words with placeholders and paths replaced; "" when fine, else why not.
  std::string Rewrite(std::vector<Word>& cmd, const std::string& where) {
    static const std::regex kPlaceholder("^[A-Z][A-Z0-9_]+$");
    static const std::regex kUrl("^(s3|sftp|ftp|https?)://.*");
    static const std::regex kVar("\\$(\\{[^}]*\\}|[A-Za-z_][A-Za-z0-9_]*)");
    for (const Word& w : cmd) {
      if (!w.quoted && w.text.size() > 2 && w.text[0] == '<' && w.text.back() == '>') {
        return "template";  // a grammar line: "velin [GLOBAL FLAGS] <group> <command>"
      }
    }
    std::vector<Word> out;
    for (size_t i = 0; i < cmd.size(); ++i) {
      Word w = cmd[i];
      if (!w.quoted) {  // synopsis: [optional] parts are kept, a|b is a, "…" goes
        w.text.erase(std::remove(w.text.begin(), w.text.end(), '['), w.text.end());
        w.text.erase(std::remove(w.text.begin(), w.text.end(), ']'), w.text.end());
        if (w.text == "…" || w.text.empty()) continue;
        if (w.text.find('|') != std::string::npos) w.text = w.text.substr(0, w.text.find('|'));
      }
      w.text = std::regex_replace(w.text, kVar, "x");
      const std::string prev = out.empty() ? "" : out.back().text;
      if (prev == "--config") {
        w.text = app_.config();
      } else if (prev == "--host") {
        w.text = host_;
      } else if (prev == "--app") {
        w.text = app_name_;
      } else if (std::regex_match(w.text, kUrl)) {
        w.text = Fresh("url");
      } else if (!w.quoted && std::regex_match(w.text, kPlaceholder)) {
        if (w.text == "ID") {
          w.text = backup_id_;
        } else if (w.text == "DIR" || w.text == "URL") {
          w.text = Fresh("dir");
        } else if (w.text == "PATH") {
          w.text = "storage/uploads";
        } else if (w.text == "DURATION") {
          w.text = "1m";
        } else if (w.text == "NAME") {
          w.text = "v0-base";
        } else {
          return where + ": no rewrite rule for the placeholder " + w.text +
                 " (add one to shipped_commands_test.cpp)";
        }
      } else if (w.text.size() > 1 && w.text[0] == '/') {
        w.text = app_.root() + "/abs" + w.text;  // an absolute path of the example server
      } else if (prev == "create-version" || prev == "create-snapshot") {
        // A new name per line: docs may create the same example version twice.
        std::string name = w.text.substr(0, w.text.find(' '));
        std::string fresh = name + "-l" + std::to_string(++count_);
        created_[name] = fresh;
        w.text = fresh + w.text.substr(name.size());
      } else if (prev == "to-version") {
        // The version an earlier line created under this name, else a scratch version that
        // is not live (switching to the live one is refused).
        auto it = created_.find(w.text);
        w.text =
            it != created_.end() ? it->second : (last_switch_ == "v0-base" ? "v0-next" : "v0-base");
        last_switch_ = w.text;
      }
      out.push_back(w);
    }
    cmd = out;
    return "";
  }

  RunResult Run(const std::vector<Word>& cmd) {
    std::vector<std::string> args;
    for (const auto& w : cmd) args.push_back(w.text);
    RunOptions options;
    options.cwd = app_.root();  // lines without --config find velin.toml here
    options.timeout_seconds = 60;
    return RunVelin(args, options);
  }

  ToyApp& app() { return app_; }

 private:
  static void Expect(const RunResult& r) { ASSERT_EQ(r.exit_code, 0) << r.out << r.err; }
  std::string Fresh(const std::string& kind) {
    std::string p = app_.root() + "/scratch-" + kind + "-" + std::to_string(++count_);
    return p;
  }

  ToyApp app_;
  std::string backup_id_;
  std::string host_;
  std::string app_name_;
  std::map<std::string, std::string> created_;
  std::string last_switch_ = "v0-base";
  int count_ = 0;
};

TEST(ShippedCommandsTest, EveryShippedVelinLineParsesAndRuns) {
  Scratch scratch;
  std::map<int, std::map<std::string, std::vector<Word>>> aliases;  // per block
  int ran = 0, ok = 0, lists = 0, templates = 0, unattended = 0;
  std::set<std::string> seen_files;
  std::ostringstream table;
  for (const Source& line : ShippedLines()) {
    auto cmd = VelinCommand(line, aliases[line.block]);
    if (!cmd) continue;
    seen_files.insert(line.where.substr(0, line.where.find(':')));
    std::vector<std::vector<Word>> list = CommandList(*cmd);
    if (!list.empty()) {
      // A list of commands claims they exist: each answers --help.
      for (auto& one : list) {
        ASSERT_EQ(scratch.Rewrite(one, line.where), "") << line.text;
        one.push_back({"--help", false});
        RunResult r = scratch.Run(one);
        EXPECT_EQ(r.exit_code, 0) << line.where << ": " << line.text << "\n" << r.err;
        ++lists;
      }
      continue;
    }
    std::string why = scratch.Rewrite(*cmd, line.where);
    if (why == "template") {
      ++templates;
      continue;
    }
    ASSERT_EQ(why, "");
    RunResult r = scratch.Run(*cmd);
    ++ran;
    if (r.exit_code == 0) ++ok;
    std::string shown;
    for (const auto& w : *cmd) shown += " " + w.text;
    table << "  exit " << r.exit_code << "  " << line.where << ":" << shown << "\n";
    EXPECT_NE(r.exit_code, 2) << line.where << ": " << line.text << "\nran:" << shown << "\n"
                              << r.err;
    // What runs unattended (a unit's ExecStart=, a cron line) must succeed: nobody watches it.
    static const std::regex kCron(R"(^\s*(@[a-z]+|[0-9*/,-]+(\s+[0-9*/,-]+){4})\s)");
    if (line.text.rfind("ExecStart", 0) == 0 || std::regex_search(line.text, kCron)) {
      ++unattended;
      EXPECT_EQ(r.exit_code, 0) << line.where << " runs unattended: " << line.text << "\n" << r.err;
    }
  }
  // The rule found the lines this issue was about, and more.
  EXPECT_TRUE(seen_files.count("contrib/systemd/velin-backup.service")) << table.str();
  EXPECT_TRUE(seen_files.count("contrib/systemd/velin-verify.service")) << table.str();
  EXPECT_TRUE(seen_files.count("docs/operations.md")) << table.str();
  EXPECT_TRUE(seen_files.count("README.md")) << table.str();
  EXPECT_GE(unattended, 6) << table.str();  // 3 units, 3 cron lines at least
  std::cout << "shipped velin lines: " << ran << " run (" << ok << " exit 0, " << unattended
            << " unattended), " << lists << " listed commands checked with --help, " << templates
            << " grammar templates\n"
            << table.str();
}

// Every unit file of contrib/ passes systemd-analyze verify, with its ExecStart pointing at the
// built binary and the scratch config (the tool checks the binary exists).
TEST(ShippedCommandsTest, SystemdUnitsVerify) {
  if (RunProgram({"sh", "-c", "command -v systemd-analyze"}).exit_code != 0) {
    GTEST_SKIP() << "systemd-analyze is not installed";
  }
  TempDir dir;
  // The tool may not work here (no systemd as PID 1 in a container): check a trivial unit.
  WriteFile(dir / "velin-probe.service", "[Service]\nType=oneshot\nExecStart=/bin/true\n");
  RunResult probe =
      RunProgram({"systemd-analyze", "verify", "--man=no", dir / "velin-probe.service"});
  if (probe.exit_code != 0) {
    GTEST_SKIP() << "systemd-analyze verify does not work here: " << probe.err;
  }
  std::vector<std::string> units;
  for (const auto& e : fs::directory_iterator(SourceDir() + "/contrib/systemd")) {
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    text = std::regex_replace(text, std::regex("/usr/local/bin/velin"), VelinBinary());
    // The commented EnvironmentFile= line as a user turns it on: valid as it stands.
    text = std::regex_replace(text, std::regex("\n# (EnvironmentFile=)"), "\n$1");
    WriteFile(dir / e.path().filename().string(), text);
    units.push_back(dir / e.path().filename().string());
  }
  std::sort(units.begin(), units.end());
  ASSERT_GE(units.size(), 4u);
  std::vector<std::string> argv = {"systemd-analyze", "verify", "--man=no"};
  argv.insert(argv.end(), units.begin(), units.end());
  RunResult r = RunProgram(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "") << r.err;
}

// Each service names, commented out, the EnvironmentFile= that docs/operations.md points to for
// the password_env variables (cron and systemd pass none of the shell's): a user who exported
// them by hand found no place for them in the unit. The line holds the path alone: systemd has
// no comments after a value, and would read "# …" as part of the file's name.
TEST(ShippedCommandsTest, ServicesShowWhereTheSecretsVariablesGo) {
  int services = 0;
  for (const auto& e : fs::directory_iterator(SourceDir() + "/contrib/systemd")) {
    if (e.path().extension() != ".service") continue;
    ++services;
    const std::string text = ReadFileOrDie(e.path());
    EXPECT_NE(text.find("\n# EnvironmentFile=/etc/velin/shop.env\n"), std::string::npos)
        << e.path();
    // Inside [Service], before ExecStart= (where a user reads what the service runs).
    const size_t line = text.find("EnvironmentFile=");
    EXPECT_LT(text.find("[Service]"), line) << e.path();
    EXPECT_LT(line, text.find("\nExecStart=")) << e.path();
  }
  EXPECT_EQ(services, 3);
  EXPECT_NE(ReadFileOrDie(SourceDir() + "/docs/operations.md").find("EnvironmentFile="),
            std::string::npos);
}

// Sets TZ for one test and puts the one before (or its absence) back.
class ShippedTimerZone {
 public:
  ShippedTimerZone() {
    if (const char* old = std::getenv("TZ")) old_ = old;
  }
  ~ShippedTimerZone() {
    if (old_) {
      ::setenv("TZ", old_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  void Use(const std::string& zone) {
    ::setenv("TZ", zone.c_str(), 1);
    ::tzset();
  }

 private:
  std::optional<std::string> old_;
};

// How many instants have the local wall-clock time `wall` (seconds as if local time were UTC):
// 0 in a DST gap, 2 in the repeated hour, else 1.
int ShippedTimerInstantsOf(int64_t wall) {
  std::set<int64_t> found;
  for (int64_t probe : {wall - 86400, wall, wall + 86400}) {
    std::time_t at = static_cast<std::time_t>(probe);
    std::tm tm{};
    ::localtime_r(&at, &tm);
    const std::time_t t = static_cast<std::time_t>(wall - tm.tm_gmtoff);
    std::tm back{};
    ::localtime_r(&t, &back);
    if (back.tm_gmtoff == tm.tm_gmtoff) found.insert(static_cast<int64_t>(t));
  }
  return static_cast<int>(found.size());
}

// The shipped schedules start outside every DST gap and repeated hour of the zones below, their
// random delay included. systemd never fires a calendar time that does not exist (not even with
// Persistent=true): the backup timer's 02:15 was skipped on each spring-forward day in Europe,
// the US and Lord Howe Island, a 47-hour gap that `backup status` (max_age 26h) reports as a
// failure. In the repeated hour a time exists twice. The cron lines of docs/operations.md are
// held to the same rule.
TEST(ShippedCommandsTest, SchedulesAvoidDstGapsAndRepeatedHours) {
  struct Schedule {
    std::string where;
    int hour, minute, delay_minutes;
  };
  std::vector<Schedule> schedules;
  const std::regex on_calendar(R"(OnCalendar=\S+ (\d\d):(\d\d):00)");
  const std::regex delay(R"(RandomizedDelaySec=(\d+)min)");
  for (const auto& e : fs::directory_iterator(SourceDir() + "/contrib/systemd")) {
    if (e.path().extension() != ".timer") continue;
    const std::string text = ReadFileOrDie(e.path());
    std::smatch at, spread;
    ASSERT_TRUE(std::regex_search(text, at, on_calendar)) << e.path();
    const int delay_minutes =
        std::regex_search(text, spread, delay) ? std::stoi(spread[1].str()) : 0;
    schedules.push_back({e.path().filename().string(), std::stoi(at[1].str()),
                         std::stoi(at[2].str()), delay_minutes});
  }
  ASSERT_EQ(schedules.size(), 2u);
  const std::string docs = ReadFileOrDie(SourceDir() + "/docs/operations.md");
  const std::regex cron_line(R"((^|\n)(\d+) (\d+) [^\n]*velin[^\n]*)");
  for (auto it = std::sregex_iterator(docs.begin(), docs.end(), cron_line);
       it != std::sregex_iterator(); ++it) {
    schedules.push_back({"docs/operations.md: " + (*it)[0].str(), std::stoi((*it)[3].str()),
                         std::stoi((*it)[2].str()), 0});
  }
  ASSERT_EQ(schedules.size(), 4u);
  ShippedTimerZone zone;
  // Gaps and repeated hours at 00:00 (Santiago, Havana, Cairo), 01:00 (London, Troll), 02:00
  // (Berlin, New York, Sydney, Auckland, Chisinau, Lord Howe's half hour), 02:45 (Chatham) and
  // 03:00 (Helsinki, Athens).
  for (const char* name :
       {"Europe/London", "Europe/Berlin", "Europe/Helsinki", "Europe/Athens", "Europe/Chisinau",
        "America/New_York", "America/Chicago", "America/Los_Angeles", "America/Santiago",
        "America/Havana", "Africa/Cairo", "Asia/Jerusalem", "Australia/Sydney",
        "Australia/Lord_Howe", "Pacific/Auckland", "Pacific/Chatham", "Antarctica/Troll"}) {
    zone.Use(name);
    for (const Schedule& s : schedules) {
      // Every day of 2026 and 2027, every minute from the start to the end of its delay.
      std::tm day{};
      day.tm_year = 2026 - 1900;
      day.tm_mday = 1;
      day.tm_hour = s.hour;
      day.tm_min = s.minute;
      const int64_t first = static_cast<int64_t>(::timegm(&day));
      int wrong = 0;
      std::string first_wrong;
      for (int d = 0; d < 730; ++d) {
        for (int m = 0; m <= s.delay_minutes; ++m) {
          const int64_t wall = first + d * int64_t{86400} + m * int64_t{60};
          if (ShippedTimerInstantsOf(wall) != 1 && wrong++ == 0) {
            first_wrong = FormatUtcTime(wall);  // the wall-clock time, counted as if UTC
            first_wrong = first_wrong.substr(0, 10) + " " + first_wrong.substr(11, 8);
          }
        }
      }
      EXPECT_EQ(wrong, 0) << s.where << " in " << name << ": first at local " << first_wrong;
    }
  }
}

}  // namespace
}  // namespace velin::testing
