// The SFTP and FTP backends against real sshd and vsftpd servers: host-key checking, login
// failures, retries through a connection-dropping proxy, a server that goes away, and packs
// uploaded from a local spill file.
#include "velin/storage/file_server_backend.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "support/remote_backends.hpp"
#include "support/remote_servers.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/caching_backend.hpp"

namespace velin::storage {
namespace {

using testing::FastRetries;
using testing::FaultProxy;
using testing::FtpServer;
using testing::SshServer;
using testing::TempDir;

FileServerOptions SftpOptions(const SshServer& server, int port) {
  FileServerOptions o;
  o.protocol = FileProtocol::kSftp;
  o.host = "127.0.0.1";
  o.port = port;
  o.user = server.user();
  o.root = server.files_dir().substr(1) + "/repo";
  o.key_file = server.key_file();
  o.public_key_file = server.key_file() + ".pub";
  o.known_hosts = server.known_hosts();
  return o;
}

FileServerOptions FtpOptions(int port) {
  FileServerOptions o;
  o.protocol = FileProtocol::kFtp;
  o.host = "127.0.0.1";
  o.port = port;
  o.user = FtpServer::kUser;
  o.password = FtpServer::kPassword;
  o.root = "repo";
  return o;
}

std::unique_ptr<FileServerBackend> Open(const FileServerOptions& o, int attempts = 4) {
  RetryPolicy retry = FastRetries(attempts);
  auto backend = FileServerBackend::Create(o, &retry);
  EXPECT_TRUE(backend) << backend.error().message;
  return std::move(*backend);
}

// known_hosts names host and port: the same key seen through a proxy needs its own line.
std::string KnownHostsForPort(const SshServer& server, int port, const TempDir& dir) {
  std::string line = testing::ReadFileOrDie(server.known_hosts());
  line = "[127.0.0.1]:" + std::to_string(port) + line.substr(line.find(' '));
  testing::WriteFile(dir / "known_hosts", line);
  return dir / "known_hosts";
}

TEST(SftpBackend, RefusesAHostKeyThatIsNotKnown) {
  SshServer server;
  SshServer other;  // its host key is a different one
  FileServerOptions o = SftpOptions(server, server.port());
  TempDir dir;
  std::string line = testing::ReadFileOrDie(other.known_hosts());
  testing::WriteFile(dir / "known_hosts",
                     "[127.0.0.1]:" + std::to_string(server.port()) + line.substr(line.find(' ')));
  o.known_hosts = dir / "known_hosts";
  auto check = Open(o)->CheckAccess();
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, ExitCode::kUsage);
  EXPECT_NE(check.error().message.find("host key of 127.0.0.1:" + std::to_string(server.port()) +
                                       " is missing from or does not match"),
            std::string::npos)
      << check.error().message;
}

// known_hosts holds a key of another type for the server (it was reinstalled with an ed25519
// key; an ECDSA one is known): the key exchange fails. Not retried as a network error, exit 2
// naming known_hosts, as for a key that does not match.
TEST(SftpBackend, AKnownHostKeyOfAnotherTypeIsNamedNotRetried) {
  SshServer server;
  TempDir dir;
  auto made =
      testing::RunProgram({"ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", dir / "other"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::string pub = testing::ReadFileOrDie(dir / "other.pub");
  pub = pub.substr(0, pub.rfind(' '));  // "ecdsa-sha2-nistp256 AAAA…", without the comment
  testing::WriteFile(dir / "known_hosts",
                     "[127.0.0.1]:" + std::to_string(server.port()) + " " + pub + "\n");
  FileServerOptions o = SftpOptions(server, server.port());
  o.known_hosts = dir / "known_hosts";
  auto check = Open(o, 4)->CheckAccess();
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, ExitCode::kUsage) << check.error().message;
  EXPECT_NE(check.error().message.find("no host key of 127.0.0.1:" + std::to_string(server.port()) +
                                       " matches "),
            std::string::npos)
      << check.error().message;
  EXPECT_EQ(check.error().message.find("attempts"), std::string::npos) << check.error().message;
}

TEST(SftpBackend, ReportsARefusedKey) {
  SshServer server;
  SshServer other;
  FileServerOptions o = SftpOptions(server, server.port());
  o.key_file = other.key_file();  // not in server's authorized_keys
  o.public_key_file = other.key_file() + ".pub";
  auto check = Open(o)->CheckAccess();
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, ExitCode::kUsage);
  EXPECT_NE(check.error().message.find("login as '" + server.user() + "' refused"),
            std::string::npos)
      << check.error().message;
}

TEST(SftpBackend, RetriesDroppedConnectionsAndGivesUpClearly) {
  SshServer server;
  TempDir dir;
  {
    FaultProxy proxy(server.port(), FaultProxy::Fault::kDrop, 2);
    FileServerOptions o = SftpOptions(server, proxy.port());
    o.known_hosts = KnownHostsForPort(server, proxy.port(), dir);
    auto backend = Open(o, 4);
    auto put = backend->Put("config", "cfg");
    ASSERT_TRUE(put) << put.error().message;
    EXPECT_EQ(proxy.injected(), 2);
    EXPECT_EQ(*backend->Get("config"), "cfg");
  }
  FaultProxy proxy(server.port(), FaultProxy::Fault::kDrop, 100);
  FileServerOptions o = SftpOptions(server, proxy.port());
  o.known_hosts = KnownHostsForPort(server, proxy.port(), dir);
  auto get = Open(o, 3)->Get("config");
  ASSERT_FALSE(get);
  EXPECT_EQ(proxy.injected(), 3);
  EXPECT_NE(get.error().message.find("gave up after 3 attempts"), std::string::npos)
      << get.error().message;
}

TEST(SftpBackend, ServerStoppedGivesACleanError) {
  SshServer server;
  auto backend = Open(SftpOptions(server, server.port()), 2);
  ASSERT_TRUE(backend->Put("config", "cfg"));
  server.Stop();
  auto put = backend->Put("index/i1", std::string(1 << 20, 'i'));
  ASSERT_FALSE(put);
  EXPECT_NE(put.error().message.find("put index/i1: "), std::string::npos) << put.error().message;
  EXPECT_EQ(put.error().message.find('\n'), std::string::npos);
}

TEST(FtpBackend, ReportsAWrongPassword) {
  FtpServer server;
  FileServerOptions o = FtpOptions(server.port());
  o.password = "wrong";
  auto check = Open(o)->CheckAccess();
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, ExitCode::kUsage);
  EXPECT_NE(check.error().message.find("check VELIN_FTP_PASSWORD"), std::string::npos)
      << check.error().message;
  EXPECT_EQ(check.error().message.find("wrong"), std::string::npos) << "never the password";
}

