// The PostgreSQL driver against a real PostgreSQL 15 server (tests/support/db_servers.hpp).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <thread>

#include "support/db_servers.hpp"
#include "support/db_streams.hpp"
#include "support/test_support.hpp"
#include "velin/db/driver.hpp"

namespace velin::testing {
namespace {

// True while a pg_dump/pg_restore started by this process is still there (the shared MariaDB
// server is a child of the test process too, hence the filter).
bool HasPgToolChild() {
  for (int pid : ChildPids(::getpid())) {
    if (ProcCmdline(pid).find("pg_") != std::string::npos) return true;
  }
  return false;
}

class PostgresDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = pg().CreateDatabase();
    pg().Sql(db_,
             "SET ROLE app;"
             "CREATE TABLE users (id int PRIMARY KEY, name text, avatar bytea);"
             "CREATE SCHEMA shop; CREATE TABLE shop.orders (id serial PRIMARY KEY, "
             "user_id int REFERENCES users(id), note text, placed timestamptz);"
             "INSERT INTO users VALUES (1, 'ada', '\\x00ff10'), (2, E'line\\nbreak', NULL), "
             "(3, 'zoë', ''); "
             "INSERT INTO shop.orders (user_id, note, placed) SELECT 1 + i % 3, 'order ' || i, "
             "'2026-01-01'::timestamptz + i * interval '1 hour' FROM generate_series(1, 500) i;");
  }
  static PostgresServer& pg() { return PostgresServer::Shared(); }
  std::unique_ptr<db::Driver> Open(const db::ConnectionOptions& o) {
    auto d = db::OpenDriver(o);
    EXPECT_TRUE(d) << d.error().message;
    return std::move(*d);
  }
  // Drops `target` once the sessions the digests' psql opened there as the superuser are gone:
  // a backend lingers a moment after psql exits, and the driver's role may not end it
  // (DROP DATABASE … WITH (FORCE) needs that right). A CI run under load failed on it once.
  static ::testing::AssertionResult Dropped(db::Driver& d, const std::string& target) {
    for (int i = 0; i < 100; ++i) {
      if (pg().Sql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + target +
                                   "'") == "0\n") {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Status s = d.DropDatabase(target);
    if (s) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << s.error().message;
  }
  std::string db_;
};

TEST_F(PostgresDriverTest, PreflightReportsVersionSizeAndTables) {
  auto d = Open(pg().Options(db_));
  Result<db::DatabaseInfo> info = d->Preflight();
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->server_version.substr(0, 3), "15.");
  EXPECT_EQ(info->dump_tool, "pg_dump");
  EXPECT_GT(info->size_bytes, 1'000'000);
  ASSERT_EQ(info->tables.size(), 2u);
  EXPECT_EQ(info->tables[0].name, "public.users");
  EXPECT_EQ(info->tables[1].name, "shop.orders");
}

TEST_F(PostgresDriverTest, RestoreAfterDamageGivesBackEveryTableExactly) {
  auto d = Open(pg().Options(db_));
  auto before = pg().TableDigests(db_);
  std::string dump;
  Result<db::DatabaseInfo> info = d->Dump(StringSink(dump));
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(dump.substr(0, 5), "PGDMP");
  std::vector<db::TableRows> want = {{"public.users", 3}, {"shop.orders", 500}};
  EXPECT_EQ(info->tables, want);

  pg().Sql(db_,
           "DELETE FROM shop.orders WHERE id % 2 = 0; UPDATE users SET name = 'x';"
           "DROP TABLE shop.orders");
  ASSERT_NE(pg().TableDigests(db_), before);
  auto s = d->Restore(StringSource(dump), "");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(pg().TableDigests(db_), before);
  auto counts = d->CountRows("");
  ASSERT_TRUE(counts);
  EXPECT_EQ(*counts, want);
}

