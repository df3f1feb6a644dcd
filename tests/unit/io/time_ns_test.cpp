// File times beyond what an int64_t of nanoseconds holds (before 1677, after 2262: ext4 keeps
// times up to 2446) are clamped to the nearest end when a stat is read, never wrapped around.
#include "velin/io/time_ns.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "velin/io/posix_env.hpp"

namespace velin::io {
namespace {

constexpr int64_t kBillion = 1'000'000'000;

TEST(TimeNs, TimesWithinTheRangeAreExact) {
  EXPECT_EQ(TimeNsFrom(0, 0), 0);
  EXPECT_EQ(TimeNsFrom(1'700'000'000, 123), 1'700'000'000 * kBillion + 123);
  EXPECT_EQ(TimeNsFrom(-1, 500'000'000), -500'000'000);  // 1969-12-31T23:59:59.5
  EXPECT_EQ(TimeNsFrom(9'223'372'036, 854'775'807), kMaxTimeNs);
  EXPECT_EQ(TimeNsFrom(-9'223'372'037, 145'224'192), kMinTimeNs);
  EXPECT_EQ(TimeNsFrom(-9'223'372'037, 145'224'193), kMinTimeNs + 1);
  EXPECT_FALSE(AtTimeLimit(TimeNsFrom(-9'223'372'037, 900'000'000)));
}

TEST(TimeNs, TimesBeyondTheRangeAreClampedNotWrapped) {
  EXPECT_EQ(TimeNsFrom(9'223'372'036, 854'775'808), kMaxTimeNs);
  EXPECT_EQ(TimeNsFrom(15'032'385'535, 0), kMaxTimeNs);  // 2446-05-10, ext4's last second
  EXPECT_EQ(TimeNsFrom(INT64_MAX, 999'999'999), kMaxTimeNs);
  EXPECT_EQ(TimeNsFrom(-9'223'372'037, 145'224'191), kMinTimeNs);
  EXPECT_EQ(TimeNsFrom(-17'000'000'000, 0), kMinTimeNs);  // 1431
  EXPECT_EQ(TimeNsFrom(INT64_MIN, 0), kMinTimeNs);
  EXPECT_TRUE(AtTimeLimit(TimeNsFrom(15'032'385'535, 0)));
}

TEST(TimeNs, AStatOfAFarFutureFileGivesTheLastRecordableTime) {
  struct stat st {};
  st.st_mode = S_IFREG | 0644;
  st.st_mtim.tv_sec = 15'032'385'535;  // ext4's 2446, as `touch -d 2500-01-01` leaves it
  st.st_mtim.tv_nsec = 0;
  st.st_ctim.tv_sec = 1'700'000'000;
  st.st_ctim.tv_nsec = 5;
  FileInfo info = FileInfoFromStat(st);
  EXPECT_EQ(info.mtime_ns, kMaxTimeNs);  // was 1861 (the product wrapped around)
  EXPECT_EQ(info.ctime_ns, 1'700'000'000 * kBillion + 5);
}

}  // namespace
}  // namespace velin::io
