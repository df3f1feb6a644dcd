// The MariaDB/MySQL driver against a real MariaDB server (tests/support/db_servers.hpp).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "support/db_servers.hpp"
#include "support/db_streams.hpp"
#include "support/test_support.hpp"
#include "velin/db/driver.hpp"

namespace velin::testing {
namespace {

class MysqlDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = my().CreateDatabase();
    my().Sql(db_,
             "CREATE TABLE users (id int PRIMARY KEY, name text, avatar blob);"
             "CREATE TABLE `order lines` (id int AUTO_INCREMENT PRIMARY KEY, user_id int, "
             "note varchar(200), FOREIGN KEY (user_id) REFERENCES users(id));"
             "CREATE TABLE empty_one (id int);"
             "INSERT INTO users VALUES (1, 'ada', X'00ff27'), (2, 'line\\nbreak ''quoted'' (x),', "
             "NULL), (3, 'zoë', '');"
             "INSERT INTO `order lines` (user_id, note) SELECT 1 + seq % 3, CONCAT('order ', seq) "
             "FROM seq_1_to_500;"
             "CREATE TRIGGER t_ins AFTER INSERT ON users FOR EACH ROW "
             "INSERT INTO empty_one VALUES (NEW.id);");
  }
  static MariadbServer& my() { return MariadbServer::Shared(); }
  std::unique_ptr<db::Driver> Open(const db::ConnectionOptions& o) {
    auto d = db::OpenDriver(o);
    EXPECT_TRUE(d) << d.error().message;
    return std::move(*d);
  }
  std::string db_;
};

const std::vector<db::TableRows> kWant = {{"empty_one", 0}, {"order lines", 500}, {"users", 3}};

TEST_F(MysqlDriverTest, PreflightReportsVersionSizeAndTables) {
  auto info = Open(my().Options(db_))->Preflight();
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_NE(info->server_version.find("MariaDB"), std::string::npos);
  EXPECT_EQ(info->dump_tool, "mariadb-dump");
  EXPECT_GT(info->size_bytes, 0);
  EXPECT_EQ(info->tables.size(), 3u);
}

TEST_F(MysqlDriverTest, RestoreAfterDamageGivesBackEveryTableExactly) {
  auto d = Open(my().Options(db_));
  auto before = my().TableDigests(db_);
  std::string dump;
  auto info = d->Dump(StringSink(dump));
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->tables, kWant);
  my().Sql(db_,
           "DELETE FROM `order lines` WHERE id % 2 = 0; UPDATE users SET name = 'x';"
           "DROP TRIGGER t_ins");
  ASSERT_NE(my().TableDigests(db_), before);
  auto s = d->Restore(StringSource(dump), "");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(my().TableDigests(db_), before);
  EXPECT_EQ(my().Sql(db_,
                     "SELECT COUNT(*) FROM information_schema.triggers "
                     "WHERE trigger_schema = DATABASE()"),
            "1\n");
  auto counts = d->CountRows("");
  ASSERT_TRUE(counts);
  EXPECT_EQ(*counts, kWant);
  EXPECT_TRUE(d->Check(""));
}

TEST_F(MysqlDriverTest, RestoresIntoAnotherDatabaseCreatingIt) {
  auto d = Open(my().Options(db_));
  std::string dump;
  ASSERT_TRUE(d->Dump(StringSink(dump)));
  std::string other = db_ + "_copy";
  auto s = d->Restore(StringSource(dump), other);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(my().TableDigests(other), my().TableDigests(db_));
  EXPECT_TRUE(d->DropDatabase(other));
}

TEST_F(MysqlDriverTest, RowCountsAreThoseOfTheDumpEvenWhileTheDatabaseIsWritten) {
  auto d = Open(my().Options(db_));
  std::string dump;
  bool inserted = false;
  auto info = d->Dump([&](std::string_view chunk) -> Status {
    if (!inserted) {
      my().Sql(db_, "INSERT INTO `order lines` (user_id, note) VALUES (1, 'late')");
      inserted = true;
    }
    dump.append(chunk);
    return Ok();
  });
  ASSERT_TRUE(info) << info.error().message;
  std::string copy = db_ + "_snap";
  ASSERT_TRUE(d->Restore(StringSource(dump), copy));
  auto restored = d->CountRows(copy);
  ASSERT_TRUE(restored);
  EXPECT_TRUE(db::CompareRowCounts(info->tables, *restored).empty());
  EXPECT_EQ(info->tables, kWant);
  EXPECT_TRUE(d->DropDatabase(copy));
}

