#include "velin/core/json_read.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace velin {
namespace {

// What JsonProblem says of `text` after parsing it and reading `read` from it threw.
std::string ProblemOfJson(const std::string& text,
                          const std::function<void(const nlohmann::json&)>& read = {}) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (read) read(j);
  } catch (const std::exception& e) {
    return JsonProblem(text, e);
  }
  return "no problem";
}

TEST(JsonProblem, SaysEmptyNotValidJsonAndTheFieldInsteadOfTheLibrarysText) {
  EXPECT_EQ(ProblemOfJson(""), "empty");
  EXPECT_EQ(ProblemOfJson(" \n"), "empty");
  // nlohmann counts from 1; here past the 8 bytes: the input ended.
  EXPECT_EQ(ProblemOfJson("{\"a\": 1,"), "not valid JSON (at byte 9)");
  EXPECT_EQ(ProblemOfJson("{}", [](const auto& j) { JsonText(j, "host"); }),
            "field 'host' is missing");
  EXPECT_EQ(ProblemOfJson("{\"host\": 7}", [](const auto& j) { JsonText(j, "host"); }),
            "field 'host' is not a string");
  EXPECT_EQ(ProblemOfJson("{\"files\": \"x\"}",
                          [](const auto& j) { JsonCount<uint64_t>(j, "files", "stats."); }),
            "field 'stats.files' is not an integer in range");
  EXPECT_EQ(ProblemOfJson("{}", [](const auto& j) { (void)j.at("salt"); }),
            "field 'salt' is missing");
  const std::string other =
      ProblemOfJson("{\"a\": 1}", [](const auto& j) { (void)j.at("a").template get<bool>(); });
  EXPECT_EQ(other.find("json.exception"), std::string::npos) << other;
  EXPECT_EQ(other.rfind("unexpected JSON (", 0), 0u) << other;
}

}  // namespace
}  // namespace velin