TEST(FtpBackend, ReadsOfAPackAfterTheFirstKeepTheirConnection) {
  // A ranged read that ends before its object does ends with ABOR, and libcurl then closes the
  // control connection: every such read logged in again. The second read of a pack reads the
  // rest of it (the connection stays), the reads after it come from memory.
  FtpServer server;
  FaultProxy proxy(server.port(), FaultProxy::Fault::kDrop, 0);  // forwards, counts logins
  auto backend = Open(FtpOptions(proxy.port()));
  std::string pack(3 << 20, '\0');
  for (size_t i = 0; i < pack.size(); ++i) pack[i] = static_cast<char>(i * 7 % 251);
  ASSERT_TRUE(backend->Put("data/ab/pack", pack));
  const int before = proxy.connections();
  for (uint64_t at = 0; at + 1000 <= pack.size(); at += 256 << 10) {
    auto got = backend->GetRange("data/ab/pack", at, 1000);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, pack.substr(at, 1000)) << "at " << at;
  }
  EXPECT_LE(proxy.connections() - before, 2) << "a login per read";
  auto beyond = backend->GetRange("data/ab/pack", pack.size() - 10, 20);
  ASSERT_FALSE(beyond) << "a range past the end is a short object";
  EXPECT_TRUE(IsDamagedRead(beyond.error())) << beyond.error().message;
  ASSERT_TRUE(backend->Put("data/ab/pack", "rewritten"));  // what was kept of it is forgotten
  EXPECT_EQ(*backend->GetRange("data/ab/pack", 0, 9), "rewritten");
}

