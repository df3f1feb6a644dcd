// OpenBackend's refusals before any connection (a destination or setting no request could use,
// a key or known_hosts file that is not there, a bad VELIN_FAULT_BITFLIP) and the local backend
// on a hostile or damaged repository (names that would leave the root, a symlink loop where a
// directory should be, an object shorter than its index says), on a MemEnv: each is one line
// naming the destination or the object, with the exit code the CLI passes on, and nothing is
// written.
#include <gtest/gtest.h>

#include <string>

#include "velin/io/mem_env.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/backend.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::storage {
namespace {

// The refusal of `destination`: a usage error whose one line holds `part`.
void ExpectRefused(io::Env& env, const std::string& destination, const BackendOptions& options,
                   const std::string& part) {
  auto opened = OpenBackend(destination, options, env, true);
  ASSERT_FALSE(opened) << destination << " opened as " << (*opened)->Location();
  EXPECT_EQ(opened.error().code, ExitCode::kUsage) << opened.error().message;
  EXPECT_NE(opened.error().message.find(part), std::string::npos) << opened.error().message;
  EXPECT_EQ(opened.error().message.find('\n'), std::string::npos) << opened.error().message;
}

TEST(CovOpenBackend, RefusesWhatNoConnectionCouldUse) {
  io::MemEnv env;
  BackendOptions o;
  o.s3_endpoint = "http://127.0.0.1:9";
  ExpectRefused(env, "s3://someone@bkt/repo", o,
                "'s3://bkt/…': the bucket goes where the host would");
  ExpectRefused(env, "s3://bkt:9000/repo", o, "set the server in storage.s3.endpoint");
  o.s3_credentials_file = "/etc/velin/missing-s3.env";
  ExpectRefused(env, "s3://bkt/repo", o, "storage.s3.credentials_file: ");
  ExpectRefused(env, "s3://bkt/repo%zz", o, "bad percent-escape");
  ExpectRefused(env, "relative/repo", o, "repository path must be absolute: 'relative/repo'");
  ExpectRefused(env, "ftp://files.example.com/repo", o, "plain FTP sends the data");
  BackendOptions https;
  https.s3_endpoint = "http://s3.example.com";
  ExpectRefused(env, "s3://bkt/repo", https, "plain HTTP sends the data and the credentials");
  EXPECT_FALSE(*env.Exists("/etc")) << "nothing written";
}

TEST(CovOpenBackend, NamesTheSftpFileThatIsNotThere) {
  io::MemEnv env;
  BackendOptions o;
  o.sftp_key_file = "/keys/id_ed25519";
  o.sftp_known_hosts = "/keys/known_hosts";
  ExpectRefused(env, "sftp://backup@files.example.com/repo", o,
                "sftp://files.example.com: cannot read /keys/id_ed25519 (storage.sftp.key_file)");
  ASSERT_TRUE(io::CreateDirs(env, "/keys"));
  ASSERT_TRUE(io::WriteFileDurably(env, "/keys/id_ed25519", "key"));
  ExpectRefused(env, "sftp://backup@files.example.com/repo", o,
                "cannot read /keys/known_hosts (storage.sftp.known_hosts)");
  // Without the setting, the user's own known_hosts: $HOME/.ssh/known_hosts.
  o.sftp_known_hosts = "";
  env.SetEnv("HOME", "/home/backup");
  ExpectRefused(env, "sftp://backup@files.example.com/repo", o,
                "cannot read /home/backup/.ssh/known_hosts (storage.sftp.known_hosts)");
  // Without HOME either there is none to use: named as the setting to make.
  env.UnsetEnv("HOME");
  ExpectRefused(env, "sftp://backup@files.example.com/repo", o,
                "sftp://files.example.com: set storage.sftp.known_hosts");
  o.sftp_key_file = "";
  ExpectRefused(env, "sftp://backup@files.example.com/repo", o, "set storage.sftp.key_file");
  ExpectRefused(env, "sftp://files.example.com/repo", o, "the URL must name the user");
}

TEST(CovOpenBackend, OpensFileUrlsAndWrapsInTheBitFlipRule) {
  io::MemEnv env;
  BackendOptions o;
  auto local = OpenBackend("file:///srv/repo", o, env, true);
  ASSERT_TRUE(local) << local.error().message;
  EXPECT_EQ((*local)->Location(), "/srv/repo");
  ASSERT_TRUE((*local)->Put("data/ab/p1", std::string(64, 'p')));

  env.SetEnv("VELIN_FAULT_BITFLIP", "100:7");
  auto flipped = OpenBackend("/srv/repo", o, env, false);
  ASSERT_TRUE(flipped) << flipped.error().message;
  auto read = (*flipped)->Get("data/ab/p1");
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->size(), 64u);
  EXPECT_NE(*read, std::string(64, 'p')) << "every pack read is damaged at 100 %";

