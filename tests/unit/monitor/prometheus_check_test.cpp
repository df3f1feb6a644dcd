// The test checker of the Prometheus text format must itself reject what Prometheus rejects,
// or the metrics tests would prove nothing.
#include <gtest/gtest.h>

#include "support/ops_prometheus_check.hpp"

namespace velin::testing {
namespace {

TEST(PrometheusCheck, AcceptsAValidExposition) {
  const auto check = CheckPrometheusText(
      "# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"\\\\\\n\"} 3\n"
      "a_total{x=\"2\"} 0 1700000000000\n# TYPE b gauge\nb -1.5e3\nb{z=\"\"} +Inf\n\n");
  EXPECT_TRUE(check.problems.empty()) << ::testing::PrintToString(check.problems);
  EXPECT_EQ(check.samples.at("a_total{x=\"1\",y=\"q\"\\\n\"}"), 3);
  EXPECT_EQ(check.samples.at("b"), -1500);
}

TEST(PrometheusCheck, RejectsWhatPrometheusRejects) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"no final newline", "a 1"},
      {"bad metric name", "1a 1\n"},
      {"bad label name", "a{1x=\"v\"} 1\n"},
      {"reserved label name", "a{__name__=\"v\"} 1\n"},
      {"unquoted label value", "a{x=v} 1\n"},
      {"bad escape", "a{x=\"\\t\"} 1\n"},
      {"bad value", "a 1,5\n"},
      {"missing value", "a{x=\"1\"}\n"},
      {"unknown type", "# TYPE a countr\na 1\n"},
      {"TYPE twice", "# TYPE a gauge\n# TYPE a gauge\na 1\n"},
      {"TYPE after samples", "a 1\n# TYPE a gauge\n"},
      {"families interleaved", "a 1\nb 1\na{x=\"1\"} 2\n"},
      {"duplicate series", "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n"},
      {"negative counter", "# TYPE a_total counter\na_total -1\n"},
      {"counter without _total", "# TYPE a counter\na 1\n"},
      {"label twice", "a{x=\"1\",x=\"2\"} 1\n"},
  };
  for (const auto& [what, text] : bad) {
    EXPECT_FALSE(CheckPrometheusText(text).problems.empty()) << what;
  }
}

}  // namespace
}  // namespace velin::testing
