// Deploys and rollbacks across schema migrations, as a Laravel/Django/Rails-style app does them:
// each release holds a migration tool (bin/migrate) and its numbered migrations
// (bin/migrations/NNN.up.sql, NNN.down.sql), which it applies to and undoes on the real
// PostgreSQL fixture, keeping the level in a table (schema_migrations) as real tools do. The
// tool undoes only migrations its own release holds, as real ones do.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "support/db_servers.hpp"
#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

class RollbackMigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = PostgresServer::Shared().CreateDatabase(); }
  static PostgresServer& Pg() { return PostgresServer::Shared(); }

  ToyAppOptions MigOptions(const std::string& migrate_down, bool service = false) const {
    ToyAppOptions o;
    o.with_service = service;
    o.extra_rollback =
        "migration_status = \"bin/migrate status\"\nmigrate_down = " + migrate_down + "\n";
    return o;
  }

  // The build of version vN into app/: the toy's files, the migration tool and migrations
  // 1..n (migration K creates table tK); `broken` as in ToyApp::Build.
  void MigBuild(ToyApp& app, int n, bool broken = false) const {
    app.Build("v" + std::to_string(n), broken);
    // $P is split into words unquoted: the fixture's socket dir holds no space.
    const std::string psql = "psql -X -qtA -v ON_ERROR_STOP=1 -h " + Pg().socket_dir() + " -p " +
                             std::to_string(Pg().port()) + " -U postgres -d " + db_;
    WriteFile(app.app() + "/bin/migrate",
              "#!/bin/sh\nset -e\nhere=$(dirname \"$(readlink -f \"$0\")\")\nP=\"" + psql +
                  "\"\n"
                  "$P -c 'CREATE TABLE IF NOT EXISTS schema_migrations (level int PRIMARY KEY)' "
                  ">/dev/null 2>&1\n"
                  "level() { $P -c 'SELECT coalesce(max(level), 0) FROM schema_migrations'; }\n"
                  "case \"$1\" in\n"
                  "status) level ;;\n"
                  "up) for f in \"$here\"/migrations/*.up.sql; do\n"
                  "  n=$(expr \"$(basename \"$f\" .up.sql)\" + 0)\n"
                  "  if [ \"$n\" -gt \"$(level)\" ]; then\n"
                  "    $P -1 -f \"$f\" -c \"INSERT INTO schema_migrations VALUES ($n)\"; fi\n"
                  "done ;;\n"
                  "down) while [ \"$(level)\" -gt \"$2\" ]; do\n"
                  "  n=$(level); f=$(printf '%s/migrations/%03d.down.sql' \"$here\" \"$n\")\n"
                  "  if [ ! -f \"$f\" ]; then echo \"no down migration $n in $here\" >&2; exit 1; "
                  "fi\n"
                  "  $P -1 -f \"$f\" -c \"DELETE FROM schema_migrations WHERE level = $n\"\n"
                  "done ;;\n"
                  "esac\n",
              0755);
    for (int k = 1; k <= n; ++k) {
      char stem[16];
      std::snprintf(stem, sizeof stem, "%03d", k);
      const std::string t = "t" + std::to_string(k);
      WriteFile(app.app() + "/bin/migrations/" + stem + ".up.sql",
                "CREATE TABLE " + t + " (id int);\n");
      WriteFile(app.app() + "/bin/migrations/" + stem + ".down.sql", "DROP TABLE " + t + ";\n");
    }
  }

  // Runs the live build's migrations up (a deploy's `migrate` step).
  static void MigUp(ToyApp& app, const std::string& tool = "bin/migrate") {
    RunOptions options;
    options.cwd = app.app();
    RunResult r = RunProgram({"sh", "-c", tool + " up"}, options);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  std::string MigLevel() const {
    std::string out = Pg().Sql(db_, "SELECT coalesce(max(level), 0) FROM schema_migrations");
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  bool MigHasTable(const std::string& table) const {
    return Pg().Sql(db_, "SELECT count(*) FROM pg_tables WHERE tablename = '" + table + "'") ==
           "1\n";
  }

  static std::string MigRecordedLevel(ToyApp& app, const std::string& version) {
    auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
    for (const auto& v : doc["versions"]) {
      if (v["name"] == version) return v["schema_level"];
    }
    return "?";
  }

  // v1 live at level 1, v2 live at level 2: each made and switched to once its migrations ran
  // (their levels are right whatever velin records when).
  void MigTwoVersions(ToyApp& app) const {
    MigBuild(app, 1);
    MigUp(app);
    ASSERT_EQ(app.Velin({"rollback", "create-version", "v1"}).exit_code, 0);
    ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
    MigBuild(app, 2);
    MigUp(app);
    ASSERT_EQ(app.Velin({"rollback", "create-version", "v2"}).exit_code, 0);
    ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
    ASSERT_EQ(MigLevel(), "2");
  }

  std::string db_;
};

const char* kMigDownFromLeft = "'cd \"$VELIN_FROM_RELEASE_DIR\" && bin/migrate down {level}'";

// contrib/ci/deploy.sh's order: create-version, to-version, then the deploy migrates up.
// create-version recorded each version at its predecessor's level, and a switch back from v3 to
// v2 migrated down to 1: v2's own table dropped with its rows, exit 0. The transaction's begin
// and commit now record the level each version ran on.
TEST_F(RollbackMigrationsTest, ATransactionRecordsTheLevelItsDeployMigratedTo) {
  ToyApp app(MigOptions(kMigDownFromLeft));
  MigBuild(app, 1);
  MigUp(app);
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  for (int n = 2; n <= 3; ++n) {
    const std::string v = "v" + std::to_string(n);
    RunResult r = app.Velin({"rollback", "begin", "--timeout", "10m"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    MigBuild(app, n);
    ASSERT_EQ(app.Velin({"rollback", "create-version", v}).exit_code, 0);
    ASSERT_EQ(app.Velin({"rollback", "to-version", v}).exit_code, 0);
    MigUp(app, "current/bin/migrate");
    r = app.Velin({"rollback", "commit"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(MigLevel(), std::to_string(n));
  }
  EXPECT_EQ(MigRecordedLevel(app, "v2"), "2");
  EXPECT_EQ(MigRecordedLevel(app, "v3"), "3");
  RunResult list = app.Velin({"rollback", "list"});
  EXPECT_NE(list.out.find("[schema level 2]"), std::string::npos) << list.out;
  Pg().Sql(db_, "INSERT INTO t2 VALUES (42)");  // written while v2 and v3 ran

  RunResult r = app.Velin({"rollback", "to-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("migrated down to level 2"), std::string::npos) << r.out;
  EXPECT_EQ(MigLevel(), "2");
  EXPECT_FALSE(MigHasTable("t3"));
  ASSERT_TRUE(MigHasTable("t2"));
  EXPECT_EQ(Pg().Sql(db_, "SELECT id FROM t2"), "42\n");
}

// The watchdog's rollback goes to the base, the version live at begin: its level is the one it
// ran on (begin records it), not the one its create-version saw before its migrations.
TEST_F(RollbackMigrationsTest, TheWatchdogsRollbackMigratesDownToTheLevelTheBaseRanOn) {
  ToyApp app(MigOptions(kMigDownFromLeft));
  ::unlink((app.app() + "/.env").c_str());  // no live config: the base is v2 itself
  MigBuild(app, 1);
  MigUp(app);
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  MigBuild(app, 2);  // v2 made before its migration ran: recorded at level 1
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v2"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  MigUp(app, "current/bin/migrate");
  ASSERT_EQ(MigRecordedLevel(app, "v2"), "1");

  RunResult r = app.Velin({"rollback", "begin", "--timeout", "10m"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("Schema level of v2 recorded: 2 (was 1)"), std::string::npos)
      << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("(base v2)"), std::string::npos) << r.out << r.err;
  MigBuild(app, 3);
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v3"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v3"}).exit_code, 0);
  MigUp(app, "current/bin/migrate");
  Pg().Sql(db_, "INSERT INTO t2 VALUES (7)");
  // A later command finds the deadline passed and rolls back, as the watchdog does.
  r = app.Velin({"rollback", "status"}, ClockAhead(std::chrono::minutes(11)));
  ASSERT_TRUE(app.WaitForTransactionEnd(30)) << r.out << r.err;
  EXPECT_EQ(app.Current(), "v2");
  EXPECT_EQ(MigLevel(), "2");
  ASSERT_TRUE(MigHasTable("t2"));
  EXPECT_EQ(Pg().Sql(db_, "SELECT id FROM t2"), "7\n");
}

// migrate_down runs once `current` is the older code, which lacks the newer down migrations:
// VELIN_FROM_RELEASE_DIR names the release being left, whose tool has them.
TEST_F(RollbackMigrationsTest, MigrateDownFindsTheReleaseBeingLeft) {
  ToyApp app(MigOptions("'\"$VELIN_FROM_RELEASE_DIR\"/bin/migrate down {level}'"));
  MigTwoVersions(app);
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(MigLevel(), "1");
  EXPECT_FALSE(MigHasTable("t2"));
  EXPECT_TRUE(MigHasTable("t1"));
}

// The old release's tool cannot undo migration 2 and fails: the switch goes back to v2, on
// level 2, and says why.
TEST_F(RollbackMigrationsTest, MigrateDownWithTheOldCodesToolFailsAndGoesBack) {
  ToyApp app(MigOptions("\"current/bin/migrate down {level}\""));
  MigTwoVersions(app);
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("no down migration 2"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v2");
  EXPECT_EQ(MigLevel(), "2");
}

// A migrate_down that exits 0 without reaching the level (it did nothing) was taken for done:
// the old code started on the newer schema, exit 0. migration_status is asked again.
TEST_F(RollbackMigrationsTest, AMigrateDownThatDidNotReachTheLevelFailsTheSwitch) {
  ToyApp app(MigOptions("\"true\""));
  MigTwoVersions(app);
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("rollback.migrate_down ended with exit status 0, but "
                       "rollback.migration_status now says 2, not 1"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("switched back to v2"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v2");
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}).out);
  EXPECT_NE(doc["history"].back()["detail"].get<std::string>().find("now says 2, not 1"),
            std::string::npos)
      << doc.dump();
}

// migrate_down ran, then the old code failed its health check: the switch back starts v2 on
// level 1 (velin never migrates up), and says so instead of only "switched back (healthy)".
TEST_F(RollbackMigrationsTest, ASwitchBackAfterMigrateDownSaysTheSchemaStaysDown) {
  ToyApp app(MigOptions(kMigDownFromLeft, /*service=*/true));
  MigBuild(app, 1, /*broken=*/true);
  MigUp(app);
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1"}).exit_code, 0);
  MigBuild(app, 2);
  MigUp(app);
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v2"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_EQ(app.Current(), "v2");
  EXPECT_EQ(MigLevel(), "1");
  const std::string says =
      "the database stays at schema level 1 (v2 ran on 2): velin does not migrate up, run the "
      "migrations of v2";
  EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}).out);
  EXPECT_NE(doc["history"].back()["outcome"].get<std::string>().find(says), std::string::npos)
      << doc.dump();
}

// Levels that are not numbers (alembic's revision hashes) were compared as text: going back
// from "1975ea83b712" to "ae1027a6acg" skipped migrate_down without a word, exit 0.
TEST(RollbackMigrationLevelsTest, GoingBackPastARevisionHashMigratesDown) {
  ToyApp app(NoService());
  WriteFile(app.config(), ReadFileOrDie(app.config()) +
                              // a tool's warning on stderr is not the level
                              "migration_status = \"cat level; echo 'PHP Deprecated: x' >&2\"\n"
                              "migrate_down = \"echo {level} > level && echo ran >> downs\"\n");
  WriteFile(app.app() + "/level", "ae1027a6acg (head)\n");
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  WriteFile(app.app() + "/level", "1975ea83b712 (head)\n");
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  EXPECT_NE(::access((app.app() + "/downs").c_str(), F_OK), 0);  // forward: never down

  RunResult r = app.Velin({"rollback", "to-version", "v1", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.out.find("migrate_down: to level ae1027a6acg (head) (live level 1975ea83b712 (head))"),
      std::string::npos)
      << r.out;
  r = app.Velin({"rollback", "to-version", "v1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/level"), "ae1027a6acg (head)\n");
  EXPECT_EQ(ReadFileOrDie(app.app() + "/downs"), "ran\n");
  // Forward again to v2: velin does not migrate up (the deploy does), nor down.
  r = app.Velin({"rollback", "to-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/downs"), "ran\n");
}

// A migration_status that prints nothing (a wrong command, a tool printing its level on stderr)
// recorded "" without a word: no switch back to that version ever ran migrate_down. One that
// fails says why (its last line), not only its exit status.
TEST(RollbackMigrationLevelsTest, ALevelThatCannotBeReadIsSaid) {
  ToyApp app(NoService());
  const std::string toml = ReadFileOrDie(app.config());
  WriteFile(app.config(), toml + "migration_status = \"echo 12 >&2\"\n");
  RunResult r = app.BuildVersion("v1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("rollback.migration_status printed nothing: v1 has no schema level, and a "
                       "switch back to it will not run migrate_down"),
            std::string::npos)
      << r.err;
  WriteFile(app.config(), toml +
                              "migration_status = \"echo 'could not connect to server' >&2; "
                              "exit 2\"\n");
  r = app.BuildVersion("v2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("rollback.migration_status command failed (exit code 2): could not connect "
                       "to server"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace velin::testing