TEST_F(PostgresDriverTest, RestoresIntoAnotherDatabaseCreatingIt) {
  auto d = Open(pg().Options(db_));
  std::string dump;
  ASSERT_TRUE(d->Dump(StringSink(dump)));
  std::string other = db_ + "_copy";
  auto s = d->Restore(StringSource(dump), other);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(pg().TableDigests(other), pg().TableDigests(db_));
  EXPECT_TRUE(Dropped(*d, other));
}

TEST_F(PostgresDriverTest, RowCountsDescribeTheDumpsSnapshotNotLaterWrites) {
  auto d = Open(pg().Options(db_));
  std::string dump;
  bool inserted = false;
  auto sink = [&](std::string_view chunk) -> Status {
    if (!inserted) {  // pg_dump is running in its snapshot: this write is after it
      pg().Sql(db_, "INSERT INTO shop.orders (user_id, note) VALUES (1, 'late')");
      inserted = true;
    }
    dump.append(chunk);
    return Ok();
  };
  Result<db::DatabaseInfo> info = d->Dump(sink);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->tables[1].rows, 500);
  std::string copy = db_ + "_snap";
  ASSERT_TRUE(d->Restore(StringSource(dump), copy));
  auto restored = d->CountRows(copy);
  ASSERT_TRUE(restored);
  EXPECT_TRUE(db::CompareRowCounts(info->tables, *restored).empty());
  EXPECT_EQ(pg().Sql(db_, "SELECT count(*) FROM shop.orders"), "501\n");
  EXPECT_TRUE(Dropped(*d, copy));
}

// The rows are counted off the stream; a stream the reader does not understand (here
// compressed) is counted with count(*) in the same snapshot instead, and the version comes from
// `pg_dump --version`.
TEST_F(PostgresDriverTest, RowCountsFallBackToCountWhenTheStreamIsNotReadable) {
  TempDir tools;
  WriteFile(tools / "pg_dump", "#!/bin/sh\nexec /usr/bin/pg_dump \"$@\" --compress=6\n", 0755);
  db::ConnectionOptions o = pg().Options(db_);
  o.tool_dir = tools.path();
  std::string dump;
  Result<db::DatabaseInfo> info = Open(o)->Dump(StringSink(dump));
  ASSERT_TRUE(info) << info.error().message;
  std::vector<db::TableRows> want = {{"public.users", 3}, {"shop.orders", 500}};
  EXPECT_EQ(info->tables, want);
  EXPECT_EQ(info->dump_tool_version.substr(0, 3), "15.");
  std::string plain;
  Result<db::DatabaseInfo> streamed = Open(pg().Options(db_))->Dump(StringSink(plain));
  ASSERT_TRUE(streamed) << streamed.error().message;
  EXPECT_EQ(streamed->tables, want);
  EXPECT_EQ(streamed->dump_tool_version, info->dump_tool_version);
  EXPECT_LT(dump.size(), plain.size()) << "the wrapper did not compress";
}

TEST_F(PostgresDriverTest, AFailedRestoreLeavesTheDatabaseAsItWas) {
  auto d = Open(pg().Options(db_));
  std::string dump;
  ASSERT_TRUE(d->Dump(StringSink(dump)));
  pg().Sql(db_, "DELETE FROM shop.orders WHERE id > 10");
  auto damaged_state = pg().TableDigests(db_);
  std::string truncated = dump.substr(0, dump.size() * 2 / 3);
  auto s = d->Restore(StringSource(truncated), "");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("database '" + db_ + "'"), std::string::npos);
  EXPECT_NE(s.error().message.find("pg_restore failed"), std::string::npos) << s.error().message;
  EXPECT_EQ(pg().TableDigests(db_), damaged_state);
}

