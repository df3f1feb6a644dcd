#include "velin/crypto/key_ring.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "support/forwarding_backend.hpp"
#include "support/test_support.hpp"
#include "velin/crypto/aead.hpp"
#include "velin/crypto/kdf.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::crypto {
namespace {

using velin::testing::TempDir;

// Low scrypt cost keeps these tests fast; the defaults are exercised by kdf_test.
constexpr ScryptParams kFast{.n = 1024, .r = 8, .p = 1};

class KeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backend = storage::LocalBackend::Open(io::Env::Default(), dir_.path() + "/repo", true);
    ASSERT_TRUE(backend) << backend.error().message;
    backend_ = std::move(*backend);
    origin_ = {.hostname = "host", .username = "alice", .created = "2026-11-25T16:00:00Z"};
  }

  OpenedKey Create(std::string_view passphrase) {
    auto opened = CreateRepositoryKey(*backend_, passphrase, origin_, kFast);
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(*opened) : OpenedKey{};
  }

  std::string KeyPath(const std::string& id) { return dir_.path() + "/repo/keys/" + id; }

  // A key for a passphrase the repository has already, as velins before 2026-12 let `key add`
  // write one (AddKey refuses it now).
  Result<std::string> StoreDuplicateKey(const MasterKey& master, std::string_view passphrase,
                                        const ScryptParams& params = kFast) {
    VELIN_ASSIGN(KeyObject key, WrapMasterKey(master, passphrase, origin_, params));
    VELIN_TRY(backend_->Put(KeyObjectName(key.id), SerializeKeyObject(key)));
    return key.id;
  }

  TempDir dir_;
  std::unique_ptr<storage::Backend> backend_;
  KeyOrigin origin_;
};

TEST_F(KeyRingTest, OpensWithTheRightPassphraseOnly) {
  OpenedKey created = Create("correct horse");
  auto opened = OpenRepositoryKey(*backend_, "correct horse");
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_TRUE(opened->master == created.master);
  EXPECT_EQ(opened->key_id, created.key_id);

  ASSERT_TRUE(AddKey(*backend_, created.master, "second", origin_, kFast));
  auto wrong = OpenRepositoryKey(*backend_, "battery staple");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ExitCode::kUsage);
  EXPECT_EQ(wrong.error().message,
            "wrong passphrase for repository " + dir_.path() + "/repo (tried 2 keys)");
}

// `backup create` into a new repository makes the key and opens it at once: one scrypt, not two.
// A wrong passphrase still pays its own scrypt and still fails.
TEST_F(KeyRingTest, OpeningTheKeyJustMadeRunsNoSecondScrypt) {
  const uint64_t before = ScryptRuns();
  OpenedKey created = Create("made and opened");
  EXPECT_EQ(ScryptRuns(), before + 1);
  auto opened = OpenRepositoryKey(*backend_, "made and opened");
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_TRUE(opened->master == created.master);
  EXPECT_EQ(ScryptRuns(), before + 1);
  auto wrong = OpenRepositoryKey(*backend_, "made and opened ");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ExitCode::kUsage);
  EXPECT_EQ(ScryptRuns(), before + 2);
}

TEST_F(KeyRingTest, TheKeyObjectHoldsNoSecretInClear) {
  OpenedKey created = Create("correct horse");
  std::string json = velin::testing::ReadFileOrDie(KeyPath(created.key_id));
  EXPECT_EQ(json.find("correct horse"), std::string::npos);
  for (const Key256* k : {&created.master.encryption, &created.master.mac}) {
    EXPECT_EQ(json.find(std::string(k->view())), std::string::npos);
  }
  EXPECT_NE(json.find("\"kdf\":\"scrypt\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"n\":1024"), std::string::npos) << json;
}

