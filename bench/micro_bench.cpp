// Micro-benchmarks of the loops every byte of a backup passes through: the content-defined
// chunker, SHA-256 (OpenSSL EVP, the blob id), zstd level 3 (the default compression) and gzip
// level 6 (zlib), the last three on 1 MiB buffers of random (incompressible) and text-like
// data, so a regression in the engine's throughput can be told apart from a change in the
// libraries. Throughput is reported in bytes of input per second. Also the in-memory index:
// a lookup (hit and miss) and building it (AddPack + Finalize), per blob.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "velin/crypto/aead.hpp"
#include "velin/crypto/kdf.hpp"
#include "velin/db/mysql_dump_counter.hpp"
#include "velin/repo/blob_id_set.hpp"
#include "velin/repo/chunker.hpp"
#include "velin/repo/codec.hpp"
#include "velin/repo/delta.hpp"
#include "velin/repo/index.hpp"

namespace {

constexpr size_t kBuffer = 1 << 20;

// Deterministic 1 MiB buffers: random bytes, or log-like text lines.
const std::string& Buffer(bool text) {
  static const std::string random_data = [] {
    std::mt19937_64 rng(42);
    std::string s(kBuffer, '\0');
    for (size_t i = 0; i < s.size(); i += 8) {
      const uint64_t v = rng();
      for (size_t j = 0; j < 8 && i + j < s.size(); ++j) s[i + j] = static_cast<char>(v >> (8 * j));
    }
    return s;
  }();
  static const std::string text_data = [] {
    std::mt19937 rng(42);
    const char* words[] = {"backup", "restore", "INFO", "WARN", "request", "user", "took",
                           "ms",     "id",      "GET",  "POST", "/api/v1", "200",  "shop"};
    std::string s;
    while (s.size() < kBuffer) {
      s += "2026-11-25 14:" + std::to_string(rng() % 60) + ":" + std::to_string(rng() % 60) + " ";
      for (int w = 0; w < 8; ++w) s += std::string(words[rng() % 14]) + " ";
      s += std::to_string(rng() % 100000) + "\n";
    }
    s.resize(kBuffer);
    return s;
  }();
  return text ? text_data : random_data;
}

void BM_Sha256(benchmark::State& state) {
  const std::string& data = Buffer(false);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  for (auto _ : state) {
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    EVP_DigestUpdate(ctx, data.data(), data.size());
    EVP_DigestFinal_ex(ctx, digest, &len);
    benchmark::DoNotOptimize(digest);
  }
  EVP_MD_CTX_free(ctx);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Sha256);

// scrypt with the key objects' defaults (N=2^15, r=8, p=1): velin's (ROMix on huge pages) and
// OpenSSL's EVP_PBE_scrypt (what velin used before), one derivation per iteration. Each
// iteration changes the salt: DeriveKey would answer a repeated one from memory.
void BM_Scrypt(benchmark::State& state) {
  const bool openssl = state.range(0) == 1;
  const std::string pass = "correct horse battery staple";
  std::string salt(32, 's');
  uint64_t round = 0;
  unsigned char key[32];
  for (auto _ : state) {
    std::memcpy(salt.data(), &round, sizeof round);
    ++round;
    if (openssl) {
      if (EVP_PBE_scrypt(pass.data(), pass.size(),
                         reinterpret_cast<const unsigned char*>(salt.data()), salt.size(),
                         uint64_t{1} << 15, 8, 1, uint64_t{64} << 20, key, sizeof key) != 1) {
        state.SkipWithError("EVP_PBE_scrypt failed");
      }
    } else if (!velin::crypto::DeriveKey(pass, salt, {})) {
      state.SkipWithError("DeriveKey failed");
    }
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_Scrypt)->ArgName("openssl")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Opening a 1 MiB AES-256-GCM envelope: the Sealer (velin's 512-bit code on a CPU with VAES
// and AVX-512, else OpenSSL's) against OpenSSL's EVP decryption of the same bytes.
void BM_AesGcmOpen(benchmark::State& state) {
  const bool openssl = state.range(0) == 1;
  velin::crypto::Key256 key;
  for (size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<uint8_t>(i * 13);
  auto sealer = velin::crypto::Sealer::Create(velin::crypto::Cipher::kAes256Gcm, key);
  if (!sealer) {
    state.SkipWithError("no sealer");
    return;
  }
  const std::string name = "velin blob 0123456789abcdef0123456789abcdef";
  std::string envelope;
  if (!(*sealer)->Seal(Buffer(false), name, envelope)) state.SkipWithError("sealing failed");
  std::string out(kBuffer, '\0');
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key.data(), nullptr, nullptr);
  const auto* env = reinterpret_cast<const unsigned char*>(envelope.data());
  for (auto _ : state) {
    if (openssl) {
      int len = 0;
      unsigned char tag[16];
      std::memcpy(tag, env + envelope.size() - 16, 16);
      const std::string aad = envelope.substr(0, 2) + name;
      bool ok =
          EVP_DecryptInit_ex2(ctx, nullptr, nullptr, env + 2, nullptr) == 1 &&
          EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                            static_cast<int>(aad.size())) == 1 &&
          EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                            env + velin::crypto::kEnvelopeHeaderSize,
                            static_cast<int>(kBuffer)) == 1 &&
          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1 &&
          EVP_DecryptFinal_ex(ctx, nullptr, &len) == 1;
      if (!ok) state.SkipWithError("EVP refused the envelope");
    } else if (!(*sealer)->OpenTo(envelope, name, out.data())) {
      state.SkipWithError("Open refused the envelope");
    }
    benchmark::DoNotOptimize(out.data());
  }
  EVP_CIPHER_CTX_free(ctx);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBuffer));
  state.SetLabel(velin::crypto::Sealer::UsesWideAesGcm() ? "velin: 512-bit code"
                                                         : "velin: OpenSSL");
}
BENCHMARK(BM_AesGcmOpen)->ArgName("openssl")->Arg(0)->Arg(1);

