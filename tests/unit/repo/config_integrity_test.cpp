// The repository's config object is checked on every open: each field within what velin can
// use, and — in a config written since the checksum — its content against its checksum, a
// SHA-256 in an unencrypted repository and an HMAC under a key derived from the master key in
// an encrypted one. An edited seed, chunk size or cipher is damage (exit 4), not a new setting;
// a config of an older velin (no checksum) opens as before and `upgrade` gives it one.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "velin/io/mem_env.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::repo {
namespace {

class ConfigIntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = storage::LocalBackend::Open(env_, "/repo", true);
    ASSERT_TRUE(b) << b.error().message;
    backend_ = std::move(*b);
  }

  RepoKeyOptions Encrypted() {
    RepoKeyOptions keys;
    keys.cipher = crypto::Cipher::kAes256Gcm;
    keys.passphrase = []() -> Result<std::string> { return std::string("config passphrase"); };
    keys.scrypt = {.n = 1024, .r = 8, .p = 1};  // fast
    return keys;
  }

  nlohmann::json Config() { return nlohmann::json::parse(*backend_->Get("config")); }
  void Put(const nlohmann::json& config) { ASSERT_TRUE(backend_->Put("config", config.dump(1))); }

  // Opening fails as damage naming the config, with `says` in the message.
  void ExpectDamage(const RepoKeyOptions& keys, const std::string& says) {
    auto r = Repository::Open(*backend_, false, keys);
    ASSERT_FALSE(r) << says;
    EXPECT_EQ(r.error().code, ExitCode::kDamage) << r.error().message;
    EXPECT_NE(r.error().message.find("repository config " + backend_->Location() + "/config"),
              std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
  }

  io::MemEnv env_;
  std::unique_ptr<storage::LocalBackend> backend_;
};

TEST_F(ConfigIntegrityTest, FieldsOutsideWhatVelinWritesAreRefusedEvenWithoutAChecksum) {
  ASSERT_TRUE(Repository::Init(*backend_));
  nlohmann::json good = Config();
  good.erase("checksum");  // as an older velin wrote it: only the range checks apply
  Put(good);
  ASSERT_TRUE(Repository::Open(*backend_, false));
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {[](nlohmann::json& j) { j["format_version"] = 0; }, "invalid format version 0"},
           {[](nlohmann::json& j) { j["format_version"] = -3; }, "invalid format version -3"},
           {[](nlohmann::json& j) { j["chunker"]["algorithm"] = "rabin"; },
            "unknown chunker algorithm 'rabin'"},
           {[](nlohmann::json& j) { j["chunker"].erase("algorithm"); }, "is damaged"},
           {[](nlohmann::json& j) {
              j["chunker"]["min_size"] = 2;
              j["chunker"]["avg_size"] = 2;
              j["chunker"]["max_size"] = 2;
            },
            "invalid chunker sizes"},
           {[](nlohmann::json& j) { j["chunker"]["min_size"] = 32 * 1024; },
            "invalid chunker sizes"},
           {[](nlohmann::json& j) { j["id"] = "not hex"; }, "invalid id"},
           {[](nlohmann::json& j) { j["checksum"] = 7; }, "is damaged"},
       }) {
    nlohmann::json edited = good;
    c.edit(edited);
    Put(edited);
    ExpectDamage({}, c.says);
  }
}

TEST_F(ConfigIntegrityTest, AnEditOfAnUnencryptedConfigIsDamage) {
  ASSERT_TRUE(Repository::Init(*backend_));
  const nlohmann::json written = Config();
  ASSERT_TRUE(written.contains("checksum"));
  EXPECT_EQ(written["checksum"].get<std::string>().rfind("sha256:", 0), 0u) << written;
  ASSERT_TRUE(Repository::Open(*backend_, false));

  nlohmann::json seed = written;
  seed["chunker"]["seed"] = seed["chunker"]["seed"].get<uint64_t>() ^ 1;  // dedup silently lost
  Put(seed);
  ExpectDamage({}, "has been changed or damaged");
  nlohmann::json sizes = written;
  sizes["chunker"]["min_size"] = 1024 * 1024;  // in range, but not what it was
  Put(sizes);
  ExpectDamage({}, "has been changed or damaged");
  nlohmann::json field = written;
  field["something_new"] = true;  // a later velin's fields are covered too
  Put(field);
  ExpectDamage({}, "has been changed or damaged");

  // Without its checksum it reads as an older velin's config; `upgrade` gives it one back.
  nlohmann::json older = written;
  older.erase("checksum");
  Put(older);
  auto r = Repository::Open(*backend_, false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)->config().checksum, "");
  auto from = (*r)->UpgradeFormat();
  ASSERT_TRUE(from) << from.error().message;
  EXPECT_EQ(*from, kFormatVersion);
  EXPECT_EQ(Config()["checksum"], written["checksum"]);
  EXPECT_EQ(Config()["id"], written["id"]);
}