  env.SetEnv("VELIN_FAULT_BITFLIP", "lots");
  ExpectRefused(env, "/srv/repo", o, "VELIN_FAULT_BITFLIP='lots': expected PERCENT:SEED");
  env.UnsetEnv("VELIN_FAULT_BITFLIP");

  auto missing = OpenBackend("/srv/none", o, env, false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ExitCode::kFailed);
  EXPECT_EQ(missing.error().message, "no repository at /srv/none: directory does not exist");
  ExpectRefused(env, "/srv/repo/data/ab/p1", o,
                "repository path /srv/repo/data/ab/p1 is not a "
                "directory");
}

TEST(CovLocalBackend, NamesThatWouldLeaveTheRootAreRefused) {
  io::MemEnv env;
  auto opened = LocalBackend::Open(env, "/repo", true);
  ASSERT_TRUE(opened) << opened.error().message;
  LocalBackend& b = **opened;
  ASSERT_TRUE(io::WriteFileDurably(env, "/outside", "keep"));
  for (const std::string& name : {std::string("../outside"), std::string("/outside"),
                                  std::string(""), std::string("data/../../outside")}) {
    const std::string part = "invalid object name '" + name + "' in /repo";
    for (Status s : {b.Put(name, "x"), b.Delete(name)}) {
      ASSERT_FALSE(s) << name;
      EXPECT_EQ(s.error().message, part);
    }
    auto got = b.Get(name);
    ASSERT_FALSE(got) << name;
    EXPECT_EQ(got.error().message, part);
    auto range = b.GetRange(name, 0, 1);
    ASSERT_FALSE(range) << name;
    EXPECT_EQ(range.error().message, part);
    auto stat = b.Stat(name);
    ASSERT_FALSE(stat) << name;
    EXPECT_EQ(stat.error().message, part);
  }
  EXPECT_EQ(*env.ReadFile("/outside"), "keep");
}

TEST(CovLocalBackend, ADamagedRepositoryGivesOneLineNamingTheObject) {
  io::MemEnv env;
  auto opened = LocalBackend::Open(env, "/repo", true);
  ASSERT_TRUE(opened) << opened.error().message;
  LocalBackend& b = **opened;
  ASSERT_TRUE(b.Put("data/ab/p1", "0123456789"));
  ASSERT_TRUE(b.Put("config", "c"));

  // An object shorter than the range its index promises.
  auto range = b.GetRange("data/ab/p1", 8, 4);
  ASSERT_FALSE(range);
  EXPECT_EQ(range.error().message,
            "object data/ab/p1 in /repo is shorter than expected (wanted 4 bytes at offset 8, "
            "got 2)");
  EXPECT_EQ(*b.GetRange("data/ab/p1", 2, 3), "234");
  std::string out;
  ASSERT_TRUE(b.GetInto("data/ab/p1", out));
  EXPECT_EQ(out, "0123456789");

  // A file where a directory belongs: nothing is under it.
  ASSERT_TRUE(io::WriteFileDurably(env, "/repo/index", "not a directory"));
  auto under = b.Stat("index/i1");
  ASSERT_TRUE(under) << under.error().message;
  EXPECT_FALSE(under->has_value());
  auto listed = b.List("index/");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_TRUE(listed->empty());

  // A symlink loop where a directory belongs: an error naming the object, not "missing".
  ASSERT_TRUE(env.Symlink("snapshots", "/repo/snapshots"));
  auto stat = b.Stat("snapshots/s1");
  ASSERT_FALSE(stat);
  EXPECT_EQ(stat.error().sys_errno, ELOOP);
  EXPECT_NE(stat.error().message.find("/repo/snapshots/s1"), std::string::npos);
  auto all = b.List("");  // a listing never follows a symlink, so the loop is not its concern
  ASSERT_TRUE(all) << all.error().message;
  for (const ObjectInfo& o : *all) EXPECT_EQ(o.name.find("snapshots"), std::string::npos);
  auto swept = b.RemoveStaleTemps(0, repo::TempFileLayout());
  ASSERT_TRUE(swept) << swept.error().message;
  EXPECT_EQ(swept->removed, 0u);
  auto del = b.Delete("snapshots/s1");
  ASSERT_FALSE(del) << "a loop is no missing object";
  EXPECT_EQ(del.error().sys_errno, ELOOP);
  EXPECT_TRUE(b.Delete("data/ab/missing")) << "a missing object is deleted already";
  EXPECT_EQ(*b.Get("config"), "c") << "the rest is unharmed";
}

}  // namespace
}  // namespace velin::storage