// A listing starts in the directory its prefix names, not at the root: each listing is a
// request (four round trips on SFTP), and a backup made a dozen of the root's. Objects
// beside the prefix, and directories that are not there, list as before.
void ExpectListingsStartAtTheirDirectory(FileServerBackend& backend) {
  for (const char* name : {"config", "locks/shared-1", "snapshots/s1", "snapshots/s2", "data/ab/p1",
                           "data/ac/p2", "data/bc/p3", "index/i1"}) {
    ASSERT_TRUE(backend.Put(name, name)) << name;
  }
  auto names = [](const std::vector<ObjectInfo>& listed) {
    std::vector<std::string> out;
    for (const ObjectInfo& o : listed) out.push_back(o.name);
    std::sort(out.begin(), out.end());
    return out;
  };
  uint64_t before = backend.requests();
  auto locks = backend.List("locks/");
  ASSERT_TRUE(locks) << locks.error().message;
  EXPECT_EQ(names(*locks), std::vector<std::string>{"locks/shared-1"});
  // And, once per backend, a stat of its newest object: the time zone of the listings' times.
  EXPECT_EQ(backend.requests() - before, 2u) << "locks/ alone is listed";

  before = backend.requests();
  auto snapshot = backend.List("snapshots/s2");
  ASSERT_TRUE(snapshot) << snapshot.error().message;
  EXPECT_EQ(names(*snapshot), std::vector<std::string>{"snapshots/s2"});
  EXPECT_EQ(backend.requests() - before, 1u);

  before = backend.requests();
  auto packs = backend.List("data/a");
  ASSERT_TRUE(packs) << packs.error().message;
  EXPECT_EQ(names(*packs), (std::vector<std::string>{"data/ab/p1", "data/ac/p2"}));
  EXPECT_EQ(backend.requests() - before, 3u) << "data, then data/ab and data/ac";

  auto missing = backend.List("keys/");
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_TRUE(missing->empty());
  auto everything = backend.List("");
  ASSERT_TRUE(everything) << everything.error().message;
  EXPECT_EQ(everything->size(), 8u);
}

// Must show: OpenSSH's SFTP server writes the times of its listings (`ls -l` long names) in its
// own time zone; the modification times velin lists are the true ones all the same — a lock
// object written just now is not 5 hours old on a server on New York time (nor an hour in the
// future on one in Berlin), and one written three hours ago is three hours old. Lock ages, prune's
// age guard for young packs and the temp sweep compare them with clocks.
TEST(SftpBackend, ListedTimesAreTrueOnAServerOnLocalTime) {
  for (const char* zone : {"America/New_York", "Europe/Berlin", "Asia/Kathmandu"}) {
    SshServer server(zone);
    auto backend = Open(SftpOptions(server, server.port()));
    ASSERT_TRUE(backend->Put("locks/shared-now", "{}"));
    ASSERT_TRUE(backend->Put("locks/shared-earlier", "{}"));
    const std::string earlier = server.files_dir() + "/repo/locks/shared-earlier";
    std::filesystem::last_write_time(
        earlier, std::filesystem::file_time_type::clock::now() - std::chrono::hours(3));
    const int64_t now = ::time(nullptr);
    auto listed = backend->List("locks/");
    ASSERT_TRUE(listed) << listed.error().message;
    ASSERT_EQ(listed->size(), 2u);
    for (const ObjectInfo& o : *listed) {
      const int64_t expected = o.name == "locks/shared-now" ? now : now - 3 * 3600;
      // The listing shows minutes: up to 59 s early, and a second or two for the test itself.
      EXPECT_GE(o.mtime, expected - 65) << zone << " " << o.name << " " << expected - o.mtime;
      EXPECT_LE(o.mtime, expected + 5) << zone << " " << o.name << " " << o.mtime - expected;
    }
  }
}

