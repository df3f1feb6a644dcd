// verify --restore-test's table (status, table, recorded, restored): every column as wide as its
// widest cell, so "differs" / "abweichend", a table name over 40 characters and the German
// "wiederhergestellt" do not push the row's other cells out of line with the header. A row
// count that differs is made by editing the recorded count in the (unencrypted) snapshot.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <sstream>

#include "support/backup_fixture.hpp"
#include "support/pty_run.hpp"
#include "velin/repo/blob_id.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kLongTable = "order_line_items_with_a_name_longer_than_forty_characters";

// A column on the screen: one per UTF-8 code point.
size_t Columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// A cell of a row: its text, and its first and one-past-last screen column.
struct Cell {
  std::string text;
  size_t begin, end;
};

std::vector<Cell> Cells(const std::string& line) {
  std::vector<Cell> cells;
  size_t at = 0;
  while (at < line.size()) {
    if (line[at] == ' ') {
      ++at;
      continue;
    }
    size_t stop = line.find(' ', at);
    if (stop == std::string::npos) stop = line.size();
    const size_t begin = Columns(line.substr(0, at));
    cells.push_back(
        {line.substr(at, stop - at), begin, begin + Columns(line.substr(at, stop - at))});
    at = stop;
  }
  return cells;
}

// The header (the line holding `table_word`) and the rows after it, up to the next line that is
// not a row (a row has 4 cells).
std::vector<std::string> TableLines(const std::string& out, const std::string& table_word) {
  std::istringstream in(out);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (lines.empty()) {
      std::vector<Cell> c = Cells(line);
      if (c.size() == 3 && c[0].text == table_word) lines.push_back(line);
    } else if (Cells(line).size() == 4) {
      lines.push_back(line);
    } else {
      break;
    }
  }
  return lines;
}

// Header cells: table, recorded, restored; row cells: status, table, recorded, restored. The
// table names start under the header's word; the counts end under theirs.
void ExpectAligned(const std::vector<std::string>& lines, size_t rows) {
  ASSERT_EQ(lines.size(), rows + 1);
  std::vector<Cell> header = Cells(lines[0]);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<Cell> row = Cells(lines[i]);
    ASSERT_EQ(row.size(), 4u) << lines[i];
    EXPECT_EQ(row[1].begin, header[0].begin) << lines[0] << "\n" << lines[i];
    EXPECT_EQ(row[2].end, header[1].end) << lines[0] << "\n" << lines[i];
    EXPECT_EQ(row[3].end, header[2].end) << lines[0] << "\n" << lines[i];
    EXPECT_LT(row[0].end, row[1].begin) << lines[i];
  }
}

class RestoreTestTable : public ::testing::Test {
 protected:
  RestoreTestTable()
      : app_({"db"},
             "encryption = \"none\"\n[database]\ndriver = \"sqlite\"\npath = \"app.db\"\n") {
    RunProgram({"sqlite3", app_.root() + "/app.db",
                std::string("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a'), ('b');") +
                    "CREATE TABLE " + kLongTable + " (v TEXT); INSERT INTO " + kLongTable +
                    " VALUES ('x');"});
    RunResult r = app_.Run({"backup", "create"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  // The only snapshot's recorded row count of table t becomes 7 (the restore gives 2), as a dump
  // whose count and content disagree would record it.
  void RecordWrongCount() {
    std::vector<fs::path> snapshots;
    for (const auto& e : fs::directory_iterator(app_.repo() + "/snapshots")) {
      snapshots.push_back(e.path());
    }
    ASSERT_EQ(snapshots.size(), 1u);
    auto j = nlohmann::json::parse(ReadFileOrDie(snapshots[0]), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "snapshot objects of an unencrypted repository are JSON";
    bool changed = false;
    std::function<void(nlohmann::json&)> walk = [&](nlohmann::json& node) {
      if (node.is_object() && node.contains("name") && node["name"] == "t" &&
          node.contains("rows")) {
        node["rows"] = 7;
        changed = true;
      }
      if (node.is_structured()) {
        for (auto& child : node) walk(child);
      }
    };
    walk(j["snapshot"]);
    ASSERT_TRUE(changed) << j.dump();
    // The object's checksum over the edited body (repository-format.md): it reads as recorded.
    j["sha256"] = repo::Sha256(j["snapshot"].dump()).Hex();
    fs::permissions(snapshots[0], fs::perms::owner_write, fs::perm_options::add);
    WriteFile(snapshots[0], j.dump());
  }

  BackupApp app_;
};

TEST_F(RestoreTestTable, ColumnsStayAlignedWhenARowDiffers) {
  RecordWrongCount();
  RunResult r = app_.Run({"backup", "verify", "latest", "--restore-test"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  std::vector<std::string> lines = TableLines(r.out, "table");
  ExpectAligned(lines, 2);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  // Rows in the recorded order; words, not symbols, off a terminal.
  std::string differs, ok;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<Cell> c = Cells(lines[i]);
    (c[1].text == "t" ? differs : ok) = c[0].text + " " + c[2].text + " " + c[3].text;
  }
  EXPECT_EQ(differs, "differs 7 2") << r.out;
  EXPECT_EQ(ok, "ok 1 1") << r.out;

  // German: "abweichend", "gesichert", "wiederhergestellt" (wider than a row count).
  RunOptions de;
  de.env = {{"LANG", "de_DE.UTF-8"}};
  de.unset_env = {"LC_ALL", "LC_MESSAGES"};
  r = app_.Run({"backup", "verify", "latest", "--restore-test"}, de);
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  lines = TableLines(r.out, "Tabelle");
  ExpectAligned(lines, 2);
  EXPECT_NE(r.out.find("abweichend"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wiederhergestellt"), std::string::npos) << r.out;
}

TEST_F(RestoreTestTable, SymbolsOnATerminalAlignToo) {
  RecordWrongCount();
  RunOptions tty;
  tty.cwd = app_.path("");
  tty.env = {{"LANG", "C.UTF-8"}, {"TERM", "xterm"}, {"NO_COLOR", "1"}};
  RunResult r = RunVelinInPty({"backup", "verify", "latest", "--restore-test"}, tty);
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  std::vector<std::string> lines = TableLines(r.out, "table");
  ExpectAligned(lines, 2);
  EXPECT_NE(r.out.find("✗"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("✓"), std::string::npos) << r.out;
}

// A table named with an escape sequence and a newline: its row shows it in double quotes with C
// escapes, as `backup ls` shows such a name; nothing reaches the terminal raw.
TEST(RestoreTestTableNames, AControlCharacterInATableNameIsEscaped) {
  BackupApp app({"db"},
                "encryption = \"none\"\n[database]\ndriver = \"sqlite\"\npath = \"app.db\"\n");
  const std::string name = "red\x1b[31mtable\nsecond";
  RunResult r = RunProgram({"sqlite3", app.root() + "/app.db",
                            "CREATE TABLE \"" + name + "\" (v TEXT); INSERT INTO \"" + name +
                                "\" VALUES ('a'); CREATE TABLE t (v TEXT);"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = app.Run({"backup", "create"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = app.Run({"backup", "verify", "latest", "--restore-test"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"red\\x1b[31mtable\\nsecond\""), std::string::npos) << r.out;
  std::vector<std::string> lines = TableLines(r.out, "table");
  ExpectAligned(lines, 2);
}

}  // namespace
}  // namespace velin::testing
