#include "velin/repo/damaged_packs.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace velin::repo {

std::vector<BlobId> DamagedPacksIn(const nlohmann::json& record) {
  if (!record.is_object()) return {};
  auto it = record.find("damaged_packs");
  if (it == record.end() || !it->is_array() || it->size() > kMaxDamagedPacks) return {};
  std::vector<BlobId> packs;
  packs.reserve(it->size());
  for (const auto& v : *it) {
    if (!v.is_string()) return {};
    std::optional<BlobId> id = ParseBlobId(v.get_ref<const std::string&>());
    if (!id || id->Hex() != v.get_ref<const std::string&>()) return {};  // lowercase, as written
    packs.push_back(*id);
  }
  std::sort(packs.begin(), packs.end());
  packs.erase(std::unique(packs.begin(), packs.end()), packs.end());
  return packs;
}

Result<std::optional<std::string>> ReadVerifyRecordText(storage::Backend& backend) {
  VELIN_ASSIGN(auto info, backend.Stat(kVerifyRecordObject));
  if (!info || info->size > kMaxVerifyRecordBytes) return std::optional<std::string>();
  auto text = backend.Get(kVerifyRecordObject);
  // Gone between the Stat and the Get (another verify replacing it): as if never there.
  if (!text && storage::IsNotFound(text.error())) return std::optional<std::string>();
  if (!text) return tl::unexpected(text.error());
  if (text->size() > kMaxVerifyRecordBytes) return std::optional<std::string>();
  return std::optional<std::string>(std::move(*text));
}

Result<std::vector<BlobId>> LoadDamagedPacks(storage::Backend& backend) {
  VELIN_ASSIGN(std::optional<std::string> text, ReadVerifyRecordText(backend));
  if (!text) return std::vector<BlobId>();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return std::vector<BlobId>();
  return DamagedPacksIn(j);
}

}  // namespace velin::repo
