// Key objects and the key ring on the inputs the other crypto tests leave out: a salt or
// sealed key that is not valid base64 or has the wrong length, a master key of an unknown
// format, a key object that vanishes or cannot be read while the ring reads it, an ambiguous
// key prefix, and a user without a passwd entry making a key. Each is refused with one line
// naming the object, or (the vanished key) skipped.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>

#include "support/test_support.hpp"
#include "velin/crypto/aead.hpp"
#include "velin/crypto/key_object.hpp"
#include "velin/crypto/key_ring.hpp"
#include "velin/crypto/master_key.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::crypto {
namespace {

using velin::testing::TempDir;

constexpr ScryptParams kCheapScrypt{.n = 1024, .r = 8, .p = 1};
const KeyOrigin kOrigin{.hostname = "host", .username = "alice", .created = "2026-11-25T16:00:00Z"};

// A backend that fails Get of chosen objects: as if they were deleted between the listing and
// the read (ENOENT), or could not be read (EIO). Only for fault injection.
class FailingGetBackend : public storage::Backend {
 public:
  explicit FailingGetBackend(std::unique_ptr<storage::Backend> base) : base_(std::move(base)) {}
  std::string Location() const override { return base_->Location(); }
  Status Put(const std::string& name, std::string_view data) override {
    return base_->Put(name, data);
  }
  Result<std::string> Get(const std::string& name) override {
    if (vanished.count(name) != 0) return ErrnoError("opening " + name, ENOENT);
    if (unreadable.count(name) != 0) return ErrnoError("reading " + name, EIO);
    return base_->Get(name);
  }
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override {
    return base_->GetRange(name, offset, length);
  }
  Result<std::vector<storage::ObjectInfo>> List(const std::string& prefix) override {
    return base_->List(prefix);
  }
  Status Delete(const std::string& name) override { return base_->Delete(name); }
  Result<std::optional<storage::ObjectInfo>> Stat(const std::string& name) override {
    return base_->Stat(name);
  }

  std::set<std::string> vanished;
  std::set<std::string> unreadable;

 private:
  std::unique_ptr<storage::Backend> base_;
};

class CovKeyObjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto local = storage::LocalBackend::Open(io::Env::Default(), dir_.path() + "/repo", true);
    ASSERT_TRUE(local) << local.error().message;
    backend_ = std::make_unique<FailingGetBackend>(std::move(*local));
  }

  // A valid key object for `passphrase`, as JSON, with `field` replaced by `value`.
  std::string EditedKeyJson(const std::string& field, const nlohmann::json& value,
                            std::string* name) {
    auto master = MasterKey::Generate();
    EXPECT_TRUE(master);
    auto key = WrapMasterKey(*master, "pass", kOrigin, kCheapScrypt);
    EXPECT_TRUE(key) << key.error().message;
    *name = KeyObjectName(key->id);
    nlohmann::json doc = nlohmann::json::parse(SerializeKeyObject(*key));
    doc[field] = value;
    return doc.dump();
  }

  TempDir dir_;
  std::unique_ptr<FailingGetBackend> backend_;
};

TEST_F(CovKeyObjectTest, ASaltOrSealedKeyThatIsNotCanonicalBase64OfTheRightSizeIsDamage) {
  struct Case {
    std::string field;
    std::string value;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"salt", "abc", "invalid base64: length is not a multiple of 4"},
      {"salt", "AA=A", "invalid base64 padding"},
      {"salt", "AA*A", "invalid base64 character"},
      {"salt", "AAAAAAAAAAA=", "salt is not 32 bytes"},  // 8 bytes
      {"master_key", "QQ=A", "invalid base64 padding"},
      {"master_key", "QR==", "non-canonical base64"},
  };
  for (const Case& c : cases) {
    std::string name;
    const std::string json = EditedKeyJson(c.field, c.value, &name);
    auto parsed = ParseKeyObject(json, name);
    ASSERT_FALSE(parsed) << c.field << "=" << c.value;
    EXPECT_EQ(parsed.error().code, ExitCode::kDamage);
    EXPECT_EQ(parsed.error().message, "key object " + name + " is damaged: " + c.reason)
        << c.field << "=" << c.value;
  }
}

// A damaged key object is one line naming it, never the JSON library's exception text.
TEST_F(CovKeyObjectTest, AKeyObjectThatIsNotJsonOrLacksAFieldIsOneClearLine) {
  std::string wrong_name;
  const std::string wrong_type = EditedKeyJson("hostname", 7, &wrong_name);
  std::string name;
  const std::string good = EditedKeyJson("hostname", "h", &name);
  nlohmann::json missing = nlohmann::json::parse(good);
  missing.erase("salt");
  struct Case {
    std::string json;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{
           {good.substr(0, good.size() / 2), "it is not valid JSON (truncated or overwritten?)"},
           {"garbage", "it is not valid JSON (truncated or overwritten?)"},
           {missing.dump(), "a field is missing"},
           {wrong_type, "a field has the wrong type"},
       }) {
    auto parsed = ParseKeyObject(c.json, c.json == wrong_type ? wrong_name : name);
    ASSERT_FALSE(parsed) << c.json;
    EXPECT_EQ(parsed.error().code, ExitCode::kDamage);
    EXPECT_EQ(parsed.error().message, "key object " + (c.json == wrong_type ? wrong_name : name) +
                                          " is damaged: " + c.reason);
  }
}

