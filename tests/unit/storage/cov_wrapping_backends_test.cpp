// The backends that wrap another, on a local repository in a MemEnv: the cache forgets what is
// deleted and passes ranges and stats through untouched; without VELIN_CACHE_DIR, an absolute
// XDG_CACHE_HOME or HOME there is no cache at all. The bit-flip test backend damages a range
// read the same as a whole read, whichever comes first, and refuses rules it cannot read. And
// a credentials file that is not KEY=VALUE, or lacks a key, is named with its line.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "support/test_support.hpp"
#include "velin/io/env.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/storage/bit_flip_backend.hpp"
#include "velin/storage/caching_backend.hpp"
#include "velin/storage/local_backend.hpp"
#include "velin/storage/s3_backend.hpp"

namespace velin::storage {
namespace {

std::unique_ptr<Backend> Local(io::MemEnv& env) {
  auto opened = LocalBackend::Open(env, "/repo", true);
  EXPECT_TRUE(opened) << opened.error().message;
  return std::unique_ptr<Backend>(std::move(*opened));
}

// Sets (or, with nullptr, unsets) an environment variable for one test.
class ScopedVar {
 public:
  ScopedVar(const char* name, const char* value) : name_(name) {
    const char* old = ::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedVar() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(CovCachingBackend, ForgetsWhatIsDeletedAndPassesRangesAndStatsThrough) {
  io::MemEnv env;
  CachingBackend cached(Local(env), env, "/cache");
  ASSERT_TRUE(cached.Put("index/i1", "index one"));
  EXPECT_EQ(*env.ReadFile("/cache/index/i1"), "index one");
  EXPECT_EQ(*cached.GetRange("index/i1", 6, 3), "one");
  auto stat = cached.Stat("index/i1");
  ASSERT_TRUE(stat && stat->has_value());
  EXPECT_EQ((*stat)->size, 9u);

  ASSERT_TRUE(cached.Delete("index/i1"));
  EXPECT_FALSE(*env.Exists("/cache/index/i1")) << "a deleted object leaves the cache";
  EXPECT_FALSE(*env.Exists("/repo/index/i1"));
  auto gone = cached.Get("index/i1");
  ASSERT_FALSE(gone) << "never served from a cache that forgot it";
  EXPECT_EQ(gone.error().sys_errno, ENOENT);
  EXPECT_FALSE(cached.Stat("index/i1")->has_value());
  ASSERT_TRUE(cached.Delete("data/ab/p1")) << "not cached, missing: fine";
}

TEST(CovCachingBackend, NoCacheWithoutAnAbsoluteDirectoryToPutItIn) {
  ScopedVar cache("VELIN_CACHE_DIR", nullptr), xdg("XDG_CACHE_HOME", "relative/cache"),
      home("HOME", "");
  EXPECT_EQ(CachingBackend::DefaultCacheDir("s3://bkt/repo"), "");
  ScopedVar rooted("HOME", "/home/backup");
  const std::string dir = CachingBackend::DefaultCacheDir("s3://bkt/repo");
  EXPECT_EQ(dir.rfind("/home/backup/.cache/velin/", 0), 0u) << dir;
}

TEST(CovBitFlipBackend, DamagesARangeReadLikeAWholeReadAndRefusesBadRules) {
  io::MemEnv env;
  const std::string pack(256, 'p');
  ASSERT_TRUE(Local(env)->Put("data/ab/p1", pack));
  auto rule = ParseBitFlipRule("100:3");
  ASSERT_TRUE(rule);
  // Which bit of this object flips (the same for any reader).
  auto bit = BitFlipPosition(*rule, "data/ab/p1", pack.size());
  ASSERT_TRUE(bit);
  std::string damaged = pack;
  damaged[*bit / 8] = static_cast<char>(damaged[*bit / 8] ^ (1u << (*bit % 8)));

  // A range first: the size comes from a Stat.
  BitFlipBackend ranged(Local(env), *rule);
  EXPECT_EQ(*ranged.GetRange("data/ab/p1", 0, pack.size()), damaged);
  std::string out;
  ASSERT_TRUE(ranged.GetRangeInto("data/ab/p1", 0, pack.size(), out));
  EXPECT_EQ(out, damaged);
  EXPECT_EQ(*ranged.Get("data/ab/p1"), damaged);
  const uint64_t at = *bit / 8;
  EXPECT_EQ(*ranged.GetRange("data/ab/p1", at, 1), damaged.substr(at, 1));
  EXPECT_EQ(*ranged.GetRange("data/ab/p1", at == 0 ? 1 : 0, 1), "p") << "only that byte";
  auto missing = ranged.GetRange("data/ab/none", 0, 1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().sys_errno, ENOENT);

  for (const char* bad : {"101:1", "50", "50:x", "5x:1", "50:1y", ":1", "50:"}) {
    EXPECT_FALSE(ParseBitFlipRule(bad)) << bad;
  }
}

TEST(CovS3Credentials, AFileThatIsNotKeyValueOrLacksAKeyIsNamedWithItsLine) {
  testing::TempDir dir;
  testing::WriteFile(dir / "no-eq.env", "AWS_ACCESS_KEY_ID=AKID\nAWS_SECRET_ACCESS_KEY\n", 0600);
  auto no_eq = LoadS3Credentials(io::Env::Default(), dir / "no-eq.env");
  ASSERT_FALSE(no_eq);
  EXPECT_EQ(no_eq.error().code, ExitCode::kUsage);
  EXPECT_EQ(no_eq.error().message, dir / "no-eq.env" + ":2: expected KEY=VALUE");
  testing::WriteFile(dir / "half.env", "# only the id\nAWS_ACCESS_KEY_ID='AKID'\n", 0600);
  auto half = LoadS3Credentials(io::Env::Default(), dir / "half.env");
  ASSERT_FALSE(half);
  EXPECT_EQ(half.error().message,
            dir / "half.env" + ": needs both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
}

}  // namespace
}  // namespace velin::storage