TEST_F(KeyRingTest, AddedKeysAndNewPassphrasesKeepTheMasterKey) {
  OpenedKey first = Create("one");
  auto second_id = AddKey(*backend_, first.master, "two", origin_, kFast);
  ASSERT_TRUE(second_id) << second_id.error().message;
  auto by_two = OpenRepositoryKey(*backend_, "two");
  ASSERT_TRUE(by_two);
  EXPECT_TRUE(by_two->master == first.master);
  EXPECT_EQ(by_two->key_id, *second_id);

  auto third = ChangePassphrase(*backend_, *by_two, "two", "three", origin_, kFast);
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(third->removed, std::vector<std::string>{*second_id});
  EXPECT_FALSE(OpenRepositoryKey(*backend_, "two"));
  auto by_three = OpenRepositoryKey(*backend_, "three");
  ASSERT_TRUE(by_three);
  EXPECT_TRUE(by_three->master == first.master);
  auto keys = ListKeys(*backend_);
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->size(), 2u);
}

TEST_F(KeyRingTest, DataSealedBeforeRotationOpensAfterIt) {
  OpenedKey first = Create("old");
  auto sealer = Sealer::Create(Cipher::kChaCha20Poly1305, first.master.encryption);
  ASSERT_TRUE(sealer);
  auto sealed = (*sealer)->Seal("snapshot", AssociatedData("snapshot", "s1"));
  ASSERT_TRUE(sealed);
  ASSERT_TRUE(ChangePassphrase(*backend_, first, "old", "new", origin_, kFast));
  auto reopened = OpenRepositoryKey(*backend_, "new");
  ASSERT_TRUE(reopened);
  auto again = Sealer::Create(Cipher::kChaCha20Poly1305, reopened->master.encryption);
  ASSERT_TRUE(again);
  auto opened = (*again)->Open(*sealed, AssociatedData("snapshot", "s1"));
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, "snapshot");
}

TEST_F(KeyRingTest, NeverRemovesTheLastKey) {
  OpenedKey only = Create("one");
  auto removed = RemoveKey(*backend_, only.key_id, "one");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, ExitCode::kUsage);
  EXPECT_NE(removed.error().message.find("last key"), std::string::npos);
  EXPECT_TRUE(OpenRepositoryKey(*backend_, "one"));
}

TEST_F(KeyRingTest, RemovesTheKeyInUseOnlyWhenAnotherOpensWithThePassphrase) {
  OpenedKey first = Create("one");
  auto second = AddKey(*backend_, first.master, "two", origin_, kFast);
  ASSERT_TRUE(second);
  auto refused = RemoveKey(*backend_, first.key_id.substr(0, 8), "one");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("only key your passphrase opens"), std::string::npos);
  auto wrong = RemoveKey(*backend_, *second, "nope");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("wrong passphrase"), std::string::npos);

  auto removed = RemoveKey(*backend_, *second, "one");
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, *second);
  EXPECT_FALSE(OpenRepositoryKey(*backend_, "two"));
  EXPECT_TRUE(OpenRepositoryKey(*backend_, "one"));

  // Two keys with the same passphrase (as an older velin's `key add` made them): either may go.
  ASSERT_TRUE(StoreDuplicateKey(first.master, "one"));
  ASSERT_TRUE(RemoveKey(*backend_, first.key_id, "one"));
  EXPECT_TRUE(OpenRepositoryKey(*backend_, "one"));
  EXPECT_FALSE(RemoveKey(*backend_, "ffffffffffffffff", "one"));
}

// Another velin, one that takes no lock (an older one), removes `victim` while this removal
// derives its keys: right after the `at`-th key object read.
class KeyRemovedMeanwhileBackend : public velin::testing::ForwardingBackend {
 public:
  KeyRemovedMeanwhileBackend(storage::Backend& base, std::string victim, int at)
      : ForwardingBackend(base), victim_(std::move(victim)), at_(at) {}
  Result<std::string> Get(const std::string& name) override {
    auto data = base().Get(name);
    if (++gets_ == at_) {
      EXPECT_TRUE(base().Delete(victim_));
    }
    return data;
  }

 private:
  std::string victim_;
  int at_;
  int gets_ = 0;
};

