#include "velin/crypto/kdf.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace velin::crypto {
namespace {

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (unsigned char b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

TEST(Scrypt, MatchesRfc7914TestVector) {
  // RFC 7914 section 12: P="password", S="NaCl", N=1024, r=8, p=16; first 32 of 64 bytes.
  auto key = DeriveKey("password", "NaCl", {.n = 1024, .r = 8, .p = 16});
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(Hex(key->view()), "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162");
}

TEST(Scrypt, MatchesTheOtherRfc7914TestVectors) {
  // RFC 7914 section 12, first 32 of 64 bytes each: the empty passphrase and salt with N=16
  // is below velin's bounds, so the second vector (N=1024, r=8, p=16) above and this one.
  auto key = DeriveKey("pleaseletmein", "SodiumChloride", {.n = 16384, .r = 8, .p = 1});
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(Hex(key->view()), "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2");
}

// velin computes scrypt itself (its V on huge pages): OpenSSL's is the reference, over
// parameter sets that exercise each loop (odd r, several lanes, N at both ends of a range).
TEST(Scrypt, GivesWhatOpenSslsScryptGives) {
  struct Case {
    std::string pass;
    std::string salt;
    ScryptParams params;
  };
  const Case cases[] = {
      {"correct horse", std::string(32, '\x5a'), {}},  // the defaults, N=2^15 r=8 p=1
      {"", "s", {.n = 1024, .r = 1, .p = 1}},
      {"pass", "salt", {.n = 2048, .r = 3, .p = 2}},
      {std::string(200, 'p'), std::string("\0salt\xff", 6), {.n = 4096, .r = 5, .p = 3}},
      {"x", "y", {.n = 1024, .r = 32, .p = 1}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("N=" + std::to_string(c.params.n) + " r=" + std::to_string(c.params.r) +
                 " p=" + std::to_string(c.params.p));
    auto key = DeriveKey(c.pass, c.salt, c.params);
    ASSERT_TRUE(key) << key.error().message;
    unsigned char expected[32];
    ASSERT_EQ(EVP_PBE_scrypt(c.pass.data(), c.pass.size(),
                             reinterpret_cast<const unsigned char*>(c.salt.data()), c.salt.size(),
                             c.params.n, c.params.r, c.params.p, uint64_t{1} << 30, expected,
                             sizeof expected),
              1);
    EXPECT_EQ(Hex(key->view()),
              Hex(std::string_view(reinterpret_cast<const char*>(expected), sizeof expected)));
  }
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VELIN_KDF_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define VELIN_KDF_TEST_ASAN 1
#endif

// ROMix's memory (here 512 MiB, the most a key object may ask within the work bound) is mapped on
// its own: when the system will not give it, the derivation fails with one line saying how much,
// not a crash.
TEST(Scrypt, SaysSoWhenItsMemoryCannotBeHad) {
#ifdef VELIN_KDF_TEST_ASAN
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space: no RLIMIT_AS here";
#else
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child: its address space capped at what it has plus 256 MiB.
    ::close(fds[0]);
    size_t pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    const rlim_t cap = pages * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + (rlim_t{256} << 20);
    const rlimit limit{cap, cap};
    if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(2);
    auto key = DeriveKey("pass", "salt", {.n = uint64_t{1} << 19, .r = 8, .p = 1});
    const std::string said = key ? std::string("derived") : key.error().message;
    if (::write(fds[1], said.data(), said.size()) < 0) ::_exit(3);
    ::_exit(key ? 1 : 0);
  }
  ::close(fds[1]);
  std::string said;
  char buf[256];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) said.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << said;
  EXPECT_EQ(said, "scrypt needs 512 MiB of memory: Cannot allocate memory");
#endif
}

TEST(Scrypt, DependsOnPassphraseSaltAndParameters) {
  const ScryptParams low{.n = 1024, .r = 8, .p = 1};
  auto a = DeriveKey("pass", "salt", low);
  auto b = DeriveKey("pass", "salt", low);
  auto c = DeriveKey("pasS", "salt", low);
  auto d = DeriveKey("pass", "salT", low);
  auto e = DeriveKey("pass", "salt", {.n = 2048, .r = 8, .p = 1});
  ASSERT_TRUE(a && b && c && d && e);
  EXPECT_EQ(*a, *b);
  EXPECT_FALSE(*a == *c);
  EXPECT_FALSE(*a == *d);
  EXPECT_FALSE(*a == *e);
}

TEST(Scrypt, RemembersOnlyTheLastDerivation) {
  const ScryptParams low{.n = 1024, .r = 8, .p = 1};
  ASSERT_TRUE(DeriveKey("something else", "salt-0", low));  // whatever an earlier test left
  const uint64_t before = ScryptRuns();
  auto a = DeriveKey("remembered", "salt-1", low);
  auto again = DeriveKey("remembered", "salt-1", low);  // answered from memory
  ASSERT_TRUE(a && again);
  EXPECT_EQ(*a, *again);
  EXPECT_EQ(ScryptRuns(), before + 1);
  // Any difference in passphrase (even its length), salt or parameters runs scrypt again.
  auto longer = DeriveKey("remembered!", "salt-1", low);
  auto shorter = DeriveKey("remembere", "salt-1", low);
  auto other_salt = DeriveKey("remembere", "salt-2", low);
  auto other_r = DeriveKey("remembere", "salt-2", {.n = 1024, .r = 4, .p = 1});
  ASSERT_TRUE(longer && shorter && other_salt && other_r);
  EXPECT_EQ(ScryptRuns(), before + 5);
  EXPECT_FALSE(*longer == *a);
  EXPECT_FALSE(*shorter == *a);
  // Only the last one is kept: the first needs scrypt again, and gives the same key.
  auto first = DeriveKey("remembered", "salt-1", low);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, *a);
  EXPECT_EQ(ScryptRuns(), before + 6);
  // Bad parameters are refused before the memory is consulted.
  EXPECT_FALSE(DeriveKey("remembered", "salt-1", {.n = 1000}));
}

TEST(Scrypt, RefusesParametersOutsideTheSafeBounds) {
  EXPECT_TRUE(ValidateScryptParams({}));  // the defaults, N=2^15 r=8 p=1
  for (ScryptParams bad :
       {ScryptParams{.n = 1000}, ScryptParams{.n = 512}, ScryptParams{.n = uint64_t{1} << 23},
        ScryptParams{.r = 0}, ScryptParams{.r = 33}, ScryptParams{.p = 0}, ScryptParams{.p = 17},
        ScryptParams{.n = uint64_t{1} << 22, .r = 8}}) {
    auto status = ValidateScryptParams(bad);
    ASSERT_FALSE(status) << "N=" << bad.n << " r=" << bad.r << " p=" << bad.p;
    EXPECT_EQ(status.error().code, ExitCode::kDamage);
    EXPECT_FALSE(DeriveKey("pass", "salt", bad));
  }
}

// N=2^22 r=2 p=16 needs 1 GiB, within the memory bound, but took 88 s on every command that
// tried the key object. The work N·r·p is bounded at 16 times the defaults'; what velin writes
// stays well inside.
TEST(Scrypt, RefusesMoreThanSixteenTimesTheDefaultWork) {
  const ScryptParams hostile{.n = uint64_t{1} << 22, .r = 2, .p = 16};
  auto status = ValidateScryptParams(hostile);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ExitCode::kDamage);
  EXPECT_EQ(status.error().message,
            "scrypt N=4194304 r=2 p=16 is more than 16 times the work of velin's default "
            "parameters");
  const uint64_t before = ScryptRuns();
  EXPECT_FALSE(DeriveKey("pass", "salt", hostile));
  EXPECT_EQ(ScryptRuns(), before);  // refused before any work
  const ScryptParams defaults;
  EXPECT_EQ(defaults.n * defaults.r * defaults.p * 16, kMaxScryptWork);
  // The bound itself passes, in any split; one step past it does not.
  EXPECT_TRUE(ValidateScryptParams({.n = uint64_t{1} << 19, .r = 8, .p = 1}));
  EXPECT_TRUE(ValidateScryptParams({.n = uint64_t{1} << 15, .r = 8, .p = 16}));
  EXPECT_TRUE(ValidateScryptParams({.n = uint64_t{1} << 22, .r = 1, .p = 1}));
  EXPECT_FALSE(ValidateScryptParams({.n = uint64_t{1} << 15, .r = 16, .p = 9}));
  EXPECT_FALSE(ValidateScryptParams({.n = uint64_t{1} << 20, .r = 8, .p = 1}));
}

}  // namespace
}  // namespace velin::crypto
