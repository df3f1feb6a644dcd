// Reading JSON objects that velin did not necessarily write (a repository's snapshots and
// config), with errors a user can read: "empty", "not valid JSON (at byte 17)", "field 'host'
// is missing", "field 'stats.files' is not an integer" — never nlohmann's
// "[json.exception.parse_error.101] …" text. The accessors throw JsonFieldError; the caller
// catches std::exception once at its edge and turns it into words with JsonProblem.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "velin/core/json_int.hpp"

namespace velin {

// A field missing or of the wrong type, in words (its what() is the whole phrase).
class JsonFieldError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// j[key]; JsonFieldError "field '<where><key>' is missing" when absent (or j is no object).
// `where` names the enclosing object for the message ("stats." for j = the "stats" object).
const nlohmann::json& JsonField(const nlohmann::json& j, const char* key,
                                std::string_view where = {});
// j[key] as text; JsonFieldError when missing or not a string.
std::string JsonText(const nlohmann::json& j, const char* key, std::string_view where = {});
[[noreturn]] void ThrowNotAnInteger(const char* key, std::string_view where);
// j[key] as JsonInt<T>; JsonFieldError when missing or not an integer that fits T.
template <typename T>
T JsonCount(const nlohmann::json& j, const char* key, std::string_view where = {}) {
  const nlohmann::json& v = JsonField(j, key, where);
  try {
    return JsonInt<T>(v);
  } catch (const nlohmann::json::exception&) {
    ThrowNotAnInteger(key, where);
  }
}

// What is wrong with `text`, of which parsing or reading threw `e`: "empty" (nothing or only
// white space), "not valid JSON (at byte N)", a JsonFieldError's or velin's own runtime_error's
// text; any other nlohmann error without its "[json.exception.…]" tag.
std::string JsonProblem(std::string_view text, const std::exception& e);

}  // namespace velin
