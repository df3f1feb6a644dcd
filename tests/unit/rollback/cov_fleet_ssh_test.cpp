// The ssh side of the fleet when velin does not answer on a host (issue 16 §5): ssh itself
// missing, a command that prints something else than velin's JSON, and one that never ends
// (fleet.command_timeout). A real sshd on the loopback; the "velin" of the host is the command
// line the user configured (fleet.velin), here a shell line that is not velin.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <optional>

#include "support/remote_servers.hpp"
#include "support/test_support.hpp"
#include "velin/rollback/fleet.hpp"

namespace velin::rollback {
namespace {

using velin::testing::SshServer;
using velin::testing::TempDir;

TEST(CovSshRunnerTest, WithoutAnSshClientTheHostIsUnreached) {
  TempDir empty;  // a PATH that holds no ssh
  const char* old = ::getenv("PATH");
  std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  ::setenv("PATH", empty.path().c_str(), 1);
  FleetSettings s;
  HostReply r = SshRunner(s).Run({.name = "web1", .destination = "web1", .config = "/v.toml"},
                                 {"rollback", "status"});
  if (saved) {
    ::setenv("PATH", saved->c_str(), 1);
  } else {
    ::unsetenv("PATH");
  }
  EXPECT_FALSE(r.reached);
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_EQ(r.error.rfind("cannot run 'ssh'", 0), 0u) << r.error;
}

TEST(CovSshRunnerTest, AHostWhoseVelinDoesNotAnswerIsOneLine) {
  SshServer sshd;
  FleetSettings s;
  s.ssh_options = {
      "-p", std::to_string(sshd.port()), "-i", sshd.key_file(),
      "-o", "IdentitiesOnly=yes",        "-o", "UserKnownHostsFile=" + sshd.known_hosts()};
  const std::string dest = sshd.user() + "@127.0.0.1";
  const FleetHost host{.name = dest, .destination = dest, .config = "/srv/shop/velin.toml"};

  s.velin = "echo not velin; exit 3;";  // a wrapper that fails before velin runs
  HostReply r = SshRunner(s).Run(host, {"rollback", "status"});
  EXPECT_FALSE(r.reached);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.error, "velin on " + dest + " did not answer (exit code 3): not velin");

  s.velin = "echo started; exit 0;";  // ends well, but says nothing velin would
  r = SshRunner(s).Run(host, {"rollback", "status"});
  EXPECT_FALSE(r.reached);
  EXPECT_EQ(r.exit_code, 1);  // never a success without an answer
  EXPECT_EQ(r.error, "velin on " + dest + " did not answer (exit code 0): started");

  s.velin = "sleep 30;";
  s.command_timeout = Duration(1'000);
  r = SshRunner(s).Run(host, {"rollback", "status"});
  EXPECT_FALSE(r.reached);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.error, "no answer within 1s (fleet.command_timeout): ssh was stopped");
}

}  // namespace
}  // namespace velin::rollback