// Two removals at once, each of the key the other's passphrase opens, must not leave the
// repository without keys: the removal lists the keys again right before it deletes.
TEST_F(KeyRingTest, RemoveListsTheKeysAgainRightBeforeDeleting) {
  OpenedKey a = Create("pass A");
  auto b = AddKey(*backend_, a.master, "pass B", origin_, kFast);
  ASSERT_TRUE(b);
  // Two key objects, read twice (the checks, then every key derived): the other removal of
  // key A lands after the last read.
  KeyRemovedMeanwhileBackend racing(*backend_, KeyObjectName(a.key_id), 4);
  auto removed = RemoveKey(racing, *b, "pass A");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, ExitCode::kUsage);
  EXPECT_NE(removed.error().message.find("removed it meanwhile"), std::string::npos)
      << removed.error().message;
  auto left = ListKeys(*backend_);
  ASSERT_TRUE(left) << left.error().message;
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().id, *b);
  EXPECT_TRUE(OpenRepositoryKey(*backend_, "pass B"));
}

// A second key for a passphrase the repository has: `passwd` of that passphrase replaced only
// the key that opened, and the other kept the old passphrase working. `add` refuses it, which
// also tells a `key add` run again after it was stopped that its key is there.
TEST_F(KeyRingTest, AddRefusesAPassphraseThatAlreadyOpensAKey) {
  OpenedKey first = Create("one");
  auto again = AddKey(*backend_, first.master, "one", origin_, kFast);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ExitCode::kUsage);
  EXPECT_EQ(again.error().message, "the new passphrase already opens key " +
                                       first.key_id.substr(0, 12) + " of repository " +
                                       dir_.path() +
                                       "/repo (added before?): give a passphrase "
                                       "the repository does not have yet");
  auto second = AddKey(*backend_, first.master, "two", origin_, kFast);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(AddKey(*backend_, first.master, "two", origin_, kFast));
  auto keys = ListKeys(*backend_);
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->size(), 2u);
}

// Two keys opened with the old passphrase: both go, after the new key is written; a key of
// another master key the old passphrase opens (copied from another repository) stays.
TEST_F(KeyRingTest, ChangePassphraseReplacesEveryKeyTheOldPassphraseOpens) {
  OpenedKey first = Create("old");
  auto duplicate = StoreDuplicateKey(first.master, "old");
  ASSERT_TRUE(duplicate) << duplicate.error().message;
  auto other_master = MasterKey::Generate();
  ASSERT_TRUE(other_master);
  auto foreign = StoreDuplicateKey(*other_master, "old");
  ASSERT_TRUE(foreign);
  auto kept = AddKey(*backend_, first.master, "kept", origin_, kFast);
  ASSERT_TRUE(kept);

  auto change = ChangePassphrase(*backend_, first, "old", "new", origin_, kFast);
  ASSERT_TRUE(change) << change.error().message;
  EXPECT_FALSE(change->reused);
  std::vector<std::string> removed = change->removed;
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> expected{first.key_id, *duplicate};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(removed, expected);
  auto by_old = OpenRepositoryKey(*backend_, "old");
  ASSERT_TRUE(by_old);  // only the foreign key is left for it
  EXPECT_EQ(by_old->key_id, *foreign);
  auto by_new = OpenRepositoryKey(*backend_, "new");
  ASSERT_TRUE(by_new);
  EXPECT_TRUE(by_new->master == first.master);
  EXPECT_TRUE(OpenRepositoryKey(*backend_, "kept"));

  // The same passphrase again is no change.
  auto same = ChangePassphrase(*backend_, *by_new, "new", "new", origin_, kFast);
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().code, ExitCode::kUsage);
}

