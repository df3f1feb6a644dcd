#include "velin/storage/temp_names.hpp"

namespace velin::storage {
namespace {

constexpr std::string_view kMarker = ".tmp-";
constexpr size_t kUploadHexDigits = 12;  // FileServerBackend's RandomHex(12)

bool IsDigits(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsLowerHex(std::string_view s, size_t length) {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// "<pid>-<tag>-<n>" or "<pid>-<n>" (io::TempPathFor, before and after it named the process space).
bool IsLocalWriterSuffix(std::string_view s) {
  const size_t a = s.find('-');
  if (a == std::string_view::npos || !IsDigits(s.substr(0, a), 10)) return false;
  const std::string_view rest = s.substr(a + 1);
  const size_t b = rest.find('-');
  if (b == std::string_view::npos) return IsDigits(rest, 20);
  const std::string_view tag = rest.substr(0, b);
  return (tag == "x" || IsLowerHex(tag, 8)) && IsDigits(rest.substr(b + 1), 20);
}

}  // namespace

TempName ParseTempName(std::string_view file_name) {
  const size_t marker = file_name.rfind(kMarker);
  if (marker == std::string_view::npos || marker == 0) return {};
  const std::string_view final_name = file_name.substr(0, marker);
  const std::string_view suffix = file_name.substr(marker + kMarker.size());
  if (suffix.starts_with("old-") && IsLowerHex(suffix.substr(4), kUploadHexDigits)) {
    return {TempKind::kMovedAside, final_name};
  }
  if (IsLowerHex(suffix, kUploadHexDigits)) return {TempKind::kUpload, final_name};
  if (IsLocalWriterSuffix(suffix)) return {TempKind::kLocalWriter, final_name};
  return {};
}

bool IsRepositoryDir(const TempLayout& layout, std::string_view dir) {
  return layout.dirs.find(dir) != layout.dirs.end();
}

TempName RepositoryTempName(const TempLayout& layout, std::string_view dir,
                            std::string_view file_name) {
  if (!IsRepositoryDir(layout, dir)) return {};
  const TempName temp = ParseTempName(file_name);
  if (dir.empty() && layout.root_objects.find(temp.final_name) == layout.root_objects.end()) {
    return {};
  }
  return temp;
}

}  // namespace velin::storage
