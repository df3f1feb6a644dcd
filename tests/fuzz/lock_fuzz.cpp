// Fuzzes the reading of repository lock objects (docs/repository-format.md, "Locks"): a torn
// write, another velin's format or a hostile repository may leave any bytes under locks/. Every
// input must give a listing or an error, never a crash; an object that is not valid lock JSON
// is listed as unreadable, never as a holder. The first byte picks the object's name (kind)
// and its storage time; the rest is its content. Objects live in memory.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "velin/repo/lock.hpp"

namespace {

constexpr int64_t kStorageNow = 1'790'020'000;

class MemoryBackend : public velin::storage::Backend {
 public:
  std::map<std::string, std::string> objects;
  int64_t mtime = 0;
  std::string Location() const override { return "memory"; }
  velin::Status Put(const std::string& name, std::string_view data) override {
    objects[name] = std::string(data);
    return velin::Ok();
  }
  velin::Result<std::string> Get(const std::string& name) override {
    auto it = objects.find(name);
    if (it == objects.end()) return tl::unexpected(velin::Error{velin::ExitCode::kFailed, name, 2});
    return it->second;
  }
  velin::Result<std::string> GetRange(const std::string& name, uint64_t offset,
                                      uint64_t length) override {
    auto all = Get(name);
    if (!all) return all;
    if (offset > all->size()) return std::string();
    return all->substr(offset, length);
  }
  velin::Result<std::vector<velin::storage::ObjectInfo>> List(const std::string& prefix) override {
    std::vector<velin::storage::ObjectInfo> out;
    for (const auto& [name, data] : objects) {
      // The clock probe (repo::StorageClock) is written "now"; the lock objects at `mtime`.
      const int64_t at = name.rfind("state/clock-", 0) == 0 ? kStorageNow : mtime;
      if (name.rfind(prefix, 0) == 0) out.push_back({name, data.size(), at});
    }
    return out;
  }
  velin::Status Delete(const std::string& name) override {
    objects.erase(name);
    return velin::Ok();
  }
  velin::Result<std::optional<velin::storage::ObjectInfo>> Stat(const std::string& name) override {
    auto it = objects.find(name);
    if (it == objects.end()) return std::optional<velin::storage::ObjectInfo>();
    return std::optional<velin::storage::ObjectInfo>(
        velin::storage::ObjectInfo{name, it->second.size(), mtime});
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kNames[] = {"locks/shared-1", "locks/exclusive-2", "locks/commit-3",
                                       "locks/garbage"};
  MemoryBackend backend;
  backend.mtime = 1'790'000'000 + (data[0] >> 2) * 600;
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  backend.objects[kNames[data[0] & 3]] = text;
  backend.objects["locks/shared-0"] = R"({"host":"h","pid":1,"kind":"shared","time":1})";
  auto locks = velin::repo::ListLocks(velin::io::Env::Default(), backend,
                                      std::chrono::seconds(1800), kStorageNow);
  if (!locks && locks.error().message.empty()) __builtin_trap();
  if (locks) {
    for (const auto& lock : locks->locks) {
      if (lock.name.rfind("locks/", 0) != 0) __builtin_trap();
    }
  }
  return 0;
}
