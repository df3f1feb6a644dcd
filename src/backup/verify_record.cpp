#include "velin/backup/verify_record.hpp"

#include <nlohmann/json.hpp>

#include "velin/core/json_int.hpp"

namespace velin::backup {

Result<std::optional<VerifyRecord>> LoadVerifyRecord(storage::Backend& backend) {
  VELIN_ASSIGN(auto info, backend.Stat(kVerifyRecordObject));
  if (!info) return std::optional<VerifyRecord>();
  VELIN_ASSIGN(std::string text, backend.Get(kVerifyRecordObject));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::optional<VerifyRecord>();
  // A record with a value of the wrong type or range counts as no record, like one that does
  // not parse: it only says when verify last ran.
  VerifyRecord r;
  try {
    r.last_time = JsonIntOr<int64_t>(j, "last_time", 0);
    r.last_ok = j.value("last_ok", false);
    r.last_backups = JsonIntOr<size_t>(j, "last_backups", 0);
    r.last_restore_test = j.value("last_restore_test", false);
    r.last_ok_time = JsonIntOr<int64_t>(j, "last_ok_time", 0);
  } catch (const nlohmann::json::exception&) {
    return std::optional<VerifyRecord>();
  }
  return std::optional<VerifyRecord>(r);
}

Status RecordVerify(storage::Backend& backend, int64_t now, bool ok, size_t backups,
                    bool restore_test) {
  auto previous = LoadVerifyRecord(backend);
  VerifyRecord r;
  if (previous && *previous) r = **previous;
  r.last_time = now;
  r.last_ok = ok;
  r.last_backups = backups;
  r.last_restore_test = restore_test;
  if (ok) r.last_ok_time = now;
  nlohmann::json j = {{"last_time", r.last_time},
                      {"last_ok", r.last_ok},
                      {"last_backups", r.last_backups},
                      {"last_restore_test", r.last_restore_test},
                      {"last_ok_time", r.last_ok_time}};
  return backend.Put(kVerifyRecordObject, j.dump() + "\n");
}

}  // namespace velin::backup
