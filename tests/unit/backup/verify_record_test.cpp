// The verify record (backup/verify_record.hpp) round trips, and a record that is damaged, in its
// JSON or in the type or range of a number, counts as none: `backup status` then says verify is
// overdue instead of reading a wrapped time. Its list of damaged packs is kept across verifies
// and bounded.
#include "velin/backup/verify_record.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "velin/io/mem_env.hpp"
#include "velin/repo/damaged_packs.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::backup {
namespace {

class VerifyRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = storage::LocalBackend::Open(env_, "/repo", true);
    ASSERT_TRUE(b) << b.error().message;
    backend_ = std::move(*b);
  }
  io::MemEnv env_;
  std::unique_ptr<storage::LocalBackend> backend_;
};

TEST_F(VerifyRecordTest, RoundTripsAndKeepsTheLastSuccess) {
  auto none = LoadVerifyRecord(*backend_);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none);
  ASSERT_TRUE(RecordVerify(*backend_, 1000, true, 3, true));
  ASSERT_TRUE(RecordVerify(*backend_, 2000, false, 4, false));
  auto r = LoadVerifyRecord(*backend_);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->last_time, 2000);
  EXPECT_FALSE((*r)->last_ok);
  EXPECT_EQ((*r)->last_backups, 4u);
  EXPECT_FALSE((*r)->last_restore_test);
  EXPECT_EQ((*r)->last_ok_time, 1000);
}

TEST_F(VerifyRecordTest, ADamagedRecordCountsAsNone) {
  for (const char* text : {"{", "[]", R"({"last_time": 1e102})", R"({"last_time": "yesterday"})",
                           R"({"last_backups": -1})", R"({"last_ok_time": 18446744073709551615})",
                           R"({"last_ok": 1})"}) {
    ASSERT_TRUE(backend_->Put(kVerifyRecordObject, text));
    auto r = LoadVerifyRecord(*backend_);
    ASSERT_TRUE(r) << text << ": " << r.error().message;
    EXPECT_FALSE(*r) << text;
  }
}

// A "groups" that is there but no array (an object, null, a number) is malformed, not an older
// velin's record: no group counts as verified (it was read as a record without groups, and
// status judged the repository-wide "last_ok": true of another app's verify). The next verify
// writes a list again.
TEST_F(VerifyRecordTest, AGroupsThatIsNoArrayCountsAsNoVerifyOfAnyGroup) {
  const repo::SnapshotFilter shop{.host = "web1", .app = "shop"};
  for (const char* groups :
       {R"({"0": {"host": "web1", "app": "shop", "last_time": 50, "last_ok": false}})", "null", "7",
        R"("web1")"}) {
    ASSERT_TRUE(backend_->Put(
        kVerifyRecordObject,
        std::string(R"({"last_time": 50, "last_ok": true, "last_ok_time": 50, "groups": )") +
            groups + "}"));
    auto r = LoadVerifyRecord(*backend_);
    ASSERT_TRUE(r && *r) << groups;
    EXPECT_TRUE((*r)->has_groups) << groups;
    EXPECT_TRUE((*r)->groups.empty()) << groups;
    EXPECT_FALSE(VerifyRecordFor(**r, shop).has_value()) << groups;

    ASSERT_TRUE(RecordVerify(*backend_, 60, true, 1, false, {},
                             {{.host = "web1", .app = "shop", .newest = 10}}));
    auto after = LoadVerifyRecord(*backend_);
    ASSERT_TRUE(after && *after);
    ASSERT_EQ((*after)->groups.size(), 1u) << groups;
    auto own = VerifyRecordFor(**after, shop);
    ASSERT_TRUE(own.has_value()) << groups;
    EXPECT_TRUE(own->last_ok);
    EXPECT_EQ(own->last_ok_time, 60);
    EXPECT_FALSE(VerifyRecordFor(**after, {.host = "web2", .app = "shop"}).has_value());
  }
  // Without the key it is an older velin's record: the repository-wide fields count.
  ASSERT_TRUE(backend_->Put(kVerifyRecordObject, R"({"last_time": 50, "last_ok": true})"));
  auto old = LoadVerifyRecord(*backend_);
  ASSERT_TRUE(old && *old);
  EXPECT_FALSE((*old)->has_groups);
  EXPECT_TRUE(VerifyRecordFor(**old, shop).has_value());
}