TEST_F(MysqlDriverTest, ABadPasswordOrUnreachableServerIsOneClearLine) {
  db::ConnectionOptions o = my().Options(db_);
  o.password = "wrong-password-123";
  auto r = Open(o)->Dump([](std::string_view) { return Ok(); });
  ASSERT_FALSE(r);
  std::string prefix = "database '" + db_ + "' at 127.0.0.1:" + std::to_string(my().port()) + ": ";
  EXPECT_EQ(r.error().message.substr(0, prefix.size()), prefix) << r.error().message;
  EXPECT_NE(r.error().message.find("Access denied for user 'app'"), std::string::npos);
  EXPECT_EQ(r.error().message.find("wrong-password-123"), std::string::npos);
  o = my().Options(db_);
  o.port = FreeLoopbackPort();
  r = Open(o)->Preflight();
  ASSERT_FALSE(r);
  // Not the client library's "Can't connect to server on '127.0.0.1' (115)".
  EXPECT_EQ(r.error().message, "database '" + db_ + "' at 127.0.0.1:" + std::to_string(o.port) +
                                   ": cannot connect (is the server running and accepting TCP/IP "
                                   "connections?)");
}

TEST_F(MysqlDriverTest, AMissingOrDyingDumpToolFailsTheDump) {
  TempDir tools;
  auto d = Open(my().Options(db_));
  {
    ScopedPath path(tools.path());
    auto r = d->Dump([](std::string_view) { return Ok(); });
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("mariadb-dump or mysqldump not found"), std::string::npos)
        << r.error().message;
  }
  WriteFile(tools / "mariadb-dump",
            "#!/bin/sh\n[ \"$1\" = --version ] && exec /usr/bin/mariadb-dump --version\n"
            "printf -- '-- partial\\n'; exit 2\n",
            0755);
  db::ConnectionOptions o = my().Options(db_);
  o.tool_dir = tools.path();
  auto r = Open(o)->Dump([](std::string_view) { return Ok(); });
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("mariadb-dump failed (exit code 2)"), std::string::npos)
      << r.error().message;
}