void BM_Zstd3(benchmark::State& state) {
  const std::string& data = Buffer(state.range(0) != 0);
  std::string out(ZSTD_compressBound(data.size()), '\0');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  size_t size = 0;
  for (auto _ : state) {
    size = ZSTD_compressCCtx(cctx, out.data(), out.size(), data.data(), data.size(), 3);
    benchmark::DoNotOptimize(size);
  }
  ZSTD_freeCCtx(cctx);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
  state.counters["ratio"] = static_cast<double>(data.size()) / static_cast<double>(size);
}
BENCHMARK(BM_Zstd3)->ArgName("text")->Arg(0)->Arg(1);

void BM_ZstdDecompress(benchmark::State& state) {
  const std::string& data = Buffer(true);
  std::string packed(ZSTD_compressBound(data.size()), '\0');
  packed.resize(ZSTD_compress(packed.data(), packed.size(), data.data(), data.size(), 3));
  std::string out(data.size(), '\0');
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        ZSTD_decompressDCtx(dctx, out.data(), out.size(), packed.data(), packed.size()));
  }
  ZSTD_freeDCtx(dctx);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_ZstdDecompress);

// A blob as restore and verify decode it (repo::DecompressInto), small and large: per blob, not
// only per byte. ZSTD_decompress() made a context per call (CPUID twice, trapped in a VM):
// ~7 us a blob on the benchmark VM, whatever its size.
void BM_DecompressBlob(benchmark::State& state) {
  const std::string data = Buffer(true).substr(0, static_cast<size_t>(state.range(0)));
  std::string packed;
  const velin::repo::Codec used =
      velin::repo::CompressInto(velin::repo::Codec::kZstd, 3, data, packed);
  std::string out;
  for (auto _ : state) {
    auto st = velin::repo::DecompressInto(used, packed, data.size(), out);
    benchmark::DoNotOptimize(st);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_DecompressBlob)->ArgName("bytes")->Arg(4 << 10)->Arg(1 << 20);

void BM_Gzip6(benchmark::State& state) {
  const std::string& data = Buffer(state.range(0) != 0);
  std::string out(compressBound(data.size()) + 32, '\0');
  size_t size = 0;
  for (auto _ : state) {
    z_stream zs{};
    deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // gzip wrapper
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) state.SkipWithError("deflate failed");
    size = zs.total_out;
    deflateEnd(&zs);
    benchmark::DoNotOptimize(size);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
  state.counters["ratio"] = static_cast<double>(data.size()) / static_cast<double>(size);
}
BENCHMARK(BM_Gzip6)->ArgName("text")->Arg(0)->Arg(1);

// The chunker's cut-point search over 64 MiB of random data, with the repository's default
// parameters (min 512 KiB / avg 1 MiB / max 8 MiB).
const std::string& ChunkerData() {
  static const std::string data = [] {
    std::mt19937_64 rng(7);
    std::string s(64 << 20, '\0');
    for (size_t i = 0; i + 8 <= s.size(); i += 8) {
      const uint64_t v = rng();
      std::memcpy(&s[i], &v, 8);
    }
    return s;
  }();
  return data;
}

void BM_Chunker(benchmark::State& state) {
  const std::string& data = ChunkerData();
  const velin::repo::Chunker chunker(velin::repo::ChunkerParams{});
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  size_t chunks = 0;
  for (auto _ : state) {
    size_t pos = 0;
    while (pos < data.size()) {
      pos += chunker.Cut(bytes + pos, data.size() - pos);
      ++chunks;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
  state.counters["avg_chunk_KiB"] =
      static_cast<double>(state.iterations() * data.size()) / static_cast<double>(chunks) / 1024;
}
BENCHMARK(BM_Chunker);

// The same data as a stream arrives (a dump tool's pipe: ~107 KiB a read, or 1 MiB pieces),
// through StreamChunker::Feed: the copy into its buffer plus the cut search, which resumes
// where it ran out of bytes.
void BM_StreamChunker(benchmark::State& state) {
  const std::string& data = ChunkerData();
  const velin::repo::Chunker chunker(velin::repo::ChunkerParams{});
  const auto piece = static_cast<size_t>(state.range(0));
  size_t chunks = 0;
  for (auto _ : state) {
    velin::repo::StreamChunker sc(chunker, [&](std::string_view) {
      ++chunks;
      return velin::Ok();
    });
    for (size_t pos = 0; pos < data.size(); pos += piece) {
      if (!sc.Feed(std::string_view(data).substr(pos, piece))) state.SkipWithError("feed");
    }
    if (!sc.Finish()) state.SkipWithError("finish");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
  state.counters["avg_chunk_KiB"] =
      static_cast<double>(state.iterations() * data.size()) / static_cast<double>(chunks) / 1024;
}
BENCHMARK(BM_StreamChunker)->ArgName("piece")->Arg(107 << 10)->Arg(1 << 20);

// A delta blob's encoding (docs/delta.md): the text buffer with every 100th line edited — a
// value changed in place (arg 0) or the line deleted (arg 1) — against the original.
void BM_EncodeDelta(benchmark::State& state) {
  const std::string& base = Buffer(true);
  std::string target;
  size_t line = 0;
  for (size_t at = 0; at < base.size();) {
    size_t end = base.find('\n', at);
    end = end == std::string::npos ? base.size() : end + 1;
    if (++line % 100 != 0) {
      target.append(base, at, end - at);
    } else if (state.range(0) == 0) {
      target += "changed " + base.substr(at + 8, end - at - 8);
    }
    at = end;
  }
  std::string delta;
  for (auto _ : state) {
    bool ok = velin::repo::EncodeDelta(3, target, base, base.size(), delta);
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * target.size()));
  state.counters["delta_bytes"] = static_cast<double>(delta.size());
}
BENCHMARK(BM_EncodeDelta)->ArgName("deleted")->Arg(0)->Arg(1);

// The in-memory index of `blobs` random blob ids, 16 blobs a pack (1 MiB chunks in 16 MiB
// packs), built the way LoadIndex builds it; `ids` holds every listed id in listing order.
struct IndexFixture {
  velin::repo::Index index;
  std::vector<velin::repo::BlobId> ids;
};

velin::repo::BlobId RandomId(std::mt19937_64& rng) {
  velin::repo::BlobId id;
  for (size_t i = 0; i < 32; i += 8) {
    const uint64_t v = rng();
    std::memcpy(id.bytes.data() + i, &v, 8);
  }
  return id;
}

std::vector<std::pair<velin::repo::BlobId, std::vector<velin::repo::PackEntry>>> IndexPacksOf(
    size_t blobs, std::vector<velin::repo::BlobId>* ids) {
  std::mt19937_64 rng(42);
  std::vector<std::pair<velin::repo::BlobId, std::vector<velin::repo::PackEntry>>> packs;
  for (size_t written = 0; written < blobs;) {
    std::vector<velin::repo::PackEntry> entries;
    uint32_t offset = 0;
    for (size_t b = 0; b < 16 && written < blobs; ++b, ++written) {
      const uint32_t length = 1000 + static_cast<uint32_t>(rng() % 1'000'000);
      entries.push_back(velin::repo::PackEntry{RandomId(rng), velin::repo::BlobType::kData,
                                               velin::repo::Codec::kZstd, offset, length,
                                               length + length / 3});
      if (ids != nullptr) ids->push_back(entries.back().id);
      offset += length;
    }
    packs.emplace_back(RandomId(rng), std::move(entries));
  }
  return packs;
}

// Lookups of listed ids in random order (hit, arg 1) or of ids not listed (miss, arg 0), in an
// index of 1 M and 4 M blobs; reported as time per lookup.
void BM_IndexFind(benchmark::State& state) {
  const size_t blobs = static_cast<size_t>(state.range(0));
  IndexFixture f;
  {
    auto packs = IndexPacksOf(blobs, &f.ids);
    f.index.Reserve(blobs);
    for (const auto& [pack, entries] : packs) {
      if (!f.index.AddPack(pack, entries)) state.SkipWithError("AddPack failed");
    }
    f.index.Finalize();
  }
  std::mt19937_64 rng(9);
  std::vector<velin::repo::BlobId> probes(1 << 16);
  for (auto& id : probes) id = state.range(1) != 0 ? f.ids[rng() % f.ids.size()] : RandomId(rng);
  size_t i = 0;
  size_t found = 0;
  for (auto _ : state) {
    const auto e = f.index.Find(probes[i++ & (probes.size() - 1)]);
    found += static_cast<bool>(e);
    benchmark::DoNotOptimize(e);
  }
  const auto want = state.range(1) != 0 ? static_cast<size_t>(state.iterations()) : size_t{0};
  if (found != want) state.SkipWithError("wrong hits");
}
BENCHMARK(BM_IndexFind)
    ->ArgNames({"blobs", "hit"})
    ->Args({1 << 20, 1})
    ->Args({1 << 20, 0})
    ->Args({1 << 22, 1})
    ->Args({1 << 22, 0});

// AddPack of every pack, then Finalize (sort, duplicates out): the part of LoadIndex after
// the index objects are read and decoded. Reported per blob.
void BM_IndexBuild(benchmark::State& state) {
  const size_t blobs = static_cast<size_t>(state.range(0));
  const auto packs = IndexPacksOf(blobs, nullptr);
  for (auto _ : state) {
    velin::repo::Index index;
    index.Reserve(blobs);
    for (const auto& [pack, entries] : packs) {
      if (!index.AddPack(pack, entries)) state.SkipWithError("AddPack failed");
    }
    index.Finalize();
    benchmark::DoNotOptimize(index.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * blobs));
}
BENCHMARK(BM_IndexBuild)->ArgName("blobs")->Arg(1 << 20)->Unit(benchmark::kMillisecond);

// The writer's set of ids queued this run (BlobWriter::queued_): BlobIdSet (arg 1) against the
// std::unordered_set it replaced (arg 0). Each iteration inserts 1 M random ids, then looks up
// 1 M more of which half are in the set (a backup asks Known() of every chunk). Reported per id
// inserted; the set's memory is the peak-RSS figure of bench/README.md.
void BM_QueuedIdSet(benchmark::State& state) {
  std::mt19937_64 rng(11);
  const size_t n = 1 << 20;
  std::vector<velin::repo::BlobId> ids(n), probes(n);
  for (auto& id : ids) id = RandomId(rng);
  for (size_t i = 0; i < n; ++i) probes[i] = i % 2 ? ids[rng() % n] : RandomId(rng);
  for (auto _ : state) {
    size_t found = 0;
    if (state.range(0) != 0) {
      velin::repo::BlobIdSet set;
      for (const auto& id : ids) set.Insert(id);
      for (const auto& id : probes) found += set.Contains(id);
    } else {
      std::unordered_set<velin::repo::BlobId, velin::repo::BlobIdHash> set;
      for (const auto& id : ids) set.insert(id);
      for (const auto& id : probes) found += set.count(id);
    }
    if (found != n / 2) state.SkipWithError("wrong hits");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_QueuedIdSet)->ArgName("compact")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// The MariaDB driver's row counter (MysqlDumpCounter::Feed) on a mariadb-dump stream shaped like
// bench/db_bench.sh's accounts table: extended INSERTs of (int,int,int,'84-char filler') tuples
// whose strings hold no escapes, fed in ~107 KiB pieces as the pipe delivers them.
const std::string& DumpData() {
  static const std::string data = [] {
    std::string s = "CREATE TABLE `accounts` (\n  `aid` int(11) NOT NULL\n);\n";
    s += "LOCK TABLES `accounts` WRITE;\n";
    int aid = 1;
    while (s.size() < (16u << 20)) {
      s += "INSERT INTO `accounts` VALUES ";
      for (int t = 0; t < 8000; ++t, ++aid) {
        const std::string n = std::to_string(aid);
        s += (t ? ",(" : "(") + n + "," + std::to_string(aid / 100000 + 1) + ",0,'" +
             std::string(84 - n.size(), ' ') + n + "')";
      }
      s += ";\n";
    }
    s += "UNLOCK TABLES;\n";
    return s;
  }();
  return data;
}

void BM_MysqlDumpCounter(benchmark::State& state) {
  const std::string& data = DumpData();
  constexpr size_t kPiece = 107 << 10;
  for (auto _ : state) {
    velin::db::MysqlDumpCounter counter;
    for (size_t pos = 0; pos < data.size(); pos += kPiece) {
      counter.Feed(std::string_view(data).substr(pos, kPiece));
    }
    const auto tables = counter.Tables();
    if (tables.size() != 1 || tables[0].rows <= 0) state.SkipWithError("no rows counted");
    benchmark::DoNotOptimize(tables);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_MysqlDumpCounter);

}  // namespace
