#include "support/db_servers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/test_support.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

std::string TmpBase() {
  const char* t = std::getenv("TMPDIR");
  return t != nullptr && *t != '\0' ? t : "/tmp";
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = TmpBase() + "/" + prefix + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

RunOptions Timeout(int seconds) {
  RunOptions o;
  o.timeout_seconds = seconds;
  return o;
}

RunResult MustRun(const std::vector<std::string>& argv, const std::string& what) {
  RunResult r = RunProgram(argv, Timeout(120));
  if (r.exit_code != 0) {
    throw std::runtime_error(what + " failed (exit " + std::to_string(r.exit_code) + "): " + r.err +
                             r.out);
  }
  return r;
}

std::string Tail(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

// Builds ${TMPDIR}/velin-test-templates/<name> once per machine with `build(dir)`, under an
// exclusive lock so parallel test processes wait for one builder; returns its path.
template <typename Build>
std::string EnsureTemplate(const std::string& name, Build build) {
  std::string base = TmpBase() + "/velin-test-templates";
  fs::create_directories(base);
  std::string path = base + "/" + name;
  int lock = ::open((path + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + path);
  try {
    if (!fs::exists(path)) {
      std::string tmp = path + ".tmp";
      fs::remove_all(tmp);
      build(tmp);
      fs::rename(tmp, path);
    }
  } catch (...) {
    ::close(lock);
    throw;
  }
  ::close(lock);
  return path;
}

bool WaitFor(const std::function<bool()>& done, int seconds) {
  auto deadline = steady_clock::now() + std::chrono::seconds(seconds);
  while (steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

std::string UniqueDbName() {
  static std::atomic<int> counter{0};
  return "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin/";

// How the application's user reaches database `db` of a server on 127.0.0.1:`port`.
db::ConnectionOptions AppUserOptions(const char* driver, int port, const std::string& db) {
  db::ConnectionOptions o;
  o.driver = driver;
  o.host = "127.0.0.1";
  o.port = port;
  o.user = kAppUser;
  o.name = db;
  o.password = kAppPassword;
  return o;
}

}  // namespace

// ---- PostgreSQL ---------------------------------------------------------------------------

PostgresServer& PostgresServer::Shared() {
  static std::unique_ptr<PostgresServer> server;
  if (!server) {
    server.reset(new PostgresServer());
    server->Start();
  }
  return *server;
}

void PostgresServer::Start() {
  std::string tmpl = EnsureTemplate("pg15", [](const std::string& dir) {
    fs::create_directories(dir);
    MustRun({"chown", "postgres", dir}, "chown");
    MustRun({"runuser", "-u", "postgres", "--", std::string(kPgBin) + "initdb", "-D", dir, "-A",
             "trust", "-U", "postgres", "--no-sync"},
            "initdb");
    // The superuser over the socket and over TCP without password (the fixture's own SQL);
    // everybody else over TCP with a password, as in production.
    WriteFile(dir + "/pg_hba.conf",
              "local all all trust\nhost all postgres 127.0.0.1/32 trust\n"
              "host all all 127.0.0.1/32 scram-sha-256\n",
              0600);
    MustRun({"chown", "postgres", dir + "/pg_hba.conf"}, "chown");
  });
  dir_ = MakeTempDir("velin-pg-");
  MustRun({"chown", "postgres", dir_}, "chown");
  fs::permissions(dir_, fs::perms(0755));
  MustRun({"cp", "-a", tmpl, dir_ + "/pg"}, "copying the cluster template");
  for (int attempt = 0; attempt < 3 && !running_; ++attempt) {
    port_ = FreeLoopbackPort();
    RunResult r =
        RunProgram({"runuser", "-u", "postgres", "--", std::string(kPgBin) + "pg_ctl", "-D",
                    dir_ + "/pg", "-l", dir_ + "/pg.log", "-w", "-t", "60", "-o",
                    "-p " + std::to_string(port_) + " -k " + dir_ +
                        " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                        " -c full_page_writes=off",
                    "start"},
                   Timeout(90));
    running_ = r.exit_code == 0;
  }
  if (!running_) throw std::runtime_error("PostgreSQL did not start: " + Tail(dir_ + "/pg.log"));
  Sql("postgres",
      std::string("CREATE ROLE ") + kAppUser + " LOGIN CREATEDB PASSWORD '" + kAppPassword + "'");
}

PostgresServer::~PostgresServer() {
  if (running_) {
    RunProgram({"runuser", "-u", "postgres", "--", std::string(kPgBin) + "pg_ctl", "-D",
                dir_ + "/pg", "-m", "fast", "-w", "stop"},
               Timeout(60));
    std::string pid_file = dir_ + "/pg/postmaster.pid";
    if (!WaitFor([&] { return !fs::exists(pid_file); }, 20)) {
      std::ifstream f(pid_file);
      int pid = 0;
      if (f >> pid && pid > 0) ::kill(pid, SIGKILL);
      WaitFor([&] { return !fs::exists(pid_file); }, 5);
    }
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string PostgresServer::CreateDatabase() {
  std::string name = UniqueDbName();
  Sql("postgres", "CREATE DATABASE " + name + " OWNER " + kAppUser);
  return name;
}

std::string PostgresServer::Sql(const std::string& db, const std::string& sql) {
  RunResult r = RunProgram({"psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", dir_, "-p",
                            std::to_string(port_), "-U", "postgres", "-d", db, "-c", sql},
                           Timeout(300));
  if (r.exit_code != 0) throw std::runtime_error("psql: " + r.err + " in: " + sql);
  return r.out;
}

db::ConnectionOptions PostgresServer::Options(const std::string& db) const {
  return AppUserOptions("postgresql", port_, db);
}

std::map<std::string, std::string> PostgresServer::TableDigests(const std::string& db) {
  std::map<std::string, std::string> out;
  std::istringstream tables(
      Sql(db,
          "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
          "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"));
  for (std::string t; std::getline(tables, t);) {
    out[t] = Sql(db,
                 "SELECT md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) "
                 "FROM ONLY " +
                     t + " r");
  }
  return out;
}

// ---- MariaDB ------------------------------------------------------------------------------

namespace {

std::vector<std::string> MariadbServerFlags() {
  return {"--innodb-log-file-size=4M", "--innodb-data-file-path=ibdata1:4M:autoextend",
          "--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=0",
          "--skip-name-resolve"};
}

}  // namespace

MariadbServer& MariadbServer::Shared() {
  static std::unique_ptr<MariadbServer> server;
  if (!server) {
    server.reset(new MariadbServer());
    server->Start();
  }
  return *server;
}

void MariadbServer::Start() {
  std::string tmpl = EnsureTemplate("mariadb", [](const std::string& dir) {
    std::vector<std::string> argv = {
        "mariadb-install-db", "--no-defaults",  "--datadir=" + dir,
        "--user=root",        "--skip-test-db", "--auth-root-authentication-method=normal"};
    for (const std::string& f : MariadbServerFlags()) argv.push_back(f);
    MustRun(argv, "mariadb-install-db");
  });
  dir_ = MakeTempDir("velin-mariadb-");
  MustRun({"cp", "-a", tmpl, dir_ + "/data"}, "copying the MariaDB template");
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = FreeLoopbackPort();
    ProcessOptions p;
    p.argv = {"mariadbd",
              "--no-defaults",
              "--datadir=" + dir_ + "/data",
              "--socket=" + socket(),
              "--port=" + std::to_string(port_),
              "--bind-address=127.0.0.1",
              "--pid-file=" + dir_ + "/pid",
              "--user=root",
              "--log-error=" + dir_ + "/err.log"};
    for (const std::string& f : MariadbServerFlags()) p.argv.push_back(f);
    // Its own tmpdir: nothing else in /tmp can touch the server's temporary tables.
    fs::create_directories(dir_ + "/tmp");
    p.argv.push_back("--tmpdir=" + dir_ + "/tmp");
    p.stdout_mode = Stdio::kNull;
    p.stderr_mode = Stdio::kNull;
    auto started = Subprocess::Start(p);
    if (!started) throw std::runtime_error("cannot start mariadbd: " + started.error().message);
    server_ = std::make_unique<Subprocess>(std::move(*started));
    bool up = WaitFor(
        [&] {
          return RunProgram(
                     {"mariadb", "--no-defaults", "-S", socket(), "-uroot", "-e", "select 1"})
                         .exit_code == 0 ||
                 ::kill(server_->pid(), 0) != 0;
        },
        60);
    if (up && RunProgram({"mariadb", "--no-defaults", "-S", socket(), "-uroot", "-e", "select 1"})
                      .exit_code == 0) {
      break;
    }
    server_->Kill(SIGKILL);
    (void)server_->Wait();
    server_.reset();
  }
  if (!server_) throw std::runtime_error("MariaDB did not start: " + Tail(dir_ + "/err.log"));
  Sql("", std::string("CREATE USER '") + kAppUser + "'@'%' IDENTIFIED BY '" + kAppPassword +
              "'; GRANT ALL PRIVILEGES ON *.* TO '" + kAppUser + "'@'%'");
}

MariadbServer::~MariadbServer() {
  if (server_) {
    server_->Kill(SIGTERM);
    (void)server_->Wait();
    WaitFor([&] { return !fs::exists(dir_ + "/pid"); }, 20);
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string MariadbServer::CreateDatabase() {
  std::string name = UniqueDbName();
  Sql("", "CREATE DATABASE " + name);
  return name;
}

std::string MariadbServer::Sql(const std::string& db, const std::string& sql) {
  std::vector<std::string> argv = {"mariadb", "--no-defaults", "-S", socket(), "-uroot", "-N",
                                   "-B"};
  if (!db.empty()) argv.push_back("--database=" + db);
  argv.insert(argv.end(), {"-e", sql});
  RunResult r = RunProgram(argv, Timeout(300));
  if (r.exit_code != 0) throw std::runtime_error("mariadb: " + r.err + " in: " + sql);
  return r.out;
}

db::ConnectionOptions MariadbServer::Options(const std::string& db) const {
  return AppUserOptions("mysql", port_, db);
}

std::map<std::string, std::string> MariadbServer::TableDigests(const std::string& db) {
  std::map<std::string, std::string> out;
  std::istringstream tables(Sql(db,
                                "SELECT table_name, (SELECT COUNT(*) FROM "
                                "information_schema.columns c WHERE c.table_schema = "
                                "t.table_schema AND c.table_name = t.table_name) FROM "
                                "information_schema.tables t WHERE table_schema = DATABASE() "
                                "AND table_type = 'BASE TABLE'"));
  for (std::string line; std::getline(tables, line);) {
    std::string name = line.substr(0, line.find('\t'));
    int cols = std::stoi(line.substr(line.find('\t') + 1));
    std::string order;
    for (int i = 1; i <= cols; ++i) order += (i > 1 ? "," : "") + std::to_string(i);
    out[name] = Sql(db, "SELECT * FROM `" + name + "` ORDER BY " + order);
  }
  return out;
}

// ---- /proc --------------------------------------------------------------------------------

std::string ProcFile(int pid, const std::string& name, char separator) {
  // read(2), not an ifstream: a process that exits while it is read makes the read fail with
  // ESRCH, which libstdc++'s filebuf throws as an exception; here it is an empty answer.
  std::string s;
  int fd = ::open(("/proc/" + std::to_string(pid) + "/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return s;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s.clear();
      break;
    }
    if (n == 0) break;
    s.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  for (char& c : s) {
    if (c == '\0') c = separator;
  }
  return s;
}

RunOptions DbTestPassword() {
  RunOptions o;
  o.env[kDbTestPasswordEnv] = kAppPassword;
  return o;
}

namespace {

// `s` between double quotes, as a TOML basic string.
std::string DbTestTomlString(const std::string& s) {
  std::string quoted = "\"";
  for (char c : s) quoted += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

std::string DbTestMysqlSection(int port, const std::string& db) {
  return "\n[database]\ndriver = \"mysql\"\nport = " + std::to_string(port) +
         "\nuser = \"app\"\nname = " + DbTestTomlString(db) + "\npassword_env = \"" +
         kDbTestPasswordEnv + "\"\n";
}

std::string DbTestPostgresSection(int port, const std::string& db) {
  return "\n[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nport = " +
         std::to_string(port) + "\nuser = \"app\"\nname = " + DbTestTomlString(db) +
         "\npassword_env = \"" + kDbTestPasswordEnv + "\"\n";
}

std::string MariadbBackquote(const std::string& name) {
  std::string q = "`";
  for (char c : name) q += c == '`' ? std::string("``") : std::string(1, c);
  return q + "`";
}

MariadbDatabasesDropped::~MariadbDatabasesDropped() {
  for (const std::string& name : names_) {
    try {
      my_.Sql("", "DROP DATABASE IF EXISTS " + MariadbBackquote(name));
    } catch (...) {
    }
  }
}

std::string MariadbDatabasesDropped::Add(const std::string& name) {
  names_.push_back(name);
  return name;
}

std::string ProcCmdline(int pid) { return ProcFile(pid, "cmdline", ' '); }

std::vector<int> ChildPids(int parent) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    // Any process of the machine may exit while its stat is read: ProcFile, not an ifstream.
    std::string stat = ProcFile(std::stoi(name), "stat", ' ');
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) out.push_back(std::stoi(name));
  }
  return out;
}

bool ChildHasStdbuf(const std::string& tool, const std::string& variable) {
  for (int pid : ChildPids(::getpid())) {
    if (ProcCmdline(pid).find(tool) == std::string::npos) continue;
    const std::string environ = ProcFile(pid, "environ", '\n');
    if (environ.find(variable) != std::string::npos &&
        environ.find("LD_PRELOAD=") != std::string::npos) {
      return true;
    }
  }
  return false;
}

bool LinkTools(const std::string& dir, const std::vector<std::string>& tools) {
  for (const std::string& name : tools) {
    bool linked = false;
    for (const char* bin : {"/usr/bin", "/usr/local/bin", "/bin"}) {
      const std::string tool = std::string(bin) + "/" + name;
      if (::access(tool.c_str(), X_OK) != 0) continue;
      linked = ::symlink(tool.c_str(), (dir + "/" + name).c_str()) == 0;
      break;
    }
    if (!linked) return false;
  }
  return true;
}

}  // namespace velin::testing
