// docs/operations.md, "The server is gone", followed word for word: web1 and web2 back up files
// and an SQLite database into one encrypted repository on a real S3 server (s3rver); then, in
// an empty directory with no velin.toml anywhere above it, bash runs every line of the
// section's code blocks. Only the values of the documented `export` lines (the test server's)
// and /srv (a temporary directory) are replaced; the passphrase is typed on stdin.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPassphrase = "correct horse battery staple";

// The lines of the code blocks of docs/operations.md's "The server is gone", in order (the
// block extraction of ShippedCommandsTest, restricted to one section).
std::vector<std::string> WalkthroughLines() {
  std::ifstream in(SourceDir() + "/docs/operations.md");
  std::vector<std::string> lines;
  bool section = false, block = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) section = line == "## The server is gone";
    if (!section) continue;
    std::string t = line.substr(std::min(line.size(), line.find_first_not_of(' ')));
    if (t.rfind("```", 0) == 0) {
      block = !block;
    } else if (block) {
      lines.push_back(t);
    }
  }
  return lines;
}

// A lost server: its velin.toml and application under one temp dir, backing up into `url`.
class Server {
 public:
  Server(const S3Server& s3, const std::string& url, const std::string& host) {
    WriteFile(dir_ / "velin.toml",
              "[app]\nroot = \"shop\"\nname = \"shop\"\nhost = \"" + host +
                  "\"\n[backup]\ninclude = [\"db\", \"storage\"]\ndestination = \"" + url +
                  "\"\nencryption = \"aes-256-gcm\"\npassword_env = \"SHOP_PASSPHRASE\"\n"
                  "[storage.s3]\nendpoint = \"" +
                  s3.endpoint() +
                  "\"\npath_style = true\n[database]\ndriver = \"sqlite\"\n"
                  "path = \"var/app.db\"\n");
    WriteFile(root() + "/storage/uploads/logo.png", "logo of " + host);
    WriteFile(root() + "/storage/big.bin", RandomData(100 << 10, host == "web1" ? 1 : 2));
    fs::create_directories(root() + "/var");
    RunProgram({"sqlite3", root() + "/var/app.db",
                "CREATE TABLE orders (id INTEGER, who TEXT); INSERT INTO orders VALUES (1, '" +
                    host + "'), (2, '" + host + "');"});
  }
  std::string root() const { return dir_ / "shop"; }
  RunResult Run(const std::vector<std::string>& args) const {
    RunOptions o;
    o.cwd = dir_.path();
    o.timeout_seconds = 120;
    o.env = {{"AWS_ACCESS_KEY_ID", S3Server::kAccessKey},
             {"AWS_SECRET_ACCESS_KEY", S3Server::kSecretKey},
             {"SHOP_PASSPHRASE", kPassphrase},
             {"VELIN_CACHE_DIR", cache_.path()}};
    return RunVelin(args, o);
  }

 private:
  TempDir dir_;
  TempDir cache_;
};

