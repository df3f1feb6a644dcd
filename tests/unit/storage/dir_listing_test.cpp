#include "velin/storage/dir_listing.hpp"

#include <gtest/gtest.h>

namespace velin::storage {
namespace {

TEST(DirListing, ParsesOpenSshAndVsftpdListings) {
  const char* text =
      "drwxr-xr-x    2 root     root         4096 Nov 25 15:48 .\n"
      "drwxr-xr-x    3 root     root         4096 Nov 25 15:48 ..\n"
      "-rw-------    1 999      995             3 Nov 25 15:48 config\r\n"
      "drwx------    3 velin    velin        4096 Jan  2  2025 data\n"
      "-rw-r--r--    1 u        g      1234567890 Dec 31 23:59 name with  spaces\n"
      "lrwxrwxrwx    1 u        g             4 Dec 31 23:59 link -> x\n"
      "total 12\n";
  auto entries = ParseLongListing(text);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "config");
  EXPECT_EQ(entries[0].size, 3u);
  EXPECT_FALSE(entries[0].is_directory);
  EXPECT_EQ(entries[1].name, "data");
  EXPECT_TRUE(entries[1].is_directory);
  EXPECT_EQ(entries[2].name, "name with  spaces");
  EXPECT_EQ(entries[2].size, 1234567890u);
}

TEST(DirListing, ParsesAListingWithoutAGroupColumn) {
  auto entries = ParseLongListing("-rw-r--r-- 1 owner 42 Mar  3 10:00 file\n");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].size, 42u);
  EXPECT_EQ(entries[0].name, "file");
}

// Modification times (lock ages, prune's age guard): a date with a time is within the half year
// before "now" (this year, or last year for a later date), a date with a year is that day.
TEST(DirListing, ReadsModificationTimesAsUtc) {
  const int64_t now = 1796008800;  // 2026-11-30T03:20:00Z
  auto entries = ParseLongListing(
      "-rw------- 1 u g 3 Nov 30 03:07 recent\n"
      "-rw------- 1 u g 3 Dec 24 18:00 last-year\n"
      "-rw------- 1 u g 3 Jan  2  2025 dated\n"
      "-rw------- 1 u g 3 Nov 30 3x:07 odd\n",
      now);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].mtime, now - 13 * 60);
  EXPECT_EQ(entries[1].mtime, 1766599200);  // 2025-12-24T18:00:00Z
  EXPECT_EQ(entries[2].mtime, 1735776000);  // 2025-01-02T00:00:00Z
  EXPECT_EQ(entries[3].mtime, 0) << "unreadable: unknown, never guessed";
}

TEST(DirListing, SkipsLinesItCannotRead) {
  EXPECT_TRUE(
      ParseLongListing("garbage\n-rw nonsense\n-rw-r--r-- 1 a b x Mar 3 10:00 f\n").empty());
  EXPECT_TRUE(ParseLongListing("").empty());
}

}  // namespace
}  // namespace velin::storage
