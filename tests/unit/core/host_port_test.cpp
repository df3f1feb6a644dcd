#include "velin/core/host_port.hpp"

#include <gtest/gtest.h>

namespace velin {
namespace {

TEST(HostPort, PutsAnIpv6AddressInBracketsAndLeavesNamesAndIpv4AsTheyAre) {
  EXPECT_EQ(HostPort("db.example.org", 5432), "db.example.org:5432");
  EXPECT_EQ(HostPort("127.0.0.1", 3306), "127.0.0.1:3306");
  EXPECT_EQ(HostPort("::1", 5432), "[::1]:5432");
  EXPECT_EQ(HostPort("fd00::5", 22), "[fd00::5]:22");
  EXPECT_EQ(HostPort("[::1]", 22), "[::1]:22");  // as a URL gives it: not twice
}

}  // namespace
}  // namespace velin
