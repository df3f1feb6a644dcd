// The SQLite driver's paths the main tests leave out: preflight (of a database, of a missing
// file, of a file that is no database), a live database failing its integrity check (nothing
// is streamed, no copy left), a restore over a file of another owner or with a write-ahead log
// of its own, and the configured database never dropped. Plus the metadata parser's refusals.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/db_streams.hpp"
#include "support/test_support.hpp"
#include "velin/db/driver.hpp"
#include "velin/db/metadata.hpp"

namespace velin::testing {
namespace {

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "");
  sqlite3_free(err);
}

void Exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  Exec(db, sql);
  sqlite3_close(db);
}

std::string Rows(const std::string& path, const std::string& sql) {
  RunResult r = RunProgram({"sqlite3", path, sql});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

class CovSqliteDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "var/app.db";
    std::filesystem::create_directories(dir_ / "var");
    std::filesystem::create_directories(dir_ / "tmp");
    Exec(path_,
         "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
         "CREATE INDEX users_name ON users (name);"
         "INSERT INTO users VALUES (1, 'ada'), (2, 'bob'), (3, 'eve');");
    driver_ = Open(path_);
  }

  std::unique_ptr<db::Driver> Open(const std::string& path) {
    db::ConnectionOptions o;
    o.driver = "sqlite";
    o.path = path;
    o.temp_dir = dir_ / "tmp";
    auto d = db::OpenDriver(o);
    EXPECT_TRUE(d) << d.error().message;
    return std::move(*d);
  }

  size_t Entries(const std::string& dir) {
    return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                             std::filesystem::directory_iterator()));
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<db::Driver> driver_;
};

TEST_F(CovSqliteDriverTest, PreflightNamesTheTablesAndRefusesAMissingFileOrANonDatabase) {
  auto info = driver_->Preflight();
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->driver, "sqlite");
  EXPECT_EQ(info->name, "app.db");
  EXPECT_EQ(info->dump_format, "sqlite");
  EXPECT_GT(info->size_bytes, 0);
  // Rows are counted by the dump, in its snapshot; preflight only names the tables.
  EXPECT_EQ(info->tables, (std::vector<db::TableRows>{{"users", 0}}));

  const std::string missing = dir_ / "var/none.db";
  auto gone = Open(missing)->Preflight();
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().message, "database '" + missing + "': the file does not exist");

  const std::string text = dir_ / "var/notes.txt";
  WriteFile(text, std::string(2000, 'x'));
  auto not_db = Open(text)->Preflight();
  ASSERT_FALSE(not_db);
  EXPECT_EQ(not_db.error().message, "database '" + text + "': file is not a database");
}

TEST_F(CovSqliteDriverTest, ALiveDatabaseFailingItsIntegrityCheckIsNotBackedUp) {
  // The index's row taken out of the schema: its pages stay, used by nothing.
  Exec(path_, "PRAGMA writable_schema = ON; DELETE FROM sqlite_schema WHERE name = 'users_name';");
  std::string dump;
  auto r = driver_->Dump(StringSink(dump));
  ASSERT_FALSE(r);
  EXPECT_EQ(
      r.error().message.rfind(
          "database '" + path_ + "': the live database is damaged: integrity_check failed: ", 0),
      0u)
      << r.error().message;
  EXPECT_TRUE(dump.empty());
  EXPECT_EQ(Entries(dir_ / "tmp"), 0u);  // the private copy is gone
}

TEST_F(CovSqliteDriverTest,
       CountingOrCheckingAMissingTargetIsOneLineAndTheConfiguredOneIsNeverDropped) {
  const std::string missing = dir_ / "tmp/none.db";
  auto counts = driver_->CountRows(missing);
  ASSERT_FALSE(counts);
  EXPECT_EQ(counts.error().message,
            "database '" + path_ +
                "': cannot open: unable to open database file: No such file or directory");
  EXPECT_FALSE(std::filesystem::exists(missing));  // opened read-only: not created

  for (const std::string& target : {std::string(), path_}) {
    Status s = driver_->DropDatabase(target);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ExitCode::kUsage);
    EXPECT_EQ(s.error().message,
              "database '" + path_ + "': refusing to drop the configured database");
  }
  EXPECT_EQ(Rows(path_, "SELECT count(*) FROM users"), "3\n");
}

