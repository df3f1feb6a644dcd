// The verify record: the repository object "state/verify" (JSON) remembers the outcome of the
// last `backup verify` and the time of the last successful one, so `backup status` can tell
// whether verification is overdue (monitor.max_verify_age) from any host. It is written with
// one durable Put (read-modify-write, no lock beyond verify's shared one: two verifies finishing
// together may lose one record, never corrupt it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "velin/core/error.hpp"
#include "velin/storage/backend.hpp"

namespace velin::backup {

inline constexpr const char* kVerifyRecordObject = "state/verify";

struct VerifyRecord {
  int64_t last_time = 0;  // Unix seconds of the last verify (0: none recorded)
  bool last_ok = false;
  size_t last_backups = 0;
  bool last_restore_test = false;
  int64_t last_ok_time = 0;  // Unix seconds of the last successful verify (0: none)
};

// nullopt when no verify was recorded; a damaged record counts as none.
Result<std::optional<VerifyRecord>> LoadVerifyRecord(storage::Backend& backend);
Status RecordVerify(storage::Backend& backend, int64_t now, bool ok, size_t backups,
                    bool restore_test);

}  // namespace velin::backup
