// The real binary and a MariaDB row larger than the server's max_allowed_packet: the backup
// says so, a restore that the server would refuse half way is refused before it changes
// anything, and rows over the 16M of Debian's mysqldump.cnf are dumped
// (docs/databases.md#mariadb-mysql).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

constexpr const char* kPacketPasswordEnv = "VELIN_TEST_DB_PASSWORD";

RunOptions PacketPassword() {
  RunOptions o;
  o.env[kPacketPasswordEnv] = kAppPassword;
  return o;
}

std::string PacketMysqlSection(int port, const std::string& db) {
  return "\n[database]\ndriver = \"mysql\"\nport = " + std::to_string(port) +
         "\nuser = \"app\"\nname = \"" + db + "\"\npassword_env = \"" + kPacketPasswordEnv + "\"\n";
}

std::string PacketLines(const std::string& s) {
  return std::to_string(std::count(s.begin(), s.end(), '\n'));
}

// Sets the shared server's max_allowed_packet for the test's time, back to the default after.
class PacketLimit {
 public:
  PacketLimit(MariadbServer& my, int64_t bytes) : my_(my) { Set(bytes); }
  ~PacketLimit() { Set(16 << 20); }
  void Set(int64_t bytes) {
    my_.Sql("", "SET GLOBAL max_allowed_packet = " + std::to_string(bytes));
  }

 private:
  MariadbServer& my_;
};

// Each row of doc and other by its length and checksum: the fixture's digests read whole rows,
// more than its client takes.
std::string PacketTestDigest(MariadbServer& my, const std::string& db) {
  return my.Sql(db, "SELECT id, LENGTH(body), MD5(body) FROM doc ORDER BY id") +
         my.Sql(db, "SELECT id FROM other ORDER BY id");
}

TEST(MariadbPacketLimit, ARestoreThatTheServerWouldRefuseHalfWayChangesNothing) {
  MariadbServer& my = MariadbServer::Shared();
  PacketLimit limit(my, 16 << 20);
  const std::string db = my.CreateDatabase();
  // 10 MB of NUL bytes, each escaped as \0 by mariadb-dump: a 20 MB INSERT, over 16 MB.
  my.Sql(db,
         "CREATE TABLE doc (id int PRIMARY KEY, body longblob);"
         "INSERT INTO doc VALUES (1, REPEAT(CHAR(0), 10000000)), (2, 'small');"
         "CREATE TABLE other (id int PRIMARY KEY); INSERT INTO other VALUES (1), (2), (3);");
  BackupApp app({"db"}, PacketMysqlSection(my.port(), db));
  RunResult r = app.Run({"backup", "create"}, PacketPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("max_allowed_packet"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'doc'"), std::string::npos) << r.err;
  const auto before = PacketTestDigest(my, db);

  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, PacketPassword());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("max_allowed_packet"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was changed"), std::string::npos) << r.err;
  EXPECT_EQ(PacketLines(r.err), "1") << r.err;
  EXPECT_EQ(PacketTestDigest(my, db), before);
  EXPECT_EQ(my.Sql(db, "SELECT id, LENGTH(body) FROM doc ORDER BY id"), "1\t10000000\n2\t5\n");

  // Raised as the message says: the restore goes through, every byte back.
  limit.Set(64 << 20);
  my.Sql(db, "DELETE FROM doc WHERE id = 2");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, PacketPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(PacketTestDigest(my, db), before);

  // A row over the 16M of Debian's mysqldump.cnf ([mysqldump] max_allowed_packet) is dumped
  // too: velin's tools take 1G on their side.
  my.Sql(db, "INSERT INTO doc VALUES (3, REPEAT('x', 17000000))");
  r = app.Run({"backup", "create"}, PacketPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto bigger = PacketTestDigest(my, db);
  my.Sql(db, "DELETE FROM doc");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, PacketPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(PacketTestDigest(my, db), bigger);
}

}  // namespace
}  // namespace velin::testing