// A passwd that stopped after writing its new key left the old keys too: run again, it finds
// the new key and only deletes the old ones.
TEST_F(KeyRingTest, ChangePassphraseRunAgainFinishesAnInterruptedOne) {
  OpenedKey first = Create("old");
  auto written = StoreDuplicateKey(first.master, "new");  // what the stopped run wrote
  ASSERT_TRUE(written);
  auto change = ChangePassphrase(*backend_, first, "old", "new", origin_, kFast);
  ASSERT_TRUE(change) << change.error().message;
  EXPECT_TRUE(change->reused);
  EXPECT_EQ(change->added, *written);
  EXPECT_FALSE(OpenRepositoryKey(*backend_, "old"));
  auto keys = ListKeys(*backend_);
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(keys->front().id, *written);
}

// A key object asking more work than velin's defaults is derived only when no ordinary key
// opens, whatever its id.
TEST_F(KeyRingTest, KeysWithTheDefaultParametersAreTriedFirst) {
  OpenedKey first = Create("pass");  // kFast: not the defaults
  auto ordinary = StoreDuplicateKey(first.master, "pass", ScryptParams{});
  ASSERT_TRUE(ordinary);
  auto opened = OpenRepositoryKey(*backend_, "pass");
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->key_id, *ordinary);
  const uint64_t before = ScryptRuns();
  auto tried =
      TryRepositoryKeys(*backend_, "pass", [](const MasterKey&) -> Result<bool> { return true; });
  ASSERT_TRUE(tried);
  ASSERT_EQ(tried->opened.size(), 1u);
  EXPECT_EQ(tried->opened.front().key_id, *ordinary);
  EXPECT_LE(ScryptRuns(), before + 1);
}

TEST_F(KeyRingTest, RefusesEmptyPassphraseAndSecondCreate) {
  EXPECT_FALSE(CreateRepositoryKey(*backend_, "", origin_, kFast));
  Create("one");
  auto again = CreateRepositoryKey(*backend_, "two", origin_, kFast);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already has key objects"), std::string::npos);
}

TEST_F(KeyRingTest, EveryFlippedByteOfAKeyObjectIsDetected) {
  OpenedKey created = Create("pass");
  const std::string path = KeyPath(created.key_id);
  const std::string original = velin::testing::ReadFileOrDie(path);
  // Every byte of the JSON; flipping a bit either breaks the JSON or a bound field.
  for (size_t i = 0; i < original.size(); ++i) {
    std::string bad = original;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    velin::testing::WriteFile(path, bad);
    auto opened = OpenRepositoryKey(*backend_, "pass");
    ASSERT_FALSE(opened) << "flipped byte " << i << " ('" << original[i] << "') was accepted";
    EXPECT_EQ(opened.error().code, ExitCode::kUsage);
  }
  velin::testing::WriteFile(path, original);
  EXPECT_TRUE(OpenRepositoryKey(*backend_, "pass"));
}

TEST_F(KeyRingTest, ARenamedKeyObjectIsDetected) {
  OpenedKey created = Create("pass");
  std::string json = velin::testing::ReadFileOrDie(KeyPath(created.key_id));
  std::string other_id(32, 'a');
  velin::testing::WriteFile(KeyPath(other_id), json);
  std::vector<std::string> damaged;
  auto keys = ListKeys(*backend_, &damaged);
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->size(), 1u);
  ASSERT_EQ(damaged.size(), 1u);
  EXPECT_NE(damaged[0].find("keys/" + other_id), std::string::npos) << damaged[0];
}

TEST_F(KeyRingTest, ListsKeysWithTheirOrigin) {
  OpenedKey created = Create("pass");
  auto keys = ListKeys(*backend_);
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].id, created.key_id);
  EXPECT_EQ((*keys)[0].origin.hostname, "host");
  EXPECT_EQ((*keys)[0].origin.username, "alice");
  EXPECT_EQ((*keys)[0].origin.created, "2026-11-25T16:00:00Z");
  EXPECT_EQ((*keys)[0].scrypt.n, 1024u);
}

TEST_F(KeyRingTest, AnEmptyRepositoryHasNoKeys) {
  auto opened = OpenRepositoryKey(*backend_, "pass");
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("no key objects"), std::string::npos);
}

}  // namespace
}  // namespace velin::crypto
