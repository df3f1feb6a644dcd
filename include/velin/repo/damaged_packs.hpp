// The packs a `backup verify` read and found damaged (a flipped byte, a blob that does not open
// or hash to its id, a pack cut short), as the verify record "state/verify" lists them under
// "damaged_packs" (docs/repository-format.md, "state/verify"). Repository::LoadIndex takes them
// as absent, so that `create` stores their blobs again and readers take a blob another pack
// also holds from there. The record is advisory and anyone who can write the repository can
// write it: a list that is malformed or longer than kMaxDamagedPacks counts as empty, and an
// object larger than kMaxVerifyRecordBytes is not read.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/blob_id.hpp"
#include "velin/storage/backend.hpp"

namespace velin::repo {

inline constexpr const char* kVerifyRecordObject = "state/verify";
inline constexpr size_t kMaxDamagedPacks = 100000;
// Room for kMaxDamagedPacks ids (67 bytes each in the JSON) and the other fields.
inline constexpr uint64_t kMaxVerifyRecordBytes = 8 << 20;

// The ids of `record`'s "damaged_packs", sorted, without repeats: none when the key is absent,
// not an array of pack ids, or longer than kMaxDamagedPacks.
std::vector<BlobId> DamagedPacksIn(const nlohmann::json& record);
// The verify record's text: nullopt when there is none or it is larger than
// kMaxVerifyRecordBytes; an error only when the storage cannot be read.
Result<std::optional<std::string>> ReadVerifyRecordText(storage::Backend& backend);
// The damaged packs the verify record in `backend` lists (none when no record, or one that
// does not parse); an error only when the storage cannot be read.
Result<std::vector<BlobId>> LoadDamagedPacks(storage::Backend& backend);

}  // namespace velin::repo
