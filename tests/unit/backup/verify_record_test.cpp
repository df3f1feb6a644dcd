// The verify record (backup/verify_record.hpp) round trips, and a record that is damaged, in its
// JSON or in the type or range of a number, counts as none: `backup status` then says verify is
// overdue instead of reading a wrapped time.
#include "velin/backup/verify_record.hpp"

#include <gtest/gtest.h>

#include "velin/io/mem_env.hpp"
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

}  // namespace
}  // namespace velin::backup