TEST_F(PostgresDriverTest, ADamagedChunkHalfwayStopsTheRestoreAndChangesNothing) {
  auto d = Open(pg().Options(db_));
  std::string dump;
  ASSERT_TRUE(d->Dump(StringSink(dump)));
  pg().Sql(db_, "DELETE FROM shop.orders WHERE id > 10");
  auto state = pg().TableDigests(db_);
  auto s = d->Restore(
      [&](const db::ByteSink& sink) -> Status {
        VELIN_TRY(sink(std::string_view(dump).substr(0, dump.size() / 2)));
        return DamageError("chunk 3f2a: hash mismatch");
      },
      "");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ExitCode::kDamage);
  EXPECT_NE(s.error().message.find("chunk 3f2a: hash mismatch"), std::string::npos);
  EXPECT_EQ(pg().TableDigests(db_), state);
  EXPECT_FALSE(HasPgToolChild());
}

TEST_F(PostgresDriverTest, ABadPasswordIsOneClearLineWithoutThePassword) {
  db::ConnectionOptions o = pg().Options(db_);
  o.password = "wrong-password-123";
  auto d = Open(o);
  auto r = d->Dump([](std::string_view) { return Ok(); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "database '" + db_ +
                                   "' at 127.0.0.1:" + std::to_string(pg().port()) +
                                   ": password authentication failed for user 'app'");
}

TEST_F(PostgresDriverTest, AnUnreachableServerIsNamed) {
  db::ConnectionOptions o = pg().Options(db_);
  o.port = FreeLoopbackPort();
  auto r = Open(o)->Preflight();
  ASSERT_FALSE(r);
  EXPECT_NE(
      r.error().message.find("at 127.0.0.1:" + std::to_string(o.port) + ": connection refused"),
      std::string::npos)
      << r.error().message;
}

TEST_F(PostgresDriverTest, AMissingOrTooOldDumpToolIsNamed) {
  TempDir tools;
  auto d = Open(pg().Options(db_));
  {
    ScopedPath path(tools.path());
    auto r = d->Dump([](std::string_view) { return Ok(); });
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("pg_dump not found"), std::string::npos) << r.error().message;
  }
  WriteFile(tools / "pg_dump", "#!/bin/sh\necho 'pg_dump (PostgreSQL) 13.4'\n", 0755);
  db::ConnectionOptions o = pg().Options(db_);
  o.tool_dir = tools.path();
  auto r = Open(o)->Preflight();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("pg_dump 13.4"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("cannot dump a PostgreSQL 15 server"), std::string::npos);
  // The dump checks the version beside the dump: a too-old tool that even "succeeds" is refused.
  auto dumped = Open(o)->Dump([](std::string_view) { return Ok(); });
  ASSERT_FALSE(dumped);
  EXPECT_NE(dumped.error().message.find("cannot dump a PostgreSQL 15 server"), std::string::npos)
      << dumped.error().message;
}

TEST_F(PostgresDriverTest, ADumpToolKilledOrFailingMidStreamFailsTheDump) {
  TempDir tools;
  WriteFile(tools / "pg_dump",
            "#!/bin/sh\n[ \"$1\" = --version ] && exec /usr/bin/pg_dump --version\n"
            "printf 'PGDMP partial'; kill -9 $$\n",
            0755);
  db::ConnectionOptions o = pg().Options(db_);
  o.tool_dir = tools.path();
  std::string got;
  auto r = Open(o)->Dump(StringSink(got));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("pg_dump failed (killed by signal 9"), std::string::npos)
      << r.error().message;
  // A real failure half way: a table app may not read.
  pg().Sql(db_, "CREATE TABLE zz_secret (id int); INSERT INTO zz_secret VALUES (1)");
  auto d = Open(pg().Options(db_));
  r = d->Dump([](std::string_view) { return Ok(); });
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("permission denied"), std::string::npos) << r.error().message;
}

