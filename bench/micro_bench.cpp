// Micro-benchmarks of the loops every byte of a backup passes through: SHA-256 (OpenSSL EVP, the
// blob id), zstd level 3 (the default compression) and gzip level 6 (zlib), each on 1 MiB
// buffers of random (incompressible) and text-like data, so a regression in the engine's
// throughput can be told apart from a change in the libraries. Throughput is reported in
// bytes/second.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <random>
#include <string>

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

}  // namespace
