#include "velin/core/json_read.hpp"

#include "velin/core/i18n.hpp"

namespace velin {

const nlohmann::json& JsonField(const nlohmann::json& j, const char* key, std::string_view where) {
  if (j.is_object()) {
    if (auto it = j.find(key); it != j.end()) return *it;
  }
  throw JsonFieldError(TrFormat("field '{}{}' is missing", where, key));
}

void ThrowNotAnInteger(const char* key, std::string_view where) {
  throw JsonFieldError(TrFormat("field '{}{}' is not an integer in range", where, key));
}

std::string JsonText(const nlohmann::json& j, const char* key, std::string_view where) {
  const nlohmann::json& v = JsonField(j, key, where);
  if (!v.is_string()) throw JsonFieldError(TrFormat("field '{}{}' is not a string", where, key));
  return v.get<std::string>();
}

std::string JsonProblem(std::string_view text, const std::exception& e) {
  if (const auto* parse = dynamic_cast<const nlohmann::json::parse_error*>(&e)) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      return std::string(Tr("empty"));
    }
    return TrFormat("not valid JSON (at byte {})", parse->byte);
  }
  if (dynamic_cast<const nlohmann::json::exception*>(&e) == nullptr) return e.what();
  std::string what = e.what();
  // at()'s "[json.exception.out_of_range.403] key 'salt' not found".
  if (dynamic_cast<const nlohmann::json::out_of_range*>(&e) != nullptr) {
    const size_t open = what.find("key '");
    const size_t close = open == std::string::npos ? open : what.find("' not found", open + 5);
    if (close != std::string::npos) {
      return TrFormat("field '{}' is missing", what.substr(open + 5, close - open - 5));
    }
  }
  // "[json.exception.type_error.302] type must be string, but is number": the words only.
  if (what.starts_with("[json.exception.")) {
    if (const size_t end = what.find("] "); end != std::string::npos) what.erase(0, end + 2);
  }
  return TrFormat("unexpected JSON ({})", what);
}

}  // namespace velin
