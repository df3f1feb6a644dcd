// The real binary and `verify --restore-test --restore-test-server` naming the server by an
// IPv6 address: [::1]:PORT, [::1] and ::1 (docs/cli.md#databases).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"
#include "velin/core/process.hpp"

namespace velin::testing {
namespace {

constexpr const char* kServerPasswordEnv = "VELIN_TEST_DB_PASSWORD";

RunOptions ServerPassword() {
  RunOptions o;
  o.env[kServerPasswordEnv] = kAppPassword;
  return o;
}

std::string ServerPgSection(int port, const std::string& db) {
  return "\n[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nport = " +
         std::to_string(port) + "\nuser = \"app\"\nname = \"" + db + "\"\npassword_env = \"" +
         kServerPasswordEnv + "\"\n";
}

bool AcceptsOnIpv6Loopback(int port) {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(static_cast<uint16_t>(port));
  a.sin6_addr = in6addr_loopback;
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

TEST(DbRestoreTestServer, AnIpv6AddressInBracketsOrBareReachesTheServer) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string db = pg.CreateDatabase();
  pg.Sql(db, "SET ROLE app; CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2);");
  BackupApp app({"db"}, ServerPgSection(pg.port(), db));
  ASSERT_EQ(app.Run({"backup", "create"}, ServerPassword()).exit_code, 0);
  // The server listens on 127.0.0.1 only; socat hands [::1]:PORT on to it.
  const std::string port = std::to_string(pg.port());
  ProcessOptions p;
  p.argv = {"/usr/bin/socat", "TCP6-LISTEN:" + port + ",bind=[::1],fork,reuseaddr",
            "TCP4:127.0.0.1:" + port};
  p.stdout_mode = Stdio::kNull;
  p.stderr_mode = Stdio::kNull;
  auto forwarder = Subprocess::Start(p);
  ASSERT_TRUE(forwarder) << forwarder.error().message;
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    up = AcceptsOnIpv6Loopback(pg.port());
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(up);
  for (const std::string& server : {"[::1]:" + port, std::string("[::1]"), std::string("::1")}) {
    RunResult r =
        app.Run({"backup", "verify", "latest", "--restore-test", "--restore-test-server", server},
                ServerPassword());
    EXPECT_EQ(r.exit_code, 0) << server << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("Database restore test passed"), std::string::npos) << server << r.out;
  }
  for (const std::string& bad :
       {std::string("[::1"), std::string("[::1]x"), std::string("h:"), std::string("h:99999")}) {
    RunResult r =
        app.Run({"backup", "verify", "latest", "--restore-test", "--restore-test-server", bad},
                ServerPassword());
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.out << r.err;
  }
  forwarder->Kill(SIGTERM);
  (void)forwarder->Wait();
}

}  // namespace
}  // namespace velin::testing