// A verify that passes on an older backup does not clear the failure a verify recorded for a
// newer backup of the same app (before, status was good again after `verify OLD-ID`); one that
// covers a backup as new does. The failure's time stays what status reports.
TEST_F(VerifyRecordTest, APassOfAnOlderBackupKeepsTheNewerOnesFailure) {
  const repo::SnapshotFilter shop{.host = "web1", .app = "shop"};
  const auto shop_at = [](int64_t newest) {
    return std::vector<VerifiedGroup>{{.host = "web1", .app = "shop", .newest = newest}};
  };
  ASSERT_TRUE(RecordVerify(*backend_, 1000, false, 1, false, {}, shop_at(500)));
  ASSERT_TRUE(RecordVerify(*backend_, 1100, true, 1, false, {}, shop_at(400)));
  auto r = LoadVerifyRecord(*backend_);
  ASSERT_TRUE(r && *r);
  auto own = VerifyRecordFor(**r, shop);
  ASSERT_TRUE(own.has_value());
  EXPECT_FALSE(own->last_ok);
  EXPECT_EQ(own->last_time, 1000);
  EXPECT_EQ(own->last_ok_time, 1100);
  ASSERT_EQ((*r)->groups.size(), 1u);
  EXPECT_EQ((*r)->groups[0].failed_newest, 500);

  // Another failure of an older backup keeps the newest failed one.
  ASSERT_TRUE(RecordVerify(*backend_, 1200, false, 1, false, {}, shop_at(300)));
  r = LoadVerifyRecord(*backend_);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->groups[0].failed_newest, 500);
  EXPECT_EQ((*r)->groups[0].last_time, 1200);

  // A pass that covers the failed backup (or a newer one) clears it.
  ASSERT_TRUE(RecordVerify(*backend_, 1300, true, 2, false, {}, shop_at(500)));
  r = LoadVerifyRecord(*backend_);
  ASSERT_TRUE(r && *r);
  own = VerifyRecordFor(**r, shop);
  ASSERT_TRUE(own.has_value());
  EXPECT_TRUE(own->last_ok);
  EXPECT_EQ(own->last_time, 1300);
  EXPECT_EQ((*r)->groups[0].failed_newest, 0);

  // A record without "failed_newest" (an older velin's): any pass clears, as then.
  ASSERT_TRUE(backend_->Put(kVerifyRecordObject,
                            R"({"last_time": 50, "last_ok": false, "groups": [{"host": "web1", )"
                            R"("app": "shop", "last_time": 50, "last_ok": false}]})"));
  ASSERT_TRUE(RecordVerify(*backend_, 60, true, 1, false, {}, shop_at(1)));
  r = LoadVerifyRecord(*backend_);
  ASSERT_TRUE(r && *r);
  own = VerifyRecordFor(**r, shop);
  ASSERT_TRUE(own.has_value());
  EXPECT_TRUE(own->last_ok);
}

repo::BlobId PackNumbered(int n) { return repo::Sha256("pack " + std::to_string(n)); }