// The lost server: a velin.toml of host web1 (and application `app`, when not "") that backs up
// PostgreSQL database `live` as user app into `dir`/repo, and its first backup. Whether it worked.
bool BackUpTheLostPostgres(int port, const std::string& live, const TempDir& dir,
                           const std::string& app) {
  WriteFile(dir / "velin.toml",
            "[app]\nroot = \".\"\n" + (app.empty() ? "" : "name = \"" + app + "\"\n") +
                "host = \"web1\"\n[backup]\ninclude = [\"db\"]\ndestination = \"repo\"\n"
                "[database]\ndriver = \"postgresql\"\nport = " +
                std::to_string(port) + "\nuser = \"app\"\nname = \"" + live +
                "\"\npassword_env = \"DB_PASSWORD\"\n");
  RunOptions server;
  server.cwd = dir.path();
  server.env = {{"DB_PASSWORD", kAppPassword}};
  RunResult r = RunVelin({"backup", "create"}, server);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0;
}
TEST(ServerIsGoneWalkthrough, DocsStepsRestoreFilesAndDatabaseFromAnEmptyDirectory) {
  S3Server s3;
  const std::string url = std::string("s3://") + S3Server::kBucket + "/shop";
  Server web1(s3, url, "web1");
  Server web2(s3, url, "web2");
  RunResult r = web1.Run({"backup", "init"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ((r = web1.Run({"backup", "create"})).exit_code, 0) << r.err;
  ASSERT_EQ((r = web2.Run({"backup", "create"})).exit_code, 0) << r.err;  // the newest backup
  const std::string files_before = DescribeTree(web1.root() + "/storage");
  const std::string rows_before =
      RunProgram({"sqlite3", web1.root() + "/var/app.db", "SELECT * FROM orders"}).out;
  ASSERT_NE(rows_before.find("web1"), std::string::npos) << rows_before;

  // The new machine: an empty directory, /srv inside it; no velin.toml, no config at all.
  TempDir machine;
  fs::create_directories(machine / "home");
  const std::string srv = machine / "srv";
  const std::map<std::string, std::string> values = {
      {"VELIN_REPOSITORY", url},
      {"VELIN_STORAGE_S3_ENDPOINT", s3.endpoint()},
      {"VELIN_STORAGE_S3_PATH_STYLE", "true"},
      {"AWS_ACCESS_KEY_ID", S3Server::kAccessKey},
      {"AWS_SECRET_ACCESS_KEY", S3Server::kSecretKey}};
  static const std::regex kExport("^export ([A-Z_][A-Z0-9_]*)=(.*)$");
  std::string script = "set -eu\n";
  int velin_lines = 0, exports = 0;
  for (const std::string& line : WalkthroughLines()) {
    std::smatch m;
    if (std::regex_match(line, m, kExport)) {
      auto v = values.find(m[1]);
      ASSERT_NE(v, values.end()) << "no test value for the documented " << line;
      script += "export " + std::string(m[1]) + "='" + v->second + "'\n";
      ++exports;
      continue;
    }
    if (line.rfind("velin ", 0) == 0) ++velin_lines;
    script += std::regex_replace(line, std::regex("/srv"), srv) + "\n";
  }
  ASSERT_EQ(exports, 5) << script;
  ASSERT_GE(velin_lines, 3) << "docs/operations.md lost its steps:\n" << script;

  RunOptions o;
  o.cwd = machine.path();
  o.stdin_data = std::string(kPassphrase) + "\n";
  o.timeout_seconds = 120;
  o.env = {{"PATH", fs::path(VelinBinary()).parent_path().string() + ":" +
                        std::string(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin")},
           {"HOME", machine / "home"},
           {"VELIN_CACHE_DIR", machine / "home/.cache/velin"}};
  o.unset_env = {"VELIN_CONFIG", "AWS_SESSION_TOKEN", "VELIN_PASSPHRASE", "VELIN_REPOSITORY"};
  r = RunProgram({"bash", "-c", script}, o);
  ASSERT_EQ(r.exit_code, 0) << script << "\n--- stdout\n" << r.out << "--- stderr\n" << r.err;

  // What was restored is web1's, not web2's (the newer backup), files and database.
  EXPECT_EQ(DescribeTree(srv + "/shop/storage"), files_before);
  EXPECT_EQ(RunProgram({"sqlite3", srv + "/shop/var/app.db", "SELECT * FROM orders"}).out,
            rows_before);
  // The listing showed both hosts' backups; ls showed the restored files.
  EXPECT_NE(r.out.find("web1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("web2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("uploads"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(machine / "velin.toml"));
  EXPECT_FALSE(fs::exists(srv + "/velin.toml"));
}

// Without a velin.toml: what is missing (config, passphrase, target, database) is one clear line
// with exit code 2, and a database URL with a password is refused without repeating it.
TEST(ServerIsGoneWalkthrough, WithoutConfigOneLineSaysWhatIsMissing) {
  TempDir lost;  // a server with a local encrypted repository
  WriteFile(lost / "velin.toml",
            "[app]\nroot = \"shop\"\nhost = \"web1\"\n[backup]\ninclude = [\"storage\"]\n"
            "destination = \"repo\"\nencryption = \"chacha20-poly1305\"\n"
            "password_env = \"SHOP_PASSPHRASE\"\n");
  WriteFile(lost / "shop/storage/a.txt", "a");
  RunOptions server;
  server.cwd = lost.path();
  server.env = {{"SHOP_PASSPHRASE", kPassphrase}};
  ASSERT_EQ(RunVelin({"backup", "init"}, server).exit_code, 0);
  ASSERT_EQ(RunVelin({"backup", "create"}, server).exit_code, 0);

  TempDir empty;
  RunOptions o;
  o.cwd = empty.path();
  o.unset_env = {"VELIN_CONFIG", "VELIN_PASSPHRASE", "VELIN_REPOSITORY"};
  const std::string repo = lost / "repo";
  auto expect_usage = [&](const std::vector<std::string>& args, const std::string& says,
                          RunOptions options) {
    RunResult r = RunVelin(args, options);
    EXPECT_EQ(r.exit_code, 2) << args[1] << ": " << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    return r;
  };
  expect_usage({"backup", "list"}, "--repo URL / VELIN_REPOSITORY", o);
  expect_usage({"backup", "create", "--repo", repo}, "'velin backup create' needs a velin.toml", o);
  expect_usage({"backup", "list", "--repo", repo},
               "no repository passphrase: set VELIN_PASSPHRASE or pass --password-file FILE", o);
  WriteFile(empty / "pass", kPassphrase, 0600);
  RunResult r = RunVelin({"backup", "list", "--repo", repo, "--password-file", "pass"}, o);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("web1"), std::string::npos) << r.out;

  RunOptions with = o;
  with.env = {{"VELIN_REPOSITORY", repo}, {"VELIN_PASSPHRASE", kPassphrase}};
  expect_usage({"backup", "restore", "latest"}, "pass --target DIR", with);
  r = expect_usage({"backup", "restore", "latest", "--target", "t", "--database-url",
                    "postgres://app:hunter2@127.0.0.1/shop"},
                   "--database-url holds a password", with);
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
  r = RunVelin({"backup", "verify", "latest", "--host", "web1", "--app", "shop"}, with);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(empty / "t"));
}

// The PostgreSQL form of step 4: a database restore with --database-url from an empty
// directory, the password where the client tools look (PGPASSWORD), never in the URL.
TEST(ServerIsGoneWalkthrough, PostgresDatabaseRestoresFromAUrlWithThePasswordInTheEnvironment) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string live = pg.CreateDatabase();
  pg.Sql(live,
         "CREATE TABLE orders (id int PRIMARY KEY, who text); "
         "INSERT INTO orders SELECT g, 'web1-' || g FROM generate_series(1, 50) g;");
  pg.Sql(live, "ALTER TABLE orders OWNER TO app");
  TempDir lost;
  ASSERT_TRUE(BackUpTheLostPostgres(pg.port(), live, lost, ""));

  const std::string fresh = pg.CreateDatabase();  // the new machine's empty database
  TempDir empty;
  RunOptions o;
  o.cwd = empty.path();
  o.unset_env = {"VELIN_CONFIG", "VELIN_PASSPHRASE"};
  o.env = {{"VELIN_REPOSITORY", lost / "repo"}, {"PGPASSWORD", kAppPassword}};
  RunResult r =
      RunVelin({"backup", "restore", "latest", "--host", "web1", "--app",
                lost.path().substr(lost.path().rfind('/') + 1), "--only", "db", "--database-url",
                "postgres://app@127.0.0.1:" + std::to_string(pg.port()) + "/" + fresh, "--yes"},
               o);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(pg.TableDigests(fresh), pg.TableDigests(live));
  EXPECT_EQ(pg.Sql(fresh, "SELECT count(*) FROM orders"), "50\n");
}

// Step 4 as root on a new machine where the application's user has another uid (or none yet):
// a backup keeps numeric owners, so the files come back owned by a number nobody here has. That
// was silent (exit 0, the application then could not write its own uploads); a warning now
// names the ids, an example and what to do. Owners this machine knows are not warned about.
TEST(ServerIsGoneWalkthrough, FilesOfAnOwnerThisMachineLacksAreNamedInAWarning) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root restores owners";
  uint32_t nobody = 47000;
  while (::getpwuid(nobody) != nullptr || ::getgrgid(nobody) != nullptr) ++nobody;
  BackupApp app;
  const std::string s = app.root() + "/storage";
  WriteFile(s + "/uploads/a.txt", "a");
  WriteFile(s + "/b.txt", "b");
  ASSERT_EQ(::chown((s + "/uploads").c_str(), nobody, nobody), 0);
  ASSERT_EQ(::chown((s + "/uploads/a.txt").c_str(), nobody, 0), 0);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  RunResult r = app.Run({"backup", "restore", "latest", "--target", app.path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("2 files and directories are restored with an owner this machine has no "
                       "user or group for (uid " +
                       std::to_string(nobody) + ", gid " + std::to_string(nobody) + "; e.g. " +
                       app.path("out") + "/storage/uploads"),
            std::string::npos)
      << r.err;
  struct stat st {};
  ASSERT_EQ(::stat((app.path("out") + "/storage/uploads/a.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody);  // still restored as the backup has it

  ASSERT_EQ(::chown((s + "/uploads").c_str(), 0, 0), 0);
  ASSERT_EQ(::chown((s + "/uploads/a.txt").c_str(), 0, 0), 0);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  r = app.Run({"backup", "restore", "latest", "--target", app.path("out2")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("no user or group for"), std::string::npos) << r.err;
}

// A new PostgreSQL server lacks the application's role; where the server says so (trust or
// peer authentication: a password method says only that authentication failed), velin's line
// adds how to create it, instead of the server's words alone.
TEST(ServerIsGoneWalkthrough, AMissingPostgresRoleSaysHowToCreateIt) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string role = "velin_gone_" + std::to_string(::getpid());
  BackupApp app({"db"}, "\n[database]\ndriver = \"postgresql\"\nsocket = \"" + pg.socket_dir() +
                            "\"\nport = " + std::to_string(pg.port()) + "\nuser = \"" + role +
                            "\"\nname = \"postgres\"\n");
  RunResult r = app.Run({"backup", "create"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("role '" + role +
                       "' does not exist: create it on this server first (as "
                       "its superuser: CREATE ROLE \"" +
                       role + "\" LOGIN CREATEDB PASSWORD '…';)"),
            std::string::npos)
      << r.err;
}

// Step 4 on a new PostgreSQL server, restored as its superuser into a database that does not
// exist yet: the database velin creates gets the backup database's owner, as pg_restore
// --create gives it. Before, it was postgres's, and the application's role (owner of its
// tables) could not create a table in PostgreSQL 15's `public` schema, which belongs to the
// database's owner: its next migration failed.
TEST(ServerIsGoneWalkthrough, PostgresDatabaseCreatedByTheSuperuserGetsTheBackupsOwner) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string live = pg.CreateDatabase();  // owned by app
  pg.Sql(live,
         "SET ROLE app; CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders "
         "SELECT generate_series(1, 5);");
  TempDir lost;
  ASSERT_TRUE(BackUpTheLostPostgres(pg.port(), live, lost, "shop"));

  const std::string fresh = pg.CreateDatabase();
  pg.Sql("postgres", "DROP DATABASE " + fresh);  // the new server has none yet
  TempDir empty;
  RunOptions o;
  o.cwd = empty.path();
  o.unset_env = {"VELIN_CONFIG", "VELIN_PASSPHRASE", "PGPASSWORD"};
  o.env = {{"VELIN_REPOSITORY", lost / "repo"}};
  RunResult r = RunVelin(
      {"backup", "restore", "latest", "--host", "web1", "--app", "shop", "--only", "db",
       "--database-url", "postgres://postgres@127.0.0.1:" + std::to_string(pg.port()) + "/" + fresh,
       "--yes"},
      o);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("is owned by this restore's user"), std::string::npos) << r.err;
  EXPECT_EQ(pg.Sql("postgres", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '" +
                                   fresh + "'"),
            "app\n");
  EXPECT_EQ(pg.Sql(fresh, "SELECT has_schema_privilege('app', 'public', 'CREATE')"), "t\n");
  EXPECT_EQ(pg.Sql(fresh, "SELECT count(*) FROM orders"), "5\n");
}

}  // namespace
}  // namespace velin::testing