// A user whose language is German, on a server that speaks German: pg_dump's own words stay
// English (LANGUAGE=en), so the line that says "error" is the one quoted, not pg_dump's last
// ("pg_dump: Detail: Anfrage war: LOCK TABLE ...").
TEST_F(PostgresDriverTest, AToolsErrorIsFoundUnderAGermanLocale) {
  try {
    pg().Sql(db_, "ALTER DATABASE " + db_ + " SET lc_messages = 'de_DE.UTF-8'");
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no de_DE.UTF-8 locale (scripts/deps/locale.sh makes it): " << e.what();
  }
  pg().Sql(db_, "CREATE TABLE zz_secret (id int); INSERT INTO zz_secret VALUES (1)");
  struct GermanUser {
    std::map<std::string, std::optional<std::string>> old;
    GermanUser() {
      for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"}) {
        const char* value = ::getenv(name);
        old[name] = value == nullptr ? std::nullopt : std::optional<std::string>(value);
      }
      ::unsetenv("LC_ALL");
      ::setenv("LC_MESSAGES", "de_DE.UTF-8", 1);
      ::setenv("LANG", "de_DE.UTF-8", 1);
      ::setenv("LANGUAGE", "de", 1);
    }
    ~GermanUser() {
      for (const auto& [name, value] : old) {
        if (value) ::setenv(name.c_str(), value->c_str(), 1);
        if (!value) ::unsetenv(name.c_str());
      }
    }
  } german;
  auto r = Open(pg().Options(db_))->Dump([](std::string_view) { return Ok(); });
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("query failed: FEHLER:  "), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("zz_secret"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("Anfrage"), std::string::npos) << r.error().message;
}

TEST_F(PostgresDriverTest, ASinkErrorSuchAsDiskFullStopsPgDump) {
  pg().Sql(db_,
           "INSERT INTO shop.orders (user_id, note) SELECT 1, repeat('x', 500) "
           "FROM generate_series(1, 20000)");
  auto d = Open(pg().Options(db_));
  int calls = 0;
  auto r = d->Dump([&](std::string_view) -> Status {
    if (++calls == 2) return ErrnoError("writing pack", ENOSPC);
    return Ok();
  });
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("No space left on device"), std::string::npos);
  EXPECT_EQ(r.error().sys_errno, ENOSPC);
  EXPECT_FALSE(HasPgToolChild());
}

TEST_F(PostgresDriverTest, ThePasswordNeverAppearsOnAChildsCommandLine) {
  // Enough data that pg_dump is still running (blocked on the pipe) when the sink looks.
  pg().Sql(db_,
           "INSERT INTO shop.orders (user_id, note) SELECT 1, repeat('x', 500) "
           "FROM generate_series(1, 20000)");
  auto d = Open(pg().Options(db_));
  std::vector<std::string> seen;
  auto r = d->Dump([&](std::string_view) -> Status {
    for (int pid : ChildPids(::getpid())) seen.push_back(ProcCmdline(pid));
    return Ok();
  });
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_FALSE(seen.empty());
  bool saw_pg_dump = false;
  for (const std::string& cmdline : seen) {
    EXPECT_EQ(cmdline.find(kAppPassword), std::string::npos) << cmdline;
    saw_pg_dump = saw_pg_dump || cmdline.find("pg_dump") != std::string::npos;
  }
  EXPECT_TRUE(saw_pg_dump);
}