// A verify records the packs it found damaged or gone, takes off those it found whole, and
// keeps those it did not read (a verify of one backup must not forget another's damage); prune
// takes off those it deleted or found gone (its new index lists them no more).
TEST_F(VerifyRecordTest, KeepsTheDamagedPacksVerifiesDidNotReadAgain) {
  const repo::BlobId a = PackNumbered(1), b = PackNumbered(2), c = PackNumbered(3);
  ASSERT_TRUE(RecordVerify(*backend_, 1000, false, 1, false, {.damaged = {a, b}}));
  ASSERT_TRUE(RecordVerify(*backend_, 2000, false, 1, false, {.whole = {a}, .damaged = {c}}));
  auto r = LoadVerifyRecord(*backend_);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->damaged_packs, (std::vector<repo::BlobId>{std::min(b, c), std::max(b, c)}));
  auto listed = repo::LoadDamagedPacks(*backend_);
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(*listed, (*r)->damaged_packs);
  const repo::BlobId d = PackNumbered(4);
  ASSERT_TRUE(RecordVerify(*backend_, 3000, true, 1, false, {.whole = {c}, .gone = {d}}));
  listed = repo::LoadDamagedPacks(*backend_);
  ASSERT_TRUE(listed);
  EXPECT_EQ(*listed, (std::vector<repo::BlobId>{std::min(b, d), std::max(b, d)}));
  ASSERT_TRUE(ForgetDamagedPacks(*backend_, {b, d}));
  listed = repo::LoadDamagedPacks(*backend_);
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  r = LoadVerifyRecord(*backend_);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->last_ok_time, 3000);  // the other fields as before
}

// The record is advisory and anyone who can write the repository can write it: a list that is
// malformed or too long is an empty one, and the rest of the record still counts.
TEST_F(VerifyRecordTest, AMalformedOrHugeDamagedPackListCountsAsEmpty) {
  const std::string good = PackNumbered(1).Hex();
  std::string huge = "[";
  for (size_t i = 0; i <= repo::kMaxDamagedPacks; ++i) huge += (i ? ",\"" : "\"") + good + "\"";
  huge += "]";
  const std::vector<std::string> lists = {"{}",
                                          std::string("\"") + good + "\"",
                                          "[1]",
                                          "[\"" + good + "\", null]",
                                          "[\"" + good.substr(1) + "\"]",
                                          "[\"" + good + "0\"]",
                                          "[[\"" + good + "\"]]",
                                          huge};
  for (const std::string& list : lists) {
    ASSERT_TRUE(
        backend_->Put(kVerifyRecordObject,
                      R"({"last_time": 5, "last_ok": false, "damaged_packs": )" + list + "}"));
    auto listed = repo::LoadDamagedPacks(*backend_);
    ASSERT_TRUE(listed) << list.substr(0, 80) << ": " << listed.error().message;
    EXPECT_TRUE(listed->empty()) << list.substr(0, 80);
    auto r = LoadVerifyRecord(*backend_);
    ASSERT_TRUE(r && *r) << list.substr(0, 80);
    EXPECT_EQ((*r)->last_time, 5);
    EXPECT_TRUE((*r)->damaged_packs.empty());
  }
  // Upper-case hex is not how velin writes an id: not a pack of this list either.
  std::string upper = good;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  ASSERT_TRUE(backend_->Put(kVerifyRecordObject, "{\"damaged_packs\": [\"" + upper + "\"]}"));
  auto listed = repo::LoadDamagedPacks(*backend_);
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  // A record beyond its size bound is not read at all.
  ASSERT_TRUE(
      backend_->Put(kVerifyRecordObject, std::string(repo::kMaxVerifyRecordBytes + 1, ' ') + "{}"));
  listed = repo::LoadDamagedPacks(*backend_);
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  // A list of many ids is read whole.
  std::string longest = "{\"damaged_packs\": [";
  for (size_t i = 0; i < 1000; ++i)
    longest += (i ? ",\"" : "\"") + PackNumbered(static_cast<int>(i)).Hex() + "\"";
  ASSERT_TRUE(backend_->Put(kVerifyRecordObject, longest + "]}"));
  listed = repo::LoadDamagedPacks(*backend_);
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 1000u);
}

}  // namespace
}  // namespace velin::backup
