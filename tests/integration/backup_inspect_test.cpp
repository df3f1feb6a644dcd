// velin backup ls / find / diff / dump / stats through the real binary, on a small tree and a
// SQLite database: human and --json output, names with spaces and newlines, and bad input
// (unknown ID, a path the backup does not hold, a directory to dump, a damaged pack).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"

namespace velin::testing {
namespace {

const char* kDatabase = "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n";

std::string BiggestPack(const std::string& repo) {
  std::string best;
  uintmax_t size = 0;
  for (const auto& p : std::filesystem::recursive_directory_iterator(repo + "/data")) {
    if (p.is_regular_file() && p.file_size() > size) {
      size = p.file_size();
      best = p.path();
    }
  }
  return best;
}

class BackupInspectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string s = app_.root() + "/storage";
    photo_ = RandomData(300000, 5);
    WriteFile(s + "/uploads/photo.jpg", photo_);
    WriteFile(s + "/uploads/notes.txt", "notes\n");
    WriteFile(s + "/with space/new\nline.txt", "odd name\n");
    WriteFile(s + "/keep.txt", "unchanged\n");
    std::filesystem::create_directories(app_.root() + "/var");
    db_ = app_.root() + "/var/app.db";
    ASSERT_EQ(RunProgram({"sqlite3", db_,
                          "CREATE TABLE orders (id INTEGER, total INT);"
                          "INSERT INTO orders VALUES (1, 10), (2, 20), (3, 30);"
                          "CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ann');"})
                  .exit_code,
              0);
    first_ = app_.Json({"backup", "create"})["id"];
    ASSERT_FALSE(first_.empty());
  }

  // A second backup: one file changed, one removed, one added, one chmod, a row inserted.
  void Change() {
    const std::string s = app_.root() + "/storage";
    WriteFile(s + "/uploads/notes.txt", "notes, longer now\n");
    std::filesystem::remove(s + "/with space/new\nline.txt");
    WriteFile(s + "/uploads/new.pdf", "%PDF-1.4\n");
    std::filesystem::permissions(s + "/keep.txt", std::filesystem::perms(0600));
    ASSERT_EQ(RunProgram({"sqlite3", db_, "INSERT INTO orders VALUES (4, 40);"}).exit_code, 0);
    second_ = app_.Json({"backup", "create"})["id"];
    ASSERT_FALSE(second_.empty());
  }

  BackupApp app_{{"storage", "db"}, kDatabase};
  std::string photo_;
  std::string db_;
  std::string first_;
  std::string second_;
};