TEST_F(ConfigIntegrityTest, AnEncryptedConfigIsAuthenticatedByItsKey) {
  ASSERT_TRUE(Repository::Init(*backend_, Encrypted()));
  const nlohmann::json written = Config();
  const std::string mac = written.value("checksum", "");
  EXPECT_EQ(mac.rfind("hmac-sha256:", 0), 0u) << written;
  ASSERT_TRUE(Repository::Open(*backend_, false, Encrypted()));

  // The other cipher: new backups would be sealed with it, and older ones unreadable.
  nlohmann::json cipher = written;
  cipher["encryption"] = "chacha20-poly1305";
  Put(cipher);
  ExpectDamage(Encrypted(), "has been changed or damaged");
  nlohmann::json seed = written;
  seed["chunker"]["seed"] = 12345;
  Put(seed);
  ExpectDamage(Encrypted(), "has been changed or damaged");

  // Without the key no checksum passes, not even a correct plain SHA-256 of the edited content.
  nlohmann::json plain = seed;
  plain.erase("checksum");
  plain["checksum"] = "sha256:" + Sha256(plain.dump()).Hex();
  Put(plain);
  ExpectDamage(Encrypted(), "has been changed or damaged");

  // The unedited config, after all that, still opens: nothing was written over it.
  Put(written);
  ASSERT_TRUE(Repository::Open(*backend_, false, Encrypted()));
}

// `upgrade` changes the format version and adds the checksum, nothing else: fields of a later
// velin (a key it added, one inside "chunker") were dropped, as the config was written anew from
// what this velin knows. The checksum covers them, as every open computes it.
TEST_F(ConfigIntegrityTest, UpgradeKeepsTheFieldsOfALaterVelin) {
  for (const bool encrypted : {false, true}) {
    SCOPED_TRACE(encrypted ? "encrypted" : "plain");
    auto b = storage::LocalBackend::Open(env_, encrypted ? "/encrypted" : "/plain", true);
    ASSERT_TRUE(b) << b.error().message;
    backend_ = std::move(*b);
    const RepoKeyOptions keys = encrypted ? Encrypted() : RepoKeyOptions{};
    ASSERT_TRUE(Repository::Init(*backend_, keys));
    nlohmann::json older = Config();
    older.erase("checksum");
    older["format_version"] = 3;
    older["compression_dict"] = "abc";
    older["chunker"]["extra"] = 1;
    Put(older);
    auto r = Repository::Open(*backend_, false, keys);
    ASSERT_TRUE(r) << r.error().message;
    auto from = (*r)->UpgradeFormat();
    ASSERT_TRUE(from) << from.error().message;
    EXPECT_EQ(*from, 3);
    nlohmann::json upgraded = Config();
    EXPECT_EQ(upgraded["format_version"], kFormatVersion);
    EXPECT_EQ(upgraded["compression_dict"], "abc") << upgraded;
    EXPECT_EQ(upgraded["chunker"]["extra"], 1) << upgraded;
    EXPECT_EQ(upgraded.value("checksum", "").rfind(encrypted ? "hmac-sha256:" : "sha256:", 0), 0u)
        << upgraded;
    nlohmann::json rest = upgraded;
    rest.erase("checksum");
    older.erase("format_version");
    rest.erase("format_version");
    EXPECT_EQ(rest, older);  // nothing else changed
    auto reopened = Repository::Open(*backend_, false, keys);
    ASSERT_TRUE(reopened) << reopened.error().message;  // the checksum verifies
    EXPECT_EQ((*reopened)->config().format_version, kFormatVersion);
    // An edit of a later velin's field is caught by that checksum.
    upgraded["chunker"]["extra"] = 2;
    Put(upgraded);
    ExpectDamage(keys, "has been changed or damaged");
  }
}

// A command opens the repository (reading its config) before it takes its lock: a `backup
// upgrade` finishing in between raised the version, and a create went on at the old one
// (storing no extended attributes, fifos or device nodes). ReloadConfig takes the config as it
// is now; a config that is another repository's, or whose checksum fails, is refused and the
// one opened stays.
TEST_F(ConfigIntegrityTest, ReloadConfigTakesTheVersionAnUpgradeRaised) {
  ASSERT_TRUE(Repository::Init(*backend_));
  nlohmann::json older = Config();
  older.erase("checksum");
  older["format_version"] = 3;
  Put(older);
  auto creating = Repository::Open(*backend_, false);
  ASSERT_TRUE(creating) << creating.error().message;
  EXPECT_FALSE((*creating)->extended_trees());
  {
    auto upgrading = Repository::Open(*backend_, false);
    ASSERT_TRUE(upgrading);
    ASSERT_TRUE((*upgrading)->UpgradeFormat());
  }
  const nlohmann::json upgraded = Config();
  ASSERT_TRUE((*creating)->ReloadConfig());
  EXPECT_TRUE((*creating)->extended_trees());
  EXPECT_EQ((*creating)->config().format_version, kFormatVersion);
  EXPECT_EQ((*creating)->config().checksum, upgraded["checksum"]);

  nlohmann::json other = upgraded;  // another repository's config put in its place
  other["id"] = std::string(32, 'a');
  other.erase("checksum");
  Put(other);
  auto replaced = (*creating)->ReloadConfig();
  ASSERT_FALSE(replaced);
  EXPECT_NE(replaced.error().message.find("changed after velin opened it"), std::string::npos)
      << replaced.error().message;
  nlohmann::json tampered = upgraded;
  tampered["format_version"] = 3;  // the checksum no longer matches
  Put(tampered);
  auto damaged = (*creating)->ReloadConfig();
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code, ExitCode::kDamage) << damaged.error().message;
  EXPECT_EQ((*creating)->config().format_version, kFormatVersion);  // as before
  EXPECT_EQ((*creating)->config().id, upgraded["id"]);
}

}  // namespace
}  // namespace velin::repo