// The UTC offset of New York at `when` (Unix seconds), "-0500" or "-0400", as date(1) says.
std::string NewYorkOffsetAtForListingTest(int64_t when) {
  const std::string command =
      "TZ=America/New_York date -d @" + std::to_string(when) + " +%z 2>/dev/null";
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[64];
    while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// Must show: the offset of a server's listings is learnt from a file written lately, not from
// the newest file of the first listing whatever its age: `config`, written by init four months
// ago on the other side of a daylight saving change, listed with that season's offset and made
// every later time an hour off (a read-only reader took a prune's fresh lock for an hour old and
// stale).
TEST(SftpBackend, ListedTimesAreTrueWhenTheFirstListingHoldsOnlyAFileOfAnotherSeason) {
  const int64_t now = ::time(nullptr);
  const std::string zone_now = NewYorkOffsetAtForListingTest(now);
  if (zone_now.empty()) GTEST_SKIP() << "date(1) cannot tell New York's offset";
  // A day within the last half year (listed to the minute) on the other side of a change.
  int64_t other_season = 0;
  for (int days = 20; days <= 170 && other_season == 0; days += 10) {
    const int64_t t = now - int64_t{days} * 86400;
    if (NewYorkOffsetAtForListingTest(t) != zone_now) other_season = t;
  }
  if (other_season == 0) GTEST_SKIP() << "no daylight saving change in New York's last half year";
  SshServer server("America/New_York");
  auto backend = Open(SftpOptions(server, server.port()));
  ASSERT_TRUE(backend->Put("config", "{}"));
  std::filesystem::last_write_time(
      server.files_dir() + "/repo/config",
      std::filesystem::file_time_type::clock::now() - std::chrono::seconds(now - other_season));
  ASSERT_TRUE(backend->Put("locks/exclusive-now", "{}"));
  const int64_t written = ::time(nullptr);
  auto root = backend->List("config");  // the root's listing: `config` alone is a file
  ASSERT_TRUE(root) << root.error().message;
  auto locks = backend->List("locks/");
  ASSERT_TRUE(locks) << locks.error().message;
  ASSERT_EQ(locks->size(), 1u);
  EXPECT_GE(locks->front().mtime, written - 65) << written - locks->front().mtime;
  EXPECT_LE(locks->front().mtime, written + 5) << locks->front().mtime - written;
}

// Must show: when the newest file of a listing is gone by the time its attributes are asked
// (a lock attempt that backed off; here a name whose listed form names no file), the offset is
// learnt from the next: left uncorrected, a live lock listed 5 hours behind beside a corrected
// probe of the storage's clock was stale to `backup unlock --stale`, which removed it.
TEST(SftpBackend, ListedTimesAreTrueWhenTheNewestFileIsGoneBeforeItsStat) {
  SshServer server("America/New_York");
  auto backend = Open(SftpOptions(server, server.port()));
  ASSERT_TRUE(backend->Put("locks/exclusive-live", "{}"));
  // Refreshed two minutes ago; the newest file is the one that is gone.
  std::filesystem::last_write_time(
      server.files_dir() + "/repo/locks/exclusive-live",
      std::filesystem::file_time_type::clock::now() - std::chrono::minutes(2));
  const int64_t written = ::time(nullptr) - 120;
  // Listed as "exclusive-gone" (the line ends at the newline), a file that does not exist.
  testing::WriteFile(server.files_dir() + "/repo/locks/exclusive-gone\nx", "{}");
  auto locks = backend->List("locks/");
  ASSERT_TRUE(locks) << locks.error().message;
  bool seen = false;
  for (const ObjectInfo& o : *locks) {
    if (o.name != "locks/exclusive-live") continue;
    seen = true;
    EXPECT_GE(o.mtime, written - 65) << written - o.mtime;
    EXPECT_LE(o.mtime, written + 5) << o.mtime - written;
  }
  EXPECT_TRUE(seen);
}

TEST(SftpBackend, AListingStartsAtTheDirectoryOfItsPrefix) {
  SshServer server;
  auto backend = Open(SftpOptions(server, server.port()));
  ExpectListingsStartAtTheirDirectory(*backend);
}

TEST(FtpBackend, AListingStartsAtTheDirectoryOfItsPrefix) {
  FtpServer server;
  auto backend = Open(FtpOptions(server.port()));
  ExpectListingsStartAtTheirDirectory(*backend);
}

TEST(SftpBackend, StaleTempsInEveryDirectoryGoAndFreshOnesStay) {
  // The sweep lists several directories at a time: every one of them is still swept once.
  SshServer server;
  auto backend = Open(SftpOptions(server, server.port()));
  const std::string repo = server.files_dir() + "/repo/";
  std::vector<std::string> stale, fresh;
  for (int d = 0; d < 40; ++d) {
    char dir[16];
    std::snprintf(dir, sizeof dir, "data/%02x", d * 6);
    const std::string base = std::string(dir) + "/pack" + std::to_string(d);
    ASSERT_TRUE(backend->Put(base, "packed"));
    stale.push_back(base + ".tmp-0123456789ab");
    if (d % 4 == 0) fresh.push_back(base + ".tmp-fresh00000000");
  }
  stale.push_back("index/i.tmp-0123456789ab");
  for (const auto& names : {stale, fresh}) {
    for (const std::string& name : names) ASSERT_TRUE(backend->Put(name, "x")) << name;
  }
  ASSERT_TRUE(backend->Put("locks/l1", "lock"));  // the server's clock: now
  const timespec two_days_ago[2] = {{::time(nullptr) - 2 * 86400, 0},
                                    {::time(nullptr) - 2 * 86400, 0}};
  for (const std::string& name : stale) {
    ASSERT_EQ(::utimensat(AT_FDCWD, (repo + name).c_str(), two_days_ago, 0), 0) << name;
  }
  auto removed = backend->RemoveStaleTemps(0, repo::TempFileLayout());
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->removed, stale.size());
  struct stat st {};
  for (const std::string& name : stale) EXPECT_NE(::stat((repo + name).c_str(), &st), 0) << name;
  for (const std::string& name : fresh) EXPECT_EQ(::stat((repo + name).c_str(), &st), 0) << name;
  auto packs = backend->List("data/");
  ASSERT_TRUE(packs) << packs.error().message;
  EXPECT_EQ(packs->size(), 40u);
  auto again = backend->RemoveStaleTemps(0, repo::TempFileLayout());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->removed, 0u);
}

