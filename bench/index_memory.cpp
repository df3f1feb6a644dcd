// How much memory the in-memory index takes per blob: `write` fills a fresh local repository
// with synthetic index objects (random blob ids, `per_pack` blobs per pack, 1,024 packs per
// object, as backups write them), `load` opens it in a fresh process the way every command
// does (Repository::Open + LoadIndex) and prints the resident memory it added, steady and peak.
//   velin_index_memory write DIR BLOBS [PER_PACK]   (PER_PACK: 16, the 1 MiB chunks of a 16 MiB
//   pack) velin_index_memory load DIR
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "cpu_seconds.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/index.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/local_backend.hpp"

namespace {

// VmRSS, VmHWM and RssFile (mapped files: code, libraries) of this process, in bytes.
struct Rss {
  long rss = 0;
  long hwm = 0;
  long file = 0;
};
Rss Memory() {
  std::ifstream in("/proc/self/status");
  std::string line;
  Rss m;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) m.rss = std::atol(line.c_str() + 6) * 1024;
    if (line.rfind("VmHWM:", 0) == 0) m.hwm = std::atol(line.c_str() + 6) * 1024;
    if (line.rfind("RssFile:", 0) == 0) m.file = std::atol(line.c_str() + 8) * 1024;
  }
  return m;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "velin_index_memory: %s\n", what.c_str());
  return 1;
}

int Write(const std::string& dir, size_t blobs, size_t per_pack) {
  using namespace velin;
  auto backend = storage::LocalBackend::Open(io::Env::Default(), dir, true);
  if (!backend) return Fail(backend.error().message);
  if (auto st = repo::Repository::Init(**backend); !st) return Fail(st.error().message);
  auto repository = repo::Repository::Open(**backend, false);
  if (!repository) return Fail(repository.error().message);
  std::mt19937_64 rng(42);
  auto random_id = [&] {
    repo::BlobId id;
    for (size_t i = 0; i < 32; i += 8) {
      uint64_t v = rng();
      std::memcpy(id.bytes.data() + i, &v, 8);
    }
    return id;
  };
  constexpr size_t kPacksPerObject = 1024;
  size_t written = 0;
  while (written < blobs) {
    repo::IndexPacks packs;
    for (size_t p = 0; p < kPacksPerObject && written < blobs; ++p) {
      std::vector<repo::PackEntry> entries;
      uint32_t offset = 0;
      for (size_t b = 0; b < per_pack && written < blobs; ++b, ++written) {
        const uint32_t length = 1000 + static_cast<uint32_t>(rng() % 1'000'000);
        entries.push_back(repo::PackEntry{random_id(), repo::BlobType::kData, repo::Codec::kZstd,
                                          offset, length, length + length / 3});
        offset += length;
      }
      packs.emplace_back(random_id(), std::move(entries));
    }
    std::string object = repo::EncodeIndexObject(packs);
    auto name = (*repository)->HashBlob(object);
    if (!name) return Fail(name.error().message);
    if (auto st = (*backend)->Put("index/" + name->Hex(), object); !st) {
      return Fail(st.error().message);
    }
  }
  std::printf("wrote %zu blobs, %zu per pack\n", blobs, per_pack);
  return 0;
}

int Load(const std::string& dir) {
  using namespace velin;
  auto backend = storage::LocalBackend::Open(io::Env::Default(), dir, false);
  if (!backend) return Fail(backend.error().message);
  const Rss before = Memory();
  auto repository = repo::Repository::Open(**backend, false);
  if (!repository) return Fail(repository.error().message);
  const Rss opened = Memory();
  const double cpu_before = velin::bench::CpuSeconds();
  const auto wall_before = std::chrono::steady_clock::now();
  if (auto st = (*repository)->LoadIndex(); !st) return Fail(st.error().message);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  const double cpu = velin::bench::CpuSeconds() - cpu_before;
  const Rss after = Memory();
  // What is left once the allocator hands freed heap back (decoded index objects, the pack
  // map): the index's own share.
  ::malloc_trim(0);
  const Rss trimmed = Memory();
  const auto& index = (*repository)->index();
  const double n = static_cast<double>(index.size());
  // "resident after load" counts from before Repository::Open, whose own ~2.5 MB (mostly
  // file-backed: library code pages; the same for any repository) fall on every blob;
  // "LoadIndex alone" is what loading the index adds.
  std::printf(
      "blobs %zu packs %zu entry %zu B | resident after load %.1f B/blob | peak while loading "
      "%.1f B/blob | after malloc_trim %.1f B/blob | LoadIndex alone %.1f B/blob | load %.2f s "
      "wall %.2f s CPU | rss before %ld opened %ld (file-backed +%ld) after %ld peak %ld\n",
      index.size(), index.pack_count(), repo::Index::kEntryBytes,
      static_cast<double>(after.rss - before.rss) / n,
      static_cast<double>(after.hwm - before.rss) / n,
      static_cast<double>(trimmed.rss - before.rss) / n,
      static_cast<double>(after.rss - opened.rss) / n, wall, cpu, before.rss, opened.rss,
      opened.file - before.file, after.rss, after.hwm);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "write" && argc >= 4) {
    return Write(argv[2], std::strtoull(argv[3], nullptr, 10),
                 argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 16);
  }
  if (mode == "load" && argc == 3) return Load(argv[2]);
  std::fprintf(stderr,
               "usage: velin_index_memory write DIR BLOBS [PER_PACK] | velin_index_memory load "
               "DIR\n");
  return 2;
}