TEST_F(CovSqliteDriverTest, ARestoreKeepsTheOwnerOfTheFileItReplaces) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the file another owner";
  std::string dump;
  ASSERT_TRUE(driver_->Dump(StringSink(dump)));
  ASSERT_EQ(::chown(path_.c_str(), 4242, 4343), 0);
  Exec(path_, "DELETE FROM users;");
  auto s = driver_->Restore(StringSource(dump), "");
  ASSERT_TRUE(s) << s.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 4242u);
  EXPECT_EQ(st.st_gid, 4343u);
  EXPECT_EQ(Rows(path_, "SELECT count(*) FROM users"), "3\n");
}

TEST_F(CovSqliteDriverTest, ARestoreOverADatabaseWithAWriteAheadLogLeavesNoneOfItsLog) {
  std::string dump;
  ASSERT_TRUE(driver_->Dump(StringSink(dump)));
  // The application runs in WAL mode and is connected: its changes sit in app.db-wal.
  sqlite3* app = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &app), SQLITE_OK);
  Exec(app, "PRAGMA journal_mode = WAL; DELETE FROM users WHERE id > 1;");
  ASSERT_TRUE(std::filesystem::exists(path_ + "-wal"));

  auto s = driver_->Restore(StringSource(dump), "");
  ASSERT_TRUE(s) << s.error().message;
  sqlite3_close(app);
  EXPECT_FALSE(std::filesystem::exists(path_ + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(path_ + "-shm"));
  EXPECT_EQ(Rows(path_, "SELECT group_concat(name) FROM users ORDER BY id"), "ada,bob,eve\n");
  EXPECT_TRUE(driver_->Check(""));
}

TEST(CovDatabaseMetadata, EachMissingOrMistypedFieldIsNamed) {
  db::DatabaseInfo info;
  info.driver = "sqlite";
  info.name = "app.db";
  info.tables = {{"users", 3}};
  const nlohmann::json good = db::DatabaseInfoToJson(info);
  ASSERT_TRUE(db::DatabaseInfoFromJson(good));
  struct Case {
    nlohmann::json doc;
    std::string want;
  };
  std::vector<Case> cases;
  auto edited = [&](auto edit, std::string want) {
    nlohmann::json doc = good;
    edit(doc);
    cases.push_back({doc, std::move(want)});
  };
  edited([](nlohmann::json& d) { d.erase("driver"); },
         "database metadata: 'driver' missing or not a string");
  edited([](nlohmann::json& d) { d["dump_format"] = 7; },
         "database metadata: 'dump_format' missing or not a string");
  edited([](nlohmann::json& d) { d.erase("tables"); },
         "database metadata: 'tables' missing or not an array");
  edited([](nlohmann::json& d) { d["tables"] = nlohmann::json::parse("[1]"); },
         "database metadata: a table entry is not an object");
  edited([](nlohmann::json& d) { d["tables"] = nlohmann::json::parse(R"([{"name": 5}])"); },
         "database metadata: 'name' missing or not a string");
  edited([](nlohmann::json& d) { d["tables"][0]["rows"] = "3"; },
         "database metadata: 'rows' missing or not an integer");
  for (const Case& c : cases) {
    auto parsed = db::DatabaseInfoFromJson(c.doc);
    ASSERT_FALSE(parsed) << c.doc.dump();
    EXPECT_EQ(parsed.error().message, c.want) << c.doc.dump();
  }
}

}  // namespace
}  // namespace velin::testing