TEST_F(BackupInspectTest, LsListsFilesAndTheDatabaseWithTablesAndRows) {
  RunResult top = app_.Run({"backup", "ls", "latest"});
  ASSERT_EQ(top.exit_code, 0) << top.err;
  EXPECT_EQ(top.out,
            "storage/\n"
            "db  database stream  " +
                top.out.substr(top.out.find("stream  ") + 8,
                               top.out.find(" sqlite") - top.out.find("stream  ") - 8) +
                " sqlite 'app.db' (sqlite3_backup, sqlite)\n"
                "  table orders: 3 rows\n"
                "  table users: 1 row\n");

  RunResult dir = app_.Run({"backup", "ls", first_.substr(0, 13), "storage/uploads", "--long"});
  ASSERT_EQ(dir.exit_code, 0) << dir.err;
  EXPECT_NE(dir.out.find("-rw-r--r-- "), std::string::npos) << dir.out;
  EXPECT_NE(dir.out.find("  storage/uploads/photo.jpg\n"), std::string::npos) << dir.out;
  EXPECT_NE(dir.out.find("293 KiB"), std::string::npos) << dir.out;
  EXPECT_EQ(dir.out.find("keep.txt"), std::string::npos) << dir.out;  // one level only

  // Recursive: every path; the newline in a name is escaped in a line, raw in JSON.
  RunResult all = app_.Run({"backup", "ls", "latest", "-R"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find("\"storage/with space/new\\nline.txt\"\n"), std::string::npos) << all.out;
  nlohmann::json j = app_.Json({"backup", "ls", "latest", "--recursive"});
  ASSERT_TRUE(j["entries"].is_array());
  std::map<std::string, nlohmann::json> by_path;
  for (const auto& e : j["entries"]) by_path[e["path"]] = e;
  EXPECT_EQ(by_path.size(), 7u);  // storage, uploads, 2 files, with space, its file, keep.txt
  ASSERT_TRUE(by_path.count("storage/with space/new\nline.txt"));
  EXPECT_EQ(by_path["storage/uploads/photo.jpg"]["size"], 300000);
  EXPECT_EQ(by_path["storage/uploads/photo.jpg"]["type"], "file");
  EXPECT_EQ(by_path["storage/uploads/photo.jpg"]["mode"], "0644");
  EXPECT_EQ(by_path["storage/uploads"]["type"], "dir");
  EXPECT_EQ(j["id"], first_);
  ASSERT_EQ(j["streams"].size(), 1u);
  EXPECT_EQ(j["streams"][0]["name"], "db");
  EXPECT_EQ(j["streams"][0]["metadata"]["tables"][0]["rows"], 3);

  // A single file, and the stream by its name.
  nlohmann::json one = app_.Json({"backup", "ls", "latest", "storage/keep.txt"});
  ASSERT_EQ(one["entries"].size(), 1u);
  EXPECT_EQ(one["entries"][0]["size"], 10);
  nlohmann::json db = app_.Json({"backup", "ls", "latest", "db"});
  EXPECT_EQ(db["entries"].size(), 0u);
  EXPECT_EQ(db["streams"].size(), 1u);

  RunResult missing = app_.Run({"backup", "ls", "latest", "storage/nope"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "error: backup " + first_ + " has no path 'storage/nope'\n");
  RunResult unknown = app_.Run({"backup", "ls", "19990101-0000-full"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("19990101-0000-full"), std::string::npos) << unknown.err;
  nlohmann::json err = app_.Json({"backup", "ls", "nope-id"}, 2);
  EXPECT_EQ(err["error"]["exit_code"], 2);
}

TEST_F(BackupInspectTest, FindMatchesNamesOrPathsNewestFirst) {
  Change();
  nlohmann::json j = app_.Json({"backup", "find", "*.txt"});
  ASSERT_TRUE(j["matches"].is_array());
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& m : j["matches"]) got.emplace_back(m["id"], m["path"]);
  std::vector<std::pair<std::string, std::string>> want = {
      {second_, "storage/keep.txt"},
      {second_, "storage/uploads/notes.txt"},
      {first_, "storage/keep.txt"},
      {first_, "storage/uploads/notes.txt"},
      {first_, "storage/with space/new\nline.txt"},
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(j["backups_matched"], 2);

  // With a '/', the whole path: "*.pdf" under uploads only; the first backup has none.
  nlohmann::json pdf = app_.Json({"backup", "find", "storage/uploads/*.pdf"});
  ASSERT_EQ(pdf["matches"].size(), 1u);
  EXPECT_EQ(pdf["matches"][0]["id"], second_);
  EXPECT_EQ(app_.Json({"backup", "find", "uploads/*.pdf"})["matches"].size(), 0u);

  RunResult human = app_.Run({"backup", "find", "photo.*"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_EQ(human.out.find("Backup " + second_), 0u) << human.out;  // newest first
  EXPECT_NE(human.out.find("Backup " + first_), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("  storage/uploads/photo.jpg  293 KiB\n"), std::string::npos);
  EXPECT_NE(human.out.find("2 match(es) in 2 of 2 backup(s)"), std::string::npos) << human.out;

  RunResult none = app_.Run({"backup", "find", "*.exe"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_NE(none.out.find("No path matches '*.exe'"), std::string::npos) << none.out;
  EXPECT_EQ(app_.Run({"backup", "find", "*.txt", "--all", "--host", "x"}).exit_code, 2);
}

TEST_F(BackupInspectTest, DiffShowsAddedRemovedChangedAndTheDatabase) {
  Change();
  nlohmann::json j = app_.Json({"backup", "diff", first_, "latest"});
  EXPECT_EQ(j["from"], first_);
  EXPECT_EQ(j["to"], second_);
  std::map<std::string, std::string> kinds;
  for (const auto& c : j["changes"]) kinds[c["path"]] = c["kind"];
  std::map<std::string, std::string> want = {
      {"db", "changed"},
      {"storage/keep.txt", "metadata"},
      {"storage/uploads/new.pdf", "added"},
      {"storage/uploads/notes.txt", "changed"},
      {"storage/with space/new\nline.txt", "removed"},
  };
  EXPECT_EQ(kinds, want) << j.dump(2);
  for (const auto& c : j["changes"]) {
    if (c["path"] == "storage/uploads/notes.txt") {
      EXPECT_EQ(c["old_size"], 6);
      EXPECT_EQ(c["new_size"], 18);
    }
    if (c["path"] == "storage/uploads/new.pdf") {
      EXPECT_TRUE(c["old_size"].is_null());
    }
  }
  EXPECT_EQ(j["summary"]["added_size"], 9);

  RunResult human = app_.Run({"backup", "diff", first_, second_});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("+ storage/uploads/new.pdf  (9 B)\n"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("M storage/uploads/notes.txt  (6 B -> 18 B)\n"), std::string::npos);
  EXPECT_NE(human.out.find("- \"storage/with space/new\\nline.txt\"  (9 B)\n"), std::string::npos);
  EXPECT_NE(human.out.find("U storage/keep.txt  (10 B)\n"), std::string::npos);
  EXPECT_NE(human.out.find("M db (database stream)"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("1 added (9 B), 1 removed (9 B), 2 changed, 1 metadata only"),
            std::string::npos)
      << human.out;
  // A backup against itself: nothing.
  EXPECT_EQ(app_.Json({"backup", "diff", "latest", "latest"})["changes"].size(), 0u);
  EXPECT_EQ(app_.Run({"backup", "diff", first_, "nope"}).exit_code, 2);
}

TEST_F(BackupInspectTest, DumpWritesAFileOrTheDatabaseAndRefusesDirectoriesAndDamage) {
  RunResult photo = app_.Run({"backup", "dump", "latest", "storage/uploads/photo.jpg"});
  ASSERT_EQ(photo.exit_code, 0) << photo.err;
  EXPECT_TRUE(photo.out == photo_);  // binary, byte for byte
  RunResult odd = app_.Run({"backup", "dump", first_, "storage/with space/new\nline.txt"});
  ASSERT_EQ(odd.exit_code, 0) << odd.err;
  EXPECT_EQ(odd.out, "odd name\n");

  // The SQLite stream is a database file: sqlite3 reads the dumped copy.
  RunResult db = app_.Run({"backup", "dump", "latest", "db"});
  ASSERT_EQ(db.exit_code, 0) << db.err;
  const std::string copy = app_.path("copy.db");
  std::ofstream(copy, std::ios::binary) << db.out;
  RunResult rows = RunProgram({"sqlite3", copy, "SELECT count(*) FROM orders;"});
  EXPECT_EQ(rows.out, "3\n");

  RunResult dir = app_.Run({"backup", "dump", "latest", "storage/uploads"});
  EXPECT_EQ(dir.exit_code, 2);
  EXPECT_EQ(dir.out, "");
  EXPECT_NE(dir.err.find("'storage/uploads' in backup " + first_ + " is a directory"),
            std::string::npos)
      << dir.err;
  RunResult missing = app_.Run({"backup", "dump", "latest", "storage/uploads/nope.jpg"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "error: backup " + first_ + " has no path 'storage/uploads/nope.jpg'\n");
  EXPECT_EQ(app_.Run({"backup", "dump", "latest", "storage/keep.txt", "--json"}).exit_code, 2);

  // A flipped byte inside the photo's blob: exit 4, and not one byte of the damaged chunk.
  const std::string pack = BiggestPack(app_.repo());
  std::string data = ReadFileOrDie(pack);
  data[1000] = static_cast<char>(data[1000] ^ 0x40);
  std::ofstream(pack, std::ios::binary | std::ios::trunc) << data;
  RunResult damaged = app_.Run({"backup", "dump", "latest", "storage/uploads/photo.jpg"});
  EXPECT_EQ(damaged.exit_code, 4) << damaged.err;
  EXPECT_EQ(damaged.out, "");  // one chunk, checked before it is written
  EXPECT_NE(damaged.err.find("storage/uploads/photo.jpg"), std::string::npos) << damaged.err;

  // A missing pack: refused before the first byte.
  std::filesystem::remove(pack);
  RunResult gone = app_.Run({"backup", "dump", "latest", "storage/uploads/photo.jpg"});
  EXPECT_EQ(gone.exit_code, 4) << gone.err;
  EXPECT_EQ(gone.out, "");
}

TEST_F(BackupInspectTest, StatsPerSourceAndForTheRepository) {
  Change();
  nlohmann::json all = app_.Json({"backup", "stats"});
  EXPECT_EQ(all["backups"], 2);
  ASSERT_EQ(all["sources"].size(), 2u);
  EXPECT_EQ(all["sources"][0]["name"], "db");
  EXPECT_EQ(all["sources"][0]["kind"], "stream");
  const nlohmann::json& files = all["sources"][1];
  EXPECT_EQ(files["name"], "storage");
  EXPECT_EQ(files["backups"], 2);
  // Logical: both backups' bytes; the photo is stored once, so dedup is near 2.
  const uint64_t logical = files["logical_size"];
  EXPECT_EQ(logical, 2 * 300000u + 6 + 9 + 10 + 18 + 9 + 10);
  EXPECT_GT(files["dedup_ratio"].get<double>(), 1.8);
  EXPECT_LT(files["raw_size"].get<uint64_t>(), 310000u);
  EXPECT_GT(all["repository"]["stored_size"].get<uint64_t>(), 0u);
  EXPECT_GE(all["repository"]["blobs"].get<uint64_t>(), all["total"]["blobs"].get<uint64_t>());

  nlohmann::json one = app_.Json({"backup", "stats", first_});
  EXPECT_EQ(one["id"], first_);
  EXPECT_EQ(one["backups"], 1);
  EXPECT_FALSE(one.contains("repository"));

  RunResult human = app_.Run({"backup", "stats"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("Repository: 2 backup(s)"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("  storage "), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("  total "), std::string::npos) << human.out;
  EXPECT_EQ(app_.Run({"backup", "stats", "nope"}).exit_code, 2);
}

// A file of many chunks comes out whole and in order, chunk after chunk.
TEST(BackupInspectDumpTest, AFileOfManyChunksComesOutByteForByte) {
  BackupApp app;
  const std::string big = RandomData((5 << 20) + 4321, 11);
  WriteFile(app.root() + "/storage/big.bin", big);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  nlohmann::json stats = app.Json({"backup", "stats", "latest"});
  EXPECT_GT(stats["sources"][0]["blobs"].get<int>(), 3);  // several chunks and the trees
  RunResult dump = app.Run({"backup", "dump", "latest", "storage/big.bin"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_EQ(dump.out.size(), big.size());
  EXPECT_TRUE(dump.out == big);
}

// Under LANG=de_DE.UTF-8 every line these commands show comes from the German catalogue
// (tests/integration/i18n_german_test.cpp explains the miss report).
TEST_F(BackupInspectTest, EveryLineIsGermanUnderAGermanLocale) {
  Change();
  const std::string report = app_.path("misses.txt");
  RunOptions de;
  de.env = {{"LANG", "de_DE.UTF-8"}, {"VELIN_I18N_REPORT_MISSES", report}};
  de.unset_env = {"LC_ALL", "LC_MESSAGES"};
  const std::vector<std::vector<std::string>> runs = {
      {"backup", "ls", "latest", "-l", "-R"},
      {"backup", "ls", "latest", "storage/nope"},
      {"backup", "find", "*.txt"},
      {"backup", "find", "*.exe"},
      {"backup", "diff", first_, second_},
      {"backup", "dump", "latest", "storage/uploads"},
      {"backup", "dump", "latest", "storage/uploads/nope"},
      {"backup", "stats"},
      {"backup", "stats", "latest"},
  };
  for (const auto& args : runs) app_.Run(args, de);
  RunResult diff = app_.Run({"backup", "diff", first_, second_}, de);
  EXPECT_NE(diff.out.find("Änderungen von"), std::string::npos) << diff.out;
  const std::string misses =
      std::filesystem::exists(report) ? ReadFileOrDie(report) : std::string();
  EXPECT_EQ(misses, "");
}

// A PostgreSQL stream is pg_dump's custom format: `velin backup dump latest db | pg_restore`
// reads it from the pipe.
TEST(BackupInspectPostgresTest, DumpOfTheDatabasePipesIntoPgRestore) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string db = pg.CreateDatabase();
  pg.Sql(db,
         "SET ROLE app; CREATE TABLE users (id int PRIMARY KEY, name text);"
         "INSERT INTO users SELECT i, 'user ' || i FROM generate_series(1, 20) i;");
  BackupApp app({"db"}, "\n[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nport = " +
                            std::to_string(pg.port()) + "\nuser = \"app\"\nname = \"" + db +
                            "\"\npassword_env = \"VELIN_TEST_DB_PASSWORD\"\n");
  RunOptions with_password;
  with_password.env["VELIN_TEST_DB_PASSWORD"] = kAppPassword;
  ASSERT_EQ(app.Run({"backup", "create"}, with_password).exit_code, 0);
  nlohmann::json ls = app.Json({"backup", "ls", "latest"}, 0, with_password);
  ASSERT_EQ(ls["streams"].size(), 1u);
  EXPECT_EQ(ls["streams"][0]["metadata"]["dump_format"], "pg_custom");
  RunResult dump = app.Run({"backup", "dump", "latest", "db"}, with_password);
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  RunOptions pipe;
  pipe.stdin_data = dump.out;
  RunResult sql = RunProgram({"pg_restore", "--data-only", "--table=users", "-f", "-"}, pipe);
  ASSERT_EQ(sql.exit_code, 0) << sql.err;
  EXPECT_NE(sql.out.find("COPY public.users (id, name) FROM stdin;"), std::string::npos) << sql.out;
  EXPECT_NE(sql.out.find("20\tuser 20\n"), std::string::npos) << sql.out;
}

// C1 controls in names reach a terminal as C0 ones do: U+009B (0xC2 0x9B) is CSI, and a lone
// byte 0x9B is CSI to a terminal taking 8-bit controls. `ls` showed them raw (only C0 and DEL
// were escaped); now such a name is quoted with the bytes' C escapes, and JSON has it exactly.
TEST(BackupInspectNamesTest, C1ControlsInANameAreEscapedInLsAndFind) {
  BackupApp app;
  const std::string csi = "csi\xC2\x9BK.txt";  // CSI K: erase the line
  const std::string lone = "lone\x9BK.txt";
  WriteFile(app.root() + "/storage/" + csi, "a\n");
  WriteFile(app.root() + "/storage/" + lone, "b\n");
  WriteFile(app.root() + "/storage/caf\xC3\xA9.txt", "c\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  RunResult ls = app.Run({"backup", "ls", "latest", "-R"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("\"storage/csi\\xc2\\x9bK.txt\"\n"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("\"storage/lone\\x9bK.txt\"\n"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("storage/caf\xC3\xA9.txt\n"), std::string::npos) << ls.out;
  EXPECT_EQ(ls.out.find("\x9B"), std::string::npos) << "a raw C1 byte reached the terminal";
  RunResult find = app.Run({"backup", "find", "csi*"});
  ASSERT_EQ(find.exit_code, 0) << find.err;
  EXPECT_NE(find.out.find("\"storage/csi\\xc2\\x9bK.txt\""), std::string::npos) << find.out;
  EXPECT_EQ(find.out.find("\x9B"), std::string::npos) << find.out;
  nlohmann::json j = app.Json({"backup", "ls", "latest", "--recursive"});
  bool exact = false;
  for (const auto& e : j["entries"]) exact = exact || e["path"] == "storage/" + csi;
  EXPECT_TRUE(exact) << j.dump();
}

// A hardlink's first link is a path relative to app.root, as every path `ls` shows: an include
// `var/www/up` showed `var/www/up/b => up/a` (the tree's target, relative to the include's
// directory) and JSON "target": "up/a".
TEST(BackupInspectHardlinkTest, LsShowsAHardlinksFirstLinkRelativeToAppRoot) {
  BackupApp app({"var/www/up"});
  const std::string up = app.root() + "/var/www/up";
  WriteFile(up + "/a", "a\n");
  std::filesystem::create_directories(up + "/sub");
  ASSERT_EQ(::link((up + "/a").c_str(), (up + "/b").c_str()), 0);
  ASSERT_EQ(::link((up + "/a").c_str(), (up + "/sub/c").c_str()), 0);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);

  // From the include roots, from a directory and of one path.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"backup", "ls", "latest", "-l", "-R"},
        std::vector<std::string>{"backup", "ls", "latest", "-l", "var/www/up"},
        std::vector<std::string>{"backup", "ls", "latest", "-l", "var/www/up/b"}}) {
    RunResult ls = app.Run(args);
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_NE(ls.out.find("var/www/up/b => var/www/up/a\n"), std::string::npos) << ls.out;
  }
  nlohmann::json j = app.Json({"backup", "ls", "latest", "-R"});
  int links = 0;
  for (const auto& e : j["entries"]) {
    if (e["type"] != "hardlink") continue;
    ++links;
    EXPECT_EQ(e["target"], "var/www/up/a") << e.dump();
  }
  EXPECT_EQ(links, 2) << j.dump();
  // What it names is a path ls and dump take.
  RunResult dump = app.Run({"backup", "dump", "latest", "var/www/up/a"});
  EXPECT_EQ(dump.out, "a\n");
}

}  // namespace
}  // namespace velin::testing