TEST(SftpBackend, ASweepListsEveryDirectoryOnceAndTheOnesOnlyTheRootNames) {
  // locks/ (the clock), the root and the repository's own directories are listed from the
  // start, the pack directories and any other directory the root names after: each once.
  SshServer server;
  auto remote = Open(SftpOptions(server, server.port()));
  FileServerBackend* backend = remote.get();
  const std::string repo = server.files_dir() + "/repo/";
  std::vector<std::string> stale = {"config.tmp-0123456789ab", "keys/k1.tmp-0123456789ab",
                                    "snapshots/s1.tmp-0123456789ab"};
  for (int d = 0; d < 6; ++d) {
    const std::string pack = "data/" + std::to_string(10 + d) + "/pack";
    ASSERT_TRUE(backend->Put(pack, "packed"));
    stale.push_back(pack + ".tmp-0123456789ab");
  }
  ASSERT_TRUE(backend->Put("keys/k1", "key"));
  ASSERT_TRUE(backend->Put("index/i1", "index"));
  for (const std::string& name : stale) ASSERT_TRUE(backend->Put(name, "x")) << name;
  ASSERT_TRUE(backend->Put("locks/l1", "lock"));
  const timespec two_days_ago[2] = {{::time(nullptr) - 2 * 86400, 0},
                                    {::time(nullptr) - 2 * 86400, 0}};
  for (const std::string& name : stale) {
    ASSERT_EQ(::utimensat(AT_FDCWD, (repo + name).c_str(), two_days_ago, 0), 0) << name;
  }
  const uint64_t before = backend->requests();
  auto swept = backend->RemoveStaleTemps(0, repo::TempFileLayout());
  ASSERT_TRUE(swept) << swept.error().message;
  EXPECT_EQ(swept->removed, stale.size());
  // locks, root, data, index, snapshots, keys, six pack directories; the stat that learns the
  // time zone of the listings' times (ListingOffset); and the nine removals.
  EXPECT_EQ(backend->requests() - before, 13u + stale.size());
  struct stat st {};
  for (const std::string& name : stale) EXPECT_NE(::stat((repo + name).c_str(), &st), 0) << name;
  EXPECT_EQ(::stat((repo + "keys/k1").c_str(), &st), 0);
}