// The size of the pipe on the stdin of a child of this process whose command line holds
// `tool`, or 0 when there is none.
int ChildStdinPipeSize(const std::string& tool) {
  for (int pid : ChildPids(::getpid())) {
    if (ProcCmdline(pid).find(tool) == std::string::npos) continue;
    const std::string in = "/proc/" + std::to_string(pid) + "/fd/0";
    const int fd = ::open(in.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    const int size = ::fcntl(fd, F_GETPIPE_SZ);
    ::close(fd);
    if (size > 0) return size;
  }
  return 0;
}

// pg_dump writes and pg_restore reads through 1 MiB stdio buffers (coreutils' stdbuf) instead
// of a page a system call, pg_restore from a 1 MiB pipe; without stdbuf in PATH both run as they
// are, and the database comes back the same.
TEST_F(PostgresDriverTest, TheToolsUseLargeBuffersAndNeedNoStdbuf) {
  pg().Sql(db_,
           "SET ROLE app; INSERT INTO shop.orders (user_id, note) SELECT 1, repeat('x', 190) "
           "FROM generate_series(1, 30000)");
  const auto before = pg().TableDigests(db_);
  auto d = Open(pg().Options(db_));
  std::string dump;
  bool dump_buffered = false, restore_buffered = false;
  int restore_pipe = 0;
  auto info = d->Dump([&](std::string_view chunk) -> Status {
    dump.append(chunk);
    dump_buffered = dump_buffered || ChildHasStdbuf("pg_dump", "_STDBUF_O=1048576");
    return Ok();
  });
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_TRUE(dump_buffered);
  const std::string copy = db_ + "_buffered";
  auto s = d->Restore(
      [&](const db::ByteSink& sink) -> Status {
        for (size_t pos = 0; pos < dump.size(); pos += 100'000) {
          restore_buffered = restore_buffered || ChildHasStdbuf("pg_restore", "_STDBUF_I=1048576");
          restore_pipe = std::max(restore_pipe, ChildStdinPipeSize("pg_restore"));
          VELIN_TRY(sink(std::string_view(dump).substr(pos, 100'000)));
        }
        return Ok();
      },
      copy);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(restore_buffered);
  EXPECT_EQ(restore_pipe, 1 << 20);  // the pipe into the tool holds 1 MiB, not 64 KiB
  EXPECT_EQ(pg().TableDigests(copy), before);
  EXPECT_TRUE(Dropped(*d, copy));

  // PATH holds the two tools alone (links to them), so stdbuf is not found.
  TempDir tools;
  ASSERT_TRUE(LinkTools(tools.path(), {"pg_dump", "pg_restore"}));
  const std::string plain_copy = db_ + "_plain";
  {
    ScopedPath path(tools.path());
    std::string plain;
    auto again = d->Dump(StringSink(plain));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->tables, info->tables);
    auto restored = d->Restore(StringSource(plain), plain_copy);
    ASSERT_TRUE(restored) << restored.error().message;
  }
  EXPECT_EQ(pg().TableDigests(plain_copy), before);
  EXPECT_TRUE(Dropped(*d, plain_copy));
}

// A stdbuf that cannot run a program (this one fails as GNU's does without its libstdbuf.so)
// is tried once and left out: the dump and the restore run as they are and succeed.
TEST_F(PostgresDriverTest, AStdbufThatDoesNotRunIsLeftOut) {
  TempDir tools;
  ASSERT_TRUE(LinkTools(tools.path(), {"pg_dump", "pg_restore"}));
  WriteFile(tools / "stdbuf",
            "#!/bin/sh\necho tried >> '" + (tools / "tries") +
                "'\necho \"stdbuf: failed to find 'libstdbuf.so'\" >&2\nexit 125\n",
            0755);
  const auto before = pg().TableDigests(db_);
  auto d = Open(pg().Options(db_));
  const std::string copy = db_ + "_no_stdbuf";
  {
    ScopedPath path(tools.path());
    std::string dump;
    auto info = d->Dump(StringSink(dump));
    ASSERT_TRUE(info) << info.error().message;
    auto restored = d->Restore(StringSource(dump), copy);
    ASSERT_TRUE(restored) << restored.error().message;
    auto again = d->Dump(StringSink(dump));
    ASSERT_TRUE(again) << again.error().message;
  }
  EXPECT_EQ(pg().TableDigests(copy), before);
  EXPECT_TRUE(Dropped(*d, copy));
  EXPECT_EQ(ReadFileOrDie(tools / "tries"), "tried\n");  // once for the process, not per tool
}

TEST_F(PostgresDriverTest, TemporaryDatabasesAreDroppedByCleanupEvenIfForgotten) {
  std::string temp;
  {
    auto d = Open(pg().Options(db_));
    auto name = d->CreateTemporaryDatabase();
    ASSERT_TRUE(name) << name.error().message;
    temp = *name;
    EXPECT_EQ(
        pg().Sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + temp + "'"),
        "1\n");
    EXPECT_TRUE(d->Check(temp));
  }
  EXPECT_EQ(pg().Sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + temp + "'"),
            "0\n");
}

}  // namespace
}  // namespace velin::testing
