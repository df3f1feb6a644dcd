// Monitoring around real commands: the metrics file and the pings of [monitor], end to end.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/ops_config.hpp"
#include "support/ops_http_server.hpp"
#include "support/test_support.hpp"

namespace velin {
namespace {

using testing::ReadFileOrDie;
using testing::RunVelin;
using testing::TempDir;
using testing::WriteFile;

std::string MonitorConfig(const std::string& extra) {
  return testing::UploadsConfigWith("monitor", extra);
}

TEST(MonitorCli, BackupCreateWritesTheMetricsFile) {
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", "hello");
  WriteFile(dir / "velin.toml", MonitorConfig("metrics_file = \"metrics/velin.prom\"\n"));
  auto r = RunVelin({"backup", "create"}, {.cwd = dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string metrics = ReadFileOrDie(dir / "metrics/velin.prom");
  EXPECT_NE(metrics.find("velin_runs_total{command=\"backup create\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("velin_last_run_success{command=\"backup create\"} 1"), std::string::npos)
      << metrics;

  // A failing verify is counted as a failure; the earlier create's series stay.
  auto bad = RunVelin({"backup", "verify", "no-such-backup"}, {.cwd = dir.path()});
  EXPECT_NE(bad.exit_code, 0);
  metrics = ReadFileOrDie(dir / "metrics/velin.prom");
  EXPECT_NE(metrics.find("velin_runs_total{command=\"backup create\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("velin_last_run_success{command=\"backup verify\"} 0"), std::string::npos)
      << metrics;
}

TEST(MonitorCli, BackupCreatePingsStartAndSuccess) {
  testing::OpsHttpServer server;
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", "hello");
  WriteFile(dir / "velin.toml", MonitorConfig("ping_url = \"" + server.url() + "/ping/abc\"\n"));
  auto r = RunVelin({"backup", "create"}, {.cwd = dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto requests = server.WaitForRequests(2);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/ping/abc/start");
  EXPECT_EQ(requests[1].path, "/ping/abc");
}

TEST(MonitorCli, AFailedPingNeverFailsTheBackup) {
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", "hello");
  int port = testing::OpsHttpServer::UnusedPort();
  WriteFile(dir / "velin.toml",
            MonitorConfig("ping_url = \"http://127.0.0.1:" + std::to_string(port) + "/x\"\n"));
  auto r = RunVelin({"backup", "create"}, {.cwd = dir.path()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning:"), std::string::npos) << r.err;
}

// velin_repository_size_bytes is what a prune measured (no command set it before: the series
// the docs list was never written).
TEST(MonitorCli, APruneRecordsTheRepositorySize) {
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", std::string(100000, 'x'));
  WriteFile(dir / "velin.toml", MonitorConfig("metrics_file = \"metrics/velin.prom\"\n"));
  ASSERT_EQ(RunVelin({"backup", "create"}, {.cwd = dir.path()}).exit_code, 0);
  EXPECT_EQ(ReadFileOrDie(dir / "metrics/velin.prom").find("velin_repository_size_bytes "),
            std::string::npos);
  auto pruned = RunVelin({"backup", "prune", "--json"}, {.cwd = dir.path()});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  const auto after = nlohmann::json::parse(pruned.out)["bytes_after"].get<uint64_t>();
  EXPECT_GT(after, 0u);
  const std::string metrics = ReadFileOrDie(dir / "metrics/velin.prom");
  EXPECT_NE(metrics.find("velin_repository_size_bytes " + std::to_string(after) + "\n"),
            std::string::npos)
      << metrics;
}

// A repository that cannot be reached is a failure of kind "network", not "failed": the
// storage's errors carried no system error before, so alerts split by kind never fired.
TEST(MonitorCli, AnUnreachableRepositoryCountsAsANetworkFailure) {
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", "hello");
  WriteFile(dir / "velin.toml", MonitorConfig("metrics_file = \"metrics/velin.prom\"\n"));
  const std::string url =
      "ftp://velin@127.0.0.1:" + std::to_string(testing::OpsHttpServer::UnusedPort()) + "/repo";
  auto r = RunVelin({"backup", "create", "--destination", url},
                    {.cwd = dir.path(), .env = {{"VELIN_FTP_PASSWORD", "x"}}});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const std::string metrics = ReadFileOrDie(dir / "metrics/velin.prom");
  EXPECT_NE(metrics.find("velin_failures_total{command=\"backup create\",kind=\"network\"} 1"),
            std::string::npos)
      << metrics;
}

// A database server that refuses the connection is a "network" failure too: libpq and the
// MariaDB client keep no errno, so their errors counted as "failed" before.
TEST(MonitorCli, ADatabaseServerThatRefusesTheConnectionCountsAsANetworkFailure) {
  for (const std::string driver : {"postgresql", "mysql"}) {
    SCOPED_TRACE(driver);
    TempDir dir;
    WriteFile(dir / "uploads/a.txt", "hello");
    WriteFile(dir / "velin.toml",
              "[backup]\ninclude = [\"db\", \"uploads\"]\n[monitor]\n"
              "metrics_file = \"metrics/velin.prom\"\n[database]\ndriver = \"" +
                  driver + "\"\nhost = \"127.0.0.1\"\nport = " +
                  std::to_string(testing::OpsHttpServer::UnusedPort()) +
                  "\nuser = \"app\"\nname = \"app\"\n");
    auto r = RunVelin({"backup", "create"}, {.cwd = dir.path()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const std::string metrics = ReadFileOrDie(dir / "metrics/velin.prom");
    EXPECT_NE(metrics.find("velin_failures_total{command=\"backup create\",kind=\"network\"} 1"),
              std::string::npos)
        << r.err << metrics;
  }
}

TEST(MonitorCli, ListingIsNotMonitored) {
  testing::OpsHttpServer server;
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", "hello");
  WriteFile(dir / "velin.toml", MonitorConfig("ping_url = \"" + server.url() + "/p\"\n"));
  ASSERT_EQ(RunVelin({"backup", "init"}, {.cwd = dir.path()}).exit_code, 0);
  ASSERT_EQ(RunVelin({"backup", "list"}, {.cwd = dir.path()}).exit_code, 0);
  EXPECT_TRUE(server.WaitForRequests(1, std::chrono::milliseconds(300)).empty());
}

}  // namespace
}  // namespace velin