TEST(SftpBackend, ASweepWithoutALockRemovesNothing) {
  // No lock object, no clock of the server's: nothing is old enough to go.
  SshServer server;
  auto backend = Open(SftpOptions(server, server.port()));
  const std::string repo = server.files_dir() + "/repo/";
  ASSERT_TRUE(backend->Put("data/00/pack.tmp-0123456789ab", "x"));
  ASSERT_TRUE(backend->Put("index/i.tmp-0123456789ab", "x"));
  const timespec two_days_ago[2] = {{::time(nullptr) - 2 * 86400, 0},
                                    {::time(nullptr) - 2 * 86400, 0}};
  for (const char* name : {"data/00/pack.tmp-0123456789ab", "index/i.tmp-0123456789ab"}) {
    ASSERT_EQ(::utimensat(AT_FDCWD, (repo + name).c_str(), two_days_ago, 0), 0) << name;
  }
  auto swept = backend->RemoveStaleTemps(0, repo::TempFileLayout());
  ASSERT_TRUE(swept) << swept.error().message;
  EXPECT_EQ(swept->removed, 0u);
  EXPECT_EQ(swept->complete_at, 0);
  struct stat st {};
  EXPECT_EQ(::stat((repo + "data/00/pack.tmp-0123456789ab").c_str(), &st), 0);
  EXPECT_EQ(::stat((repo + "index/i.tmp-0123456789ab").c_str(), &st), 0);
}

TEST(SftpBackend, ASweepAfterACompleteOneListsOnlyThePackDirectoriesChangedSince) {
  // The time of the last complete sweep (kept in the local cache, file "swept") spares the
  // listing of every pack directory nobody wrote to since: 257 listings, four round trips each
  // on SFTP, in every backup.
  SshServer server;
  TempDir cache;
  auto remote = Open(SftpOptions(server, server.port()));
  FileServerBackend* files = remote.get();
  CachingBackend backend(std::move(remote), io::Env::Default(), cache.path());
  const std::string repo = server.files_dir() + "/repo/";
  std::vector<std::string> dirs;
  for (int d = 0; d < 16; ++d) {
    char dir[16];
    std::snprintf(dir, sizeof dir, "data/%02x", d * 16);
    dirs.push_back(dir);
    ASSERT_TRUE(backend.Put(dirs.back() + "/pack", "packed"));
  }
  ASSERT_TRUE(backend.Put("locks/l1", "lock"));
  uint64_t before = files->requests();
  auto first =
      backend.RemoveStaleTemps(0, repo::TempFileLayout());  // no time kept yet: every directory
  ASSERT_TRUE(first) << first.error().message;
  const uint64_t full = files->requests() - before;
  EXPECT_GE(full, 16u + 3u);
  const std::string kept = testing::ReadFileOrDie(cache.path() + "/swept");
  EXPECT_GT(std::stoll(kept), 0);

  // Twelve pack directories untouched for five days; a temp planted by hand in one of them
  // (its date set back too: a state a sweep cannot reach, there only to see it is not
  // listed). A stale temp in one of the four others goes.
  const timespec days_ago[2] = {{::time(nullptr) - 5 * 86400, 0}, {::time(nullptr) - 5 * 86400, 0}};
  ASSERT_TRUE(backend.Put(dirs[0] + "/pack.tmp-0123456789ab", "x"));
  ASSERT_TRUE(backend.Put(dirs[15] + "/pack.tmp-0123456789ab", "x"));
  for (const std::string& temp :
       {dirs[0] + "/pack.tmp-0123456789ab", dirs[15] + "/pack.tmp-0123456789ab"}) {
    ASSERT_EQ(::utimensat(AT_FDCWD, (repo + temp).c_str(), days_ago, 0), 0) << temp;
  }
  for (int d = 0; d < 12; ++d) {
    ASSERT_EQ(::utimensat(AT_FDCWD, (repo + dirs[d]).c_str(), days_ago, 0), 0) << dirs[d];
  }
  before = files->requests();
  auto second = backend.RemoveStaleTemps(0, repo::TempFileLayout());
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->removed, 1u);
  EXPECT_LE(files->requests() - before, full - 12 + 1) << "the twelve are not listed";
  struct stat st {};
  EXPECT_NE(::stat((repo + dirs[15] + "/pack.tmp-0123456789ab").c_str(), &st), 0);
  EXPECT_EQ(::stat((repo + dirs[0] + "/pack.tmp-0123456789ab").c_str(), &st), 0);

  // Without a kept time (a new machine, a cache wiped) every directory is listed again.
  std::filesystem::remove(cache.path() + "/swept");
  auto third = backend.RemoveStaleTemps(0, repo::TempFileLayout());
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(third->removed, 1u);
  EXPECT_NE(::stat((repo + dirs[0] + "/pack.tmp-0123456789ab").c_str(), &st), 0);
}

