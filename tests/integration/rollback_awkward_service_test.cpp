// A switch with awkward application commands: a health check slower than 10 s.
#include <gtest/gtest.h>

#include <chrono>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

// Each attempt of the health check may take the time left of health_timeout: one that takes
// 11 s passes within 25s (before, every attempt was cut at 10 s and it never passed).
TEST(RollbackAwkwardServiceTest, AHealthCheckSlowerThanTenSecondsPassesWithinHealthTimeout) {
  ToyAppOptions options = NoService();
  options.health_timeout = "25s";
  options.extra_rollback = "health = \"sleep 11\"\n";
  ToyApp app(options);
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1"}).exit_code, 0);
  const auto start = std::chrono::steady_clock::now();
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Health check passed"), std::string::npos) << r.out;
  EXPECT_LT(seconds, 24.0);
}

}  // namespace
}  // namespace velin::testing