// Sets variables for one test and puts the old values back.
class ScopedEnv {
 public:
  ScopedEnv(std::vector<std::pair<std::string, std::string>> vars) {
    for (auto& [key, value] : vars) {
      const char* old = std::getenv(key.c_str());
      old_.emplace_back(key, old ? std::optional<std::string>(old) : std::nullopt);
      ::setenv(key.c_str(), value.c_str(), 1);
    }
  }
  ~ScopedEnv() {
    for (auto& [key, value] : old_) {
      if (value) {
        ::setenv(key.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(key.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> old_;
};

std::string ProcEnviron(int pid) { return ProcFile(pid, "environ", '\n'); }

TEST_F(MysqlDriverTest, ThePasswordTravelsThroughAPipeAndTheToolsSeeNoOtherSecret) {
  my().Sql(db_,
           "INSERT INTO `order lines` (user_id, note) SELECT 1, REPEAT('x', 190) "
           "FROM seq_1_to_30000");
  TempDir tmp;
  ScopedEnv env({{"TMPDIR", tmp.path()},
                 {"AWS_SECRET_ACCESS_KEY", "aws-secret-value"},
                 {"VELIN_REPO_PASSPHRASE", "repo-passphrase-value"},
                 {"SOME_SETTING", "not-for-tools"}});
  auto d = Open(my().Options(db_));
  std::vector<std::string> cmdlines, environs;
  std::string option_arg;
  bool is_pipe = false;
  auto r = d->Dump([&](std::string_view) -> Status {
    for (int pid : ChildPids(::getpid())) {
      std::string c = ProcCmdline(pid);
      cmdlines.push_back(c);
      if (c.find("mariadb-dump") == std::string::npos) continue;  // the servers are ours too
      std::string environ = ProcEnviron(pid);
      if (!environ.empty()) environs.push_back(environ);  // empty: it has just exited
      size_t p = c.find("--defaults-extra-file=");
      if (p == std::string::npos || !option_arg.empty()) continue;
      option_arg = c.substr(p + 22, c.find(' ', p) - p - 22);
      // /dev/fd/N in the tool is its fd N: a pipe, no file anywhere.
      std::string fd = option_arg.substr(option_arg.rfind('/') + 1);
      struct stat st {};
      std::string proc_fd = "/proc/" + std::to_string(pid) + "/fd/" + fd;
      if (::stat(proc_fd.c_str(), &st) == 0) is_pipe = S_ISFIFO(st.st_mode);
    }
    return Ok();
  });
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_FALSE(option_arg.empty());
  EXPECT_EQ(option_arg.rfind("/dev/fd/", 0), 0u) << option_arg;
  EXPECT_TRUE(is_pipe);
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
  for (const std::string& c : cmdlines) EXPECT_EQ(c.find(kAppPassword), std::string::npos) << c;
  ASSERT_FALSE(environs.empty());
  for (const std::string& e : environs) {
    EXPECT_NE(e.find("PATH="), std::string::npos) << e;
    for (const char* secret :
         {kAppPassword, "aws-secret-value", "repo-passphrase-value", "not-for-tools"}) {
      EXPECT_EQ(e.find(secret), std::string::npos) << secret << " in\n" << e;
    }
  }

  // The restore tool reads its password the same way, and leaves nothing behind either.
  std::string dump;
  ASSERT_TRUE(d->Dump(StringSink(dump)));
  ASSERT_TRUE(d->Restore(StringSource(dump), ""));
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
}

// The dump tool writes through a 1 MiB stdio buffer (coreutils' stdbuf) instead of one page a
// write() into the pipe; without stdbuf in PATH it runs as it is and the dump is the same.
TEST_F(MysqlDriverTest, TheDumpToolWritesThroughALargeBufferAndNeedsNoStdbuf) {
  my().Sql(db_,
           "INSERT INTO `order lines` (user_id, note) SELECT 1, REPEAT('x', 190) "
           "FROM seq_1_to_30000");
  auto d = Open(my().Options(db_));
  bool buffered = false;
  std::string dump;
  auto r = d->Dump([&](std::string_view chunk) -> Status {
    dump.append(chunk);
    buffered = buffered || ChildHasStdbuf("mariadb-dump", "_STDBUF_O=1048576");
    return Ok();
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(buffered);
  EXPECT_EQ(r->tables,
            (std::vector<db::TableRows>{{"empty_one", 0}, {"order lines", 30500}, {"users", 3}}));

  // PATH holds the dump tool alone (a link to it), so stdbuf is not found.
  TempDir tools;
  ASSERT_TRUE(LinkTools(tools.path(), {"mariadb-dump"}));
  std::string plain;
  {
    ScopedPath path(tools.path());
    auto again = d->Dump(StringSink(plain));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->tables, r->tables);
  }
  EXPECT_EQ(plain, dump);
}

TEST_F(MysqlDriverTest, TemporaryDatabasesAreDroppedByCleanup) {
  std::string temp;
  {
    auto d = Open(my().Options(db_));
    auto name = d->CreateTemporaryDatabase();
    ASSERT_TRUE(name) << name.error().message;
    temp = *name;
    EXPECT_EQ(my().Sql("", "SHOW DATABASES LIKE '" + temp + "'"), temp + "\n");
  }
  EXPECT_EQ(my().Sql("", "SHOW DATABASES LIKE '" + temp + "'"), "");
}

// A restore test's temporary database gets the backup database's character set and collation,
// not the server's default (latin1 here), once PrepareRestore has seen the backup's metadata.
TEST_F(MysqlDriverTest, ARestoreTestsDatabaseHasTheBackupsCharacterSet) {
  const std::string source = db_ + "_utf8";
  my().Sql("", "CREATE DATABASE " + source + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
  my().Sql(source, "CREATE TABLE t (id int)");
  auto d = Open(my().Options(source));
  std::string dump;
  auto info = d->Dump(StringSink(dump));
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->character_set, "utf8mb4");
  EXPECT_EQ(info->collation, "utf8mb4_unicode_ci");
  auto temp = d->CreateTemporaryDatabase();
  ASSERT_TRUE(temp) << temp.error().message;
  ASSERT_TRUE(d->PrepareRestore(*info));
  auto restored = d->Restore(StringSource(dump), *temp);
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_EQ(my().Sql("",
                     "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
                     "information_schema.SCHEMATA WHERE SCHEMA_NAME = '" +
                         *temp + "'"),
            "utf8mb4\tutf8mb4_unicode_ci\n");
  EXPECT_TRUE(d->DropDatabase(*temp));
  my().Sql("", "DROP DATABASE " + source);
}

}  // namespace
}  // namespace velin::testing