// A pack written in pieces (NewObjectWriter) waits in an unnamed file of the spill directory and
// goes up only on Commit; one abandoned leaves nothing on the server or in that directory.
void ExpectSpilledPacksGoUpOnCommit(FileServerOptions o) {
  TempDir spill;
  o.spill_dir = spill.path();
  auto backend = Open(o);
  std::string first(1 << 20, 'a'), second;
  for (uint32_t i = 0; i < 300000; ++i) second.push_back(static_cast<char>(i * 7919u % 251));
  {
    auto writer = backend->NewObjectWriter("data");
    ASSERT_TRUE(writer) << writer.error().message;
    ASSERT_TRUE(*writer) << "a spill directory with room: packs go in pieces";
    ASSERT_TRUE((*writer)->Append(first));
    ASSERT_TRUE((*writer)->Append(second));
    auto listed = backend->List("");
    ASSERT_TRUE(listed) << listed.error().message;
    EXPECT_TRUE(listed->empty()) << "nothing on the server before Commit";
    EXPECT_TRUE(std::filesystem::is_empty(spill.path())) << "the spill file has no name";
    auto committed = (*writer)->Commit("data/ab/pack1");
    ASSERT_TRUE(committed) << committed.error().message;
  }
  auto got = backend->Get("data/ab/pack1");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_TRUE(*got == first + second) << "got " << got->size() << " bytes";
  {
    auto abandoned = backend->NewObjectWriter("data");
    ASSERT_TRUE(abandoned && *abandoned);
    ASSERT_TRUE((*abandoned)->Append(second));
  }
  auto listed = backend->List("");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "data/ab/pack1");
  EXPECT_TRUE(std::filesystem::is_empty(spill.path()));
}

TEST(SftpBackend, APackWrittenInPiecesGoesUpOnlyOnCommit) {
  SshServer server;
  ExpectSpilledPacksGoUpOnCommit(SftpOptions(server, server.port()));
}

TEST(FtpBackend, APackWrittenInPiecesGoesUpOnlyOnCommit) {
  FtpServer server;
  ExpectSpilledPacksGoUpOnCommit(FtpOptions(server.port()));
}

TEST(SftpBackend, ASpilledPackGoesUpAfterDroppedConnections) {
  // Each attempt reads the spill file from its start.
  SshServer server;
  FaultProxy proxy(server.port(), FaultProxy::Fault::kDrop, 2);
  TempDir dir, spill;
  FileServerOptions o = SftpOptions(server, proxy.port());
  o.known_hosts = KnownHostsForPort(server, proxy.port(), dir);
  o.spill_dir = spill.path();
  auto backend = Open(o, 4);
  auto writer = backend->NewObjectWriter("data");
  ASSERT_TRUE(writer && *writer);
  std::string pack;
  for (int i = 0; i < 3 << 20; ++i) pack.push_back(static_cast<char>(i % 253));
  ASSERT_TRUE((*writer)->Append(std::string_view(pack).substr(0, 1 << 20)));
  ASSERT_TRUE((*writer)->Append(std::string_view(pack).substr(1 << 20)));
  auto committed = (*writer)->Commit("data/cd/pack2");
  ASSERT_TRUE(committed) << committed.error().message;
  EXPECT_EQ(proxy.injected(), 2);
  EXPECT_TRUE(testing::ReadFileOrDie(server.files_dir() + "/repo/data/cd/pack2") == pack);
}

