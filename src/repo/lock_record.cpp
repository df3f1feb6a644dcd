// A lock object's body (FormatLockRecord, ParseLockRecord) and the storage's clock, read from
// a probe object's listed time (StorageClock): the parts of the repository lock that hold no
// lock (lock.cpp takes and judges them).
#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "lock_object.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/json_int.hpp"
#include "velin/core/termination.hpp"
#include "velin/core/text_encoding.hpp"
#include "velin/repo/blob_id.hpp"
#include "velin/repo/lock.hpp"

namespace velin::repo {

namespace {

// Probe objects StorageClock writes, lists and deletes at once.
constexpr const char* kClockProbePrefix = "state/clock-";

}  // namespace

void RemoveLockObject(storage::Backend& backend, const std::string& name) {
  TerminationCleanup cleanup;
  (void)backend.Delete(name);
}

std::string FormatLockRecord(const LockRecord& r) {
  const LockHolder& h = r.holder;
  nlohmann::json j = {{"host", h.host},
                      {"pid", h.pid},
                      {"kind", r.kind},
                      {"time", r.time},
                      {"machine_id", h.machine_id},
                      {"boot_id", h.boot_id},
                      {"pid_ns", h.pid_ns},
                      {"start_ticks", h.start_ticks}};
  return DumpJson(j) + "\n";
}

std::optional<LockRecord> ParseLockRecord(const std::string& text) {
  try {
    auto j = nlohmann::json::parse(text);
    LockRecord p;
    p.holder.host = j.at("host").get<std::string>();
    p.holder.pid = JsonInt<int64_t>(j.at("pid"));
    p.kind = j.at("kind").get<std::string>();
    p.time = JsonInt<int64_t>(j.at("time"));
    p.holder.machine_id = j.value("machine_id", "");
    p.holder.boot_id = j.value("boot_id", "");
    p.holder.pid_ns = j.value("pid_ns", "");
    p.holder.start_ticks = JsonIntOr(j, "start_ticks", int64_t{0});
    return p;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Result<std::optional<int64_t>> StorageClock(storage::Backend& backend) {
  std::string nonce(8, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), 8);
  const std::string name = std::string(kClockProbePrefix) + Sha256(nonce).Hex().substr(0, 16);
  if (auto put = backend.Put(name, "velin: the storage's clock, read and removed at once\n");
      !put) {
    RemoveLockObject(backend, name);  // a Put may fail after its object is in place
    return tl::unexpected(put.error());
  }
  auto listed = backend.List(kClockProbePrefix);
  RemoveLockObject(backend, name);
  if (!listed) return tl::unexpected(listed.error());
  std::optional<int64_t> now;
  for (const auto& o : *listed) {
    if (o.name == name && o.mtime > 0) now = o.mtime;
  }
  if (!now) return now;
  for (const auto& o : *listed) {
    if (o.name != name && o.mtime > 0 && *now - o.mtime > storage::kStaleTempAge) {
      (void)backend.Delete(o.name);  // a probe a kill left behind
    }
  }
  return now;
}

std::string StorageClockUnread(const std::string& clock_error) {
  return TrFormat(
      "cannot read the storage's clock ({}): lock ages are measured by this machine's clock",
      clock_error);
}

}  // namespace velin::repo
