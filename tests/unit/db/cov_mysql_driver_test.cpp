// The MariaDB driver against the real server (tests/support/db_servers.hpp) on the failure
// paths the main tests leave out: the server dropping the dump's connections mid-stream, a user
// without the right to create databases, a database name the server refuses, the unix socket,
// and dump/restore tools (fakes in tool_dir, for fault injection) that are missing, cannot say
// their version, stop reading their input, close their output, or print the password. Each
// failure is one line naming the database and what failed, without the password.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "support/db_servers.hpp"
#include "support/db_streams.hpp"
#include "support/test_support.hpp"
#include "velin/db/driver.hpp"

namespace velin::testing {
namespace {

class CovMysqlDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = my().CreateDatabase();
    my().Sql(db_,
             "CREATE TABLE t (id int PRIMARY KEY, note varchar(100));"
             "INSERT INTO t SELECT seq, CONCAT('row ', seq) FROM seq_1_to_50;");
  }
  static MariadbServer& my() { return MariadbServer::Shared(); }
  std::unique_ptr<db::Driver> Open(const db::ConnectionOptions& o) {
    auto d = db::OpenDriver(o);
    EXPECT_TRUE(d) << d.error().message;
    return std::move(*d);
  }
  std::string Prefix() const {
    return "database '" + db_ + "' at 127.0.0.1:" + std::to_string(my().port()) + ": ";
  }
  // A fake tool in tools_ that runs `body` (sh), answering --version like the real one.
  void FakeTool(const std::string& name, const std::string& body) {
    WriteFile(tools_ / name,
              "#!/bin/sh\n[ \"$1\" = --version ] && exec /usr/bin/" + name + " --version\n" + body,
              0755);
  }
  db::ConnectionOptions WithFakes() const {
    db::ConnectionOptions o = my().Options(db_);
    o.tool_dir = tools_.path();
    return o;
  }

  std::string db_;
  TempDir tools_;
};

TEST_F(CovMysqlDriverTest, TheServerDroppingTheDumpsConnectionsMidStreamFailsTheDump) {
  // About 10 MB of rows: far more than the pipe and socket buffers hold, so mariadb-dump is
  // still reading from the server when its connection goes.
  my().Sql(db_, "INSERT INTO t SELECT 100 + seq, REPEAT('x', 100) FROM seq_1_to_100000");
  auto d = Open(my().Options(db_));
  bool killed = false;
  auto r = d->Dump([&](std::string_view) -> Status {
    if (!killed) {
      killed = true;
      std::string ids = my().Sql("",
                                 "SELECT GROUP_CONCAT(id) FROM information_schema.processlist "
                                 "WHERE user = 'app'");
      std::stringstream list(ids);
      for (std::string id; std::getline(list, id, ',');) {
        if (!id.empty() && id != "NULL\n") my().Sql("", "KILL CONNECTION " + id);
      }
    }
    return Ok();
  });
  ASSERT_TRUE(killed);
  ASSERT_FALSE(r);
  const std::string& m = r.error().message;
  EXPECT_EQ(m.rfind(Prefix() + "mariadb-dump failed (exit code ", 0), 0u) << m;
  EXPECT_NE(m.find("Lost connection to server during query"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  EXPECT_EQ(m.find(kAppPassword), std::string::npos) << m;
}

TEST_F(CovMysqlDriverTest, AUserWhoMayNotCreateDatabasesGetsOneLineForEachAttempt) {
  const std::string user = "ro_" + db_;
  my().Sql("", "CREATE USER '" + user + "'@'%' IDENTIFIED BY 'ro-pass'; GRANT SELECT ON " + db_ +
                   ".* TO '" + user + "'@'%'");
  db::ConnectionOptions o = my().Options(db_);
  o.user = user;
  o.password = "ro-pass";
  auto d = Open(o);
  auto temp = d->CreateTemporaryDatabase();
  ASSERT_FALSE(temp);
  EXPECT_EQ(temp.error().message.rfind(Prefix() + "cannot create temporary database "
                                                  "'velin_restore_test_",
                                       0),
            0u)
      << temp.error().message;
  EXPECT_NE(temp.error().message.find("Access denied for user '" + user + "'"), std::string::npos)
      << temp.error().message;

  std::string dump;  // taken by the application's user, who may
  ASSERT_TRUE(Open(my().Options(db_))->Dump(StringSink(dump)));
  auto s = d->Restore(StringSource(dump), db_ + "_copy");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message.rfind(Prefix() + "cannot create database '" + db_ + "_copy': ", 0),
            0u)
      << s.error().message;
  my().Sql("", "DROP USER '" + user + "'@'%'");
  EXPECT_EQ(my().Sql("", "SHOW DATABASES LIKE '" + db_ + "\\_copy'"), "");
}

TEST_F(CovMysqlDriverTest, ADatabaseNameTheServerRefusesIsNamedAndNothingIsRestored) {
  auto d = Open(my().Options(db_));
  std::string dump;
  ASSERT_TRUE(d->Dump(StringSink(dump)));
  const std::string too_long(70, 'n');  // names are at most 64 characters
  auto s = d->Restore(StringSource(dump), too_long);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message.rfind(Prefix() + "cannot create database '" + too_long + "': ", 0),
            0u)
      << s.error().message;
  EXPECT_NE(s.error().message.find("Incorrect database name"), std::string::npos)
      << s.error().message;
}