TEST(SftpBackend, ASpillFileThatCannotGrowSaysWhereAndWhatToDo) {
  // A full disk under the spill directory, as a file size limit stands in for it here (EFBIG).
  SshServer server;
  TempDir spill;
  FileServerOptions o = SftpOptions(server, server.port());
  o.spill_dir = spill.path();
  auto backend = Open(o);
  auto writer = backend->NewObjectWriter("data");
  ASSERT_TRUE(writer && *writer);
  struct sigaction ignore {
  }, old_action{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action), 0);
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit small = old_limit;
  small.rlim_cur = 1 << 20;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  Status appended = (*writer)->Append(std::string(3 << 20, 'p'));
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::sigaction(SIGXFSZ, &old_action, nullptr);
  ASSERT_FALSE(appended);
  EXPECT_NE(appended.error().message.find("cannot keep a pack in " + spill.path()),
            std::string::npos)
      << appended.error().message;
  EXPECT_NE(appended.error().message.find("set TMPDIR"), std::string::npos);
  writer->reset();
  auto listed = backend->List("");
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
}

TEST(SftpBackend, WithoutASpillDirectoryPacksArePutWhole) {
  SshServer server;
  FileServerOptions o = SftpOptions(server, server.port());
  auto none = Open(o)->NewObjectWriter("data");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none) << "no spill_dir: whole Puts";
  TempDir dir;
  o.spill_dir = dir / "missing";
  auto missing = Open(o)->NewObjectWriter("data");
  ASSERT_TRUE(missing) << "a spill directory that cannot be used is no error";
  EXPECT_FALSE(*missing);
}

TEST(FtpBackend, RetriesDroppedConnections) {
  FtpServer server;
  FaultProxy proxy(server.port(), FaultProxy::Fault::kDrop, 2);
  auto backend = Open(FtpOptions(proxy.port()), 4);
  auto put = backend->Put("data/ab/ab01", "pack");
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_EQ(proxy.injected(), 2);
  EXPECT_EQ(*backend->Get("data/ab/ab01"), "pack");
  EXPECT_EQ(testing::ReadFileOrDie(server.root_dir() + "/repo/data/ab/ab01"), "pack");
}

// The server's disk fills during an upload: the half-written temp goes at once (it held the
// space the next backup needs; stale temps go only after an hour), one per attempt never
// piles up, and the error says the server ran out of space where the server tells.
TEST(SftpBackend, AFullDiskOnTheServerLeavesNoHalfWrittenTemp) {
  SshServer server;
  const std::string repo = server.files_dir() + "/repo";
  testing::SmallTmpfs disk(repo, "1m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  ::chmod(repo.c_str(), 0777);
  auto backend = Open(SftpOptions(server, server.port()), 3);
  ASSERT_TRUE(backend->Put("config", "small"));
  const std::string big(3 << 20, 'x');
  auto put = backend->Put("data/ab/pack", big);
  ASSERT_FALSE(put);
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::recursive_directory_iterator(repo)) {
    if (e.is_regular_file()) left.push_back(e.path().filename());
  }
  EXPECT_EQ(left, std::vector<std::string>{"config"}) << put.error().message;
  EXPECT_NE(put.error().message.find("put data/ab/pack: the server has no room for it ("),
            std::string::npos)
      << put.error().message;
  EXPECT_NE(put.error().message.find(" bytes free in /"), std::string::npos) << put.error().message;
  EXPECT_EQ(put.error().message.find("attempts"), std::string::npos) << "not retried";
  EXPECT_EQ(put.error().sys_errno, ENOSPC);
  // What fits still goes up.
  EXPECT_TRUE(backend->Put("data/ab/small", std::string(100 << 10, 'y')));
}

TEST(FtpBackend, AFullDiskOnTheServerLeavesNoHalfWrittenTemp) {
  FtpServer server;
  const std::string repo = server.root_dir() + "/repo";
  testing::SmallTmpfs disk(repo, "1m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  ::chmod(repo.c_str(), 0777);
  auto backend = Open(FtpOptions(server.port()), 3);
  ASSERT_TRUE(backend->Put("config", "small"));
  auto put = backend->Put("data/ab/pack", std::string(3 << 20, 'x'));
  ASSERT_FALSE(put);
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::recursive_directory_iterator(repo)) {
    if (e.is_regular_file()) left.push_back(e.path().filename());
  }
  // vsftpd drops the connection: no word of the disk, but nothing left behind either.
  EXPECT_EQ(left, std::vector<std::string>{"config"}) << put.error().message;
  EXPECT_TRUE(backend->Put("data/ab/small", std::string(100 << 10, 'y')));
}

}  // namespace
}  // namespace velin::storage