TEST(CovMasterKey, AMasterKeyOfAnotherVersionOrSizeIsDamageSayingWhich) {
  auto master = MasterKey::Generate();
  ASSERT_TRUE(master);
  const std::string good = master->Serialize();
  ASSERT_TRUE(MasterKey::Parse(good));

  std::string other_version = good;
  other_version[0] = 2;
  std::string short_key = good.substr(0, good.size() - 1);
  for (const auto& [bytes, want] :
       {std::pair{other_version, "master key has an unknown format (version 2, 65 bytes)"},
        std::pair{short_key, "master key has an unknown format (version 1, 64 bytes)"},
        std::pair{std::string(), "master key has an unknown format (version -1, 0 bytes)"}}) {
    auto parsed = MasterKey::Parse(bytes);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().code, ExitCode::kDamage);
    EXPECT_EQ(parsed.error().message, want);
  }
}

TEST(CovCipherName, NoneIsNamed) {
  EXPECT_EQ(CipherName(Cipher::kNone), "none");
  auto parsed = ParseCipher(CipherName(Cipher::kNone));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, Cipher::kNone);
}

TEST_F(CovKeyObjectTest, AKeyRemovedWhileTheRingReadsIsSkippedAndAnUnreadableOneNamed) {
  auto created = CreateRepositoryKey(*backend_, "pass", kOrigin, kCheapScrypt);
  ASSERT_TRUE(created) << created.error().message;
  auto second = AddKey(*backend_, created->master, "other", kOrigin, kCheapScrypt);
  ASSERT_TRUE(second) << second.error().message;

  // "other"'s key removed by another velin between the listing and the read: the ring goes on
  // without it, and "pass" still opens.
  backend_->vanished.insert(KeyObjectName(*second));
  auto opened = OpenRepositoryKey(*backend_, "pass");
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->key_id, created->key_id);
  auto listed = ListKeys(*backend_);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, created->key_id);
  backend_->vanished.clear();

  // A read error is not "no such key": it fails, naming the object.
  backend_->unreadable.insert(KeyObjectName(*second));
  for (const auto& r : {OpenRepositoryKey(*backend_, "other").map([](auto&&) { return 0; }),
                        ListKeys(*backend_).map([](auto&&) { return 0; })}) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().sys_errno, EIO);
    EXPECT_NE(r.error().message.find(KeyObjectName(*second)), std::string::npos)
        << r.error().message;
  }
}

TEST_F(CovKeyObjectTest, AKeyPrefixMatchingTwoKeysIsAmbiguousAndRemovesNothing) {
  auto created = CreateRepositoryKey(*backend_, "pass", kOrigin, kCheapScrypt);
  ASSERT_TRUE(created) << created.error().message;
  // Two more objects whose names share the prefix "ab" (damaged or not, they are keys/ names).
  ASSERT_TRUE(backend_->Put("keys/ab" + std::string(30, '0'), "{}"));
  ASSERT_TRUE(backend_->Put("keys/ab" + std::string(30, '1'), "{}"));
  auto removed = RemoveKey(*backend_, "ab", "pass");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, ExitCode::kUsage);
  EXPECT_EQ(removed.error().message,
            "key prefix 'ab' is ambiguous in repository " + backend_->Location());
  auto all = backend_->List("keys/");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 3u);
}

// A process whose user has no passwd entry (a container run with --user 4242): the key
// records the numeric uid.
TEST(CovKeyOrigin, AUserWithoutAPasswdEntryIsRecordedByNumber) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to take an unnamed uid";
  uid_t unnamed = 0;
  for (uid_t uid = 4242; uid < 4342; ++uid) {
    if (::getpwuid(uid) == nullptr) {
      unnamed = uid;
      break;
    }
  }
  ASSERT_NE(unnamed, 0u);
  // Only the effective uid changes, and only around the call (no other thread runs here; a
  // forked child would stop the shared test servers when it exits).
  ASSERT_EQ(::seteuid(unnamed), 0);
  KeyOrigin origin = CurrentKeyOrigin(io::Env::Default());
  ASSERT_EQ(::seteuid(0), 0);
  EXPECT_EQ(origin.username, std::to_string(unnamed));
  EXPECT_EQ(origin.hostname, io::Env::Default().HostName());
  EXPECT_EQ(origin.created.size(), 20u) << origin.created;  // 2026-11-25T16:00:00Z
}

}  // namespace
}  // namespace velin::crypto
