#include "velin/core/duration.hpp"

#include <gtest/gtest.h>

#include <string>

namespace velin {
namespace {

TEST(Duration, ParsesEveryUnit) {
  EXPECT_EQ(ParseDuration("500ms"), Duration(500));
  EXPECT_EQ(ParseDuration("30s"), Duration(30'000));
  EXPECT_EQ(ParseDuration("10m"), Duration(600'000));
  EXPECT_EQ(ParseDuration("2h"), Duration(7'200'000));
  EXPECT_EQ(ParseDuration("1d"), Duration(86'400'000));
  EXPECT_EQ(ParseDuration("1w"), Duration(7 * 86'400'000LL));
  EXPECT_EQ(ParseDuration("1h30m"), Duration(5'400'000));
  EXPECT_EQ(ParseDuration("0s"), Duration(0));
}

TEST(Duration, AcceptsMinAsMinutes) {
  EXPECT_EQ(ParseDuration("10min"), Duration(600'000));
  EXPECT_EQ(ParseDuration("1h30min"), Duration(5'400'000));
  EXPECT_EQ(ParseDuration("30min"), ParseDuration("30m"));
}

// Zero needs no unit ("--lock-wait 0"); any other bare number does.
TEST(Duration, ZeroNeedsNoUnit) {
  EXPECT_EQ(ParseDuration("0"), Duration(0));
  EXPECT_EQ(ParseDuration("00"), Duration(0));
  EXPECT_FALSE(ParseDuration("01"));
  EXPECT_FALSE(ParseDuration("0 "));
}

TEST(Duration, RejectsWhatIsNotADuration) {
  for (const char* bad :
       {"", "10", "10x", "s", "-5s", "1.5h", "10 m", "m10", "1h30", "10mins", "10mi"}) {
    EXPECT_FALSE(ParseDuration(bad)) << bad;
  }
}

TEST(Duration, RejectsWhatOverflowsInsteadOfWrapping) {
  EXPECT_FALSE(ParseDuration("999999999999w"));
  std::string many;
  for (int i = 0; i < 40; ++i) many += "999999999999h";
  EXPECT_FALSE(ParseDuration(many));
  EXPECT_FALSE(ParseDuration("999999999999d"));
  // 100 years at most: a deadline of now plus more wrapped into the past (the clock counts ns).
  EXPECT_FALSE(ParseDuration("99999999999d"));
  EXPECT_FALSE(ParseDuration("106751991167d"));
  EXPECT_EQ(ParseDuration("36500d"), kMaxDuration);
  EXPECT_FALSE(ParseDuration("36500d1ms"));
  EXPECT_FALSE(ParseDuration("36499d24h1ms"));
  EXPECT_EQ(ParseDuration("5214w2d"), Duration(36500 * 86'400'000LL));
}

TEST(Duration, FormatsShortestExactForm) {
  EXPECT_EQ(FormatDuration(Duration(0)), "0s");
  EXPECT_EQ(FormatDuration(Duration(90'000)), "1m30s");
  EXPECT_EQ(FormatDuration(Duration(26LL * 3'600'000)), "1d2h");
  EXPECT_EQ(FormatDuration(Duration(1'500)), "1s500ms");
}

TEST(Duration, FormatThenParseIsIdentity) {
  for (int64_t ms : {1LL, 999LL, 61'001LL, 86'400'000LL * 3 + 7}) {
    EXPECT_EQ(ParseDuration(FormatDuration(Duration(ms))), Duration(ms));
  }
}

}  // namespace
}  // namespace velin