TEST_F(CovMysqlDriverTest, TheUnixSocketWorksAsTcpDoes) {
  db::ConnectionOptions o = my().Options(db_);
  o.host.clear();
  o.port = 0;
  o.socket = my().socket();
  auto d = Open(o);
  EXPECT_EQ(d->Describe(), "database '" + db_ + "' at " + my().socket());
  std::string dump;
  auto info = d->Dump(StringSink(dump));
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->tables, (std::vector<db::TableRows>{{"t", 50}}));
  my().Sql(db_, "DELETE FROM t");
  ASSERT_TRUE(d->Restore(StringSource(dump), ""));
  EXPECT_EQ(my().Sql(db_, "SELECT COUNT(*) FROM t"), "50\n");
}

TEST_F(CovMysqlDriverTest, AToolMissingFromToolDirAndPathOrWithoutAVersionIsNamed) {
  auto d = Open(WithFakes());
  {
    ScopedPath path(tools_.path());  // empty: no tool anywhere
    auto r = d->Dump([](std::string_view) { return Ok(); });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, Prefix() + "mariadb-dump or mysqldump not found in " +
                                     tools_.path() + " or PATH (install mariadb-client)");
  }
  WriteFile(tools_ / "mariadb-dump", "#!/bin/sh\necho 'unknown option' >&2; exit 7\n", 0755);
  auto r = d->Preflight();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            Prefix() + "'" + (tools_ / "mariadb-dump") + " --version' failed (exit code 7)");
}

TEST_F(CovMysqlDriverTest, APasswordAToolPrintsIsMaskedInItsErrorLine) {
  // The tool prints the option file it was given (the password's pipe) in its error line.
  FakeTool("mariadb-dump",
           "opt=\"${1#--defaults-extra-file=}\"\n"
           "echo \"mariadb-dump: error: bad options: $(tr '\\n' ' ' < \"$opt\")\" >&2\nexit 2\n");
  auto r = Open(WithFakes())->Dump([](std::string_view) { return Ok(); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, Prefix() +
                                   "mariadb-dump failed (exit code 2): bad options: [client] "
                                   "password=\"***\" ");
}

TEST_F(CovMysqlDriverTest, ARestoreToolThatStopsReadingOrClosesItsOutputFailsWithItsOwnWords) {
  // 2 MB of input: far more than a pipe holds, so the tool's end matters.
  std::string dump = "-- " + std::string(2 << 20, 'x') + "\n";
  FakeTool("mariadb", "exec 0<&-\necho 'ERROR 1064 (42000): syntax error near x' >&2\nexit 3\n");
  auto s = Open(WithFakes())->Restore(StringSource(dump), "");
  ASSERT_FALSE(s);
  // Into the existing database: what the client applied before stays, and the line says so.
  const std::string partly =
      "; the database is left partly restored (the tables up to that statement replaced, the "
      "rest as they were): a MariaDB restore cannot be rolled back, restore again once the cause "
      "is fixed";
  EXPECT_EQ(s.error().message, Prefix() + "restoring into '" + db_ +
                                   "': mariadb failed (exit code 3): 1064 (42000): syntax error "
                                   "near x" +
                                   partly);

  FakeTool("mariadb",
           "echo 'ERROR 2006 (HY000): server has gone away'\nexec 1>&- 2>&-\n"
           "cat > /dev/null\nexit 1\n");
  s = Open(WithFakes())->Restore(StringSource(dump), "");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, Prefix() + "restoring into '" + db_ +
                                   "': mariadb failed (exit code 1): 2006 (HY000): server has "
                                   "gone away" +
                                   partly);
  EXPECT_EQ(my().Sql(db_, "SELECT COUNT(*) FROM t"), "50\n");  // the fakes touched nothing
}

TEST_F(CovMysqlDriverTest, APasswordTooLongForThePipeIsRefusedBeforeAnyToolRuns) {
  db::ConnectionOptions o = WithFakes();
  o.password = std::string(5000, 'p');
  FakeTool("mariadb", "touch \"$0.ran\"\nexit 0\n");
  auto s = Open(o)->Restore(StringSource("SELECT 1;\n"), "");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, Prefix() + "the database password is longer than 4000 bytes");
  EXPECT_FALSE(std::filesystem::exists(tools_ / "mariadb.ran"));
}

}  // namespace
}  // namespace velin::testing
