#include "velin/repo/codec.hpp"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <memory>

#include "velin/core/i18n.hpp"

namespace velin::repo {

Result<Codec> ParseCodec(std::string_view name) {
  if (name == "none") return Codec::kNone;
  if (name == "zstd") return Codec::kZstd;
  if (name == "gzip") return Codec::kGzip;
  return UsageError(TrFormat("unknown compression '{}' (zstd, gzip or none)", name));
}

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kZstd:
      return "zstd";
    case Codec::kGzip:
      return "gzip";
    case Codec::kZstdDelta:
      return "zstd-delta";
    case Codec::kNone:
      break;
  }
  return "none";
}

namespace {

struct ZstdFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// The window must reach from the end of the chunk back to the start of its base.
int DeltaWindowLog(size_t raw_size, size_t base_size) {
  int log = 10;
  while (log < 27 && (size_t{1} << log) < raw_size + base_size) ++log;
  return log;
}

// Inputs this large or larger get zstd's largest tables at any level (ZSTD_getCParams).
constexpr size_t kLargeZstdInput = 256 << 10;

// Bytes written, or 0 on failure.
size_t ZstdCompress(int level, std::string_view raw, char* dst, size_t capacity) {
  // One context per thread for small inputs and one for large: zstd sizes its tables by the
  // input, and frees and remakes a context's workspace after 128 calls that needed a third of
  // it. One context for a walk of small files with large chunks between them was remade
  // again and again, and each large table's fresh pages were faulted in anew.
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdFree> small(ZSTD_createCCtx());
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdFree> large(ZSTD_createCCtx());
  ZSTD_CCtx* cctx = raw.size() >= kLargeZstdInput ? large.get() : small.get();
  size_t n = ZSTD_compressCCtx(cctx, dst, capacity, raw.data(), raw.size(), level);
  return ZSTD_isError(n) ? 0 : n;
}

size_t GzipCompress(int level, std::string_view raw, char* dst, size_t capacity) {
  z_stream zs{};
  if (level < 1 || level > 9) level = 6;
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(dst);
  zs.avail_out = static_cast<uInt>(capacity);
  int rc = deflate(&zs, Z_FINISH);
  size_t n = zs.total_out;
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? n : 0;
}

}  // namespace

size_t CompressBound(Codec codec, size_t raw_size) {
  size_t bound = raw_size;
  if (codec == Codec::kZstd) bound = ZSTD_compressBound(raw_size);
  if (codec == Codec::kGzip) bound = compressBound(static_cast<uLong>(raw_size)) + 64;
  return std::max(bound, raw_size);
}

Codec CompressTo(Codec codec, int level, std::string_view raw, char* dst, size_t capacity,
                 size_t* written) {
  size_t n = 0;
  if (codec == Codec::kZstd) n = ZstdCompress(level, raw, dst, capacity);
  if (codec == Codec::kGzip) n = GzipCompress(level, raw, dst, capacity);
  *written = n;
  return n > 0 && n < raw.size() ? codec : Codec::kNone;
}

Codec CompressInto(Codec codec, int level, std::string_view raw, std::string& out) {
  out.resize(CompressBound(codec, raw.size()));
  size_t n = 0;
  Codec used = CompressTo(codec, level, raw, out.data(), out.size(), &n);
  out.resize(n);
  return used;
}

std::string Compress(Codec codec, int level, std::string_view raw, Codec& used) {
  std::string out;
  used = CompressInto(codec, level, raw, out);
  return used == Codec::kNone ? std::string(raw) : out;
}

Result<std::string> Decompress(Codec codec, std::string_view stored, uint64_t raw_length) {
  std::string out;
  VELIN_TRY(DecompressInto(codec, stored, raw_length, out));
  return out;
}

Status DecompressInto(Codec codec, std::string_view stored, uint64_t raw_length, std::string& out) {
  if (codec == Codec::kNone) {
    if (stored.size() != raw_length)
      return DamageError(std::string(Tr("stored length differs from raw length")));
    out.assign(stored);
    return Ok();
  }
  out.resize(raw_length);
  if (codec == Codec::kZstd) {
    // One context per thread: ZSTD_decompress() makes (and frees) a context of ~160 KiB per
    // call, and making one runs CPUID twice, which a VM traps: 45 % of a restore's user time
    // for 300,000 small files went there.
    thread_local std::unique_ptr<ZSTD_DCtx, ZstdFree> dctx(ZSTD_createDCtx());
    if (!dctx) return Failure(std::string(Tr("zstd: cannot make a decompression context")));
    size_t n =
        ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), stored.data(), stored.size());
    if (ZSTD_isError(n) || n != raw_length) {
      return DamageError(TrFormat(
          "zstd data is corrupt ({})",
          (ZSTD_isError(n) ? std::string_view(ZSTD_getErrorName(n)) : Tr("wrong length"))));
    }
    return Ok();
  }
  if (codec == Codec::kZstdDelta)
    return DamageError(std::string(Tr("a delta blob cannot be read without its base")));
  if (codec == Codec::kGzip) {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
      return Failure(std::string(Tr("zlib: inflateInit2 failed")));
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(stored.data()));
    zs.avail_in = static_cast<uInt>(stored.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&zs, Z_FINISH);
    uint64_t total = zs.total_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || total != raw_length)
      return DamageError(std::string(Tr("gzip data is corrupt")));
    return Ok();
  }
  return DamageError(TrFormat("unknown codec {}", std::to_string(static_cast<int>(codec))));
}

bool CompressDeltaTo(int level, std::string_view raw, std::string_view base, char* dst,
                     size_t capacity, size_t* written) {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdFree> cctx(ZSTD_createCCtx());
  ZSTD_CCtx* c = cctx.get();
  ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
  if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)) ||
      ZSTD_isError(
          ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, DeltaWindowLog(raw.size(), base.size()))) ||
      // Long-distance matching finds the base's long runs: deltas about 2.5 x smaller.
      ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_enableLongDistanceMatching, 1)) ||
      ZSTD_isError(ZSTD_CCtx_refPrefix(c, base.data(), base.size()))) {
    return false;
  }
  size_t n = ZSTD_compress2(c, dst, capacity, raw.data(), raw.size());
  if (ZSTD_isError(n)) return false;
  *written = n;
  return true;
}

Status DecompressDeltaInto(std::string_view frame, std::string_view base, uint64_t raw_length,
                           std::string& out) {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdFree> dctx(ZSTD_createDCtx());
  ZSTD_DCtx* d = dctx.get();
  ZSTD_DCtx_reset(d, ZSTD_reset_session_and_parameters);
  ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 27);
  if (ZSTD_isError(ZSTD_DCtx_refPrefix(d, base.data(), base.size()))) {
    return Failure(std::string(Tr("zstd: cannot reference a delta base")));
  }
  out.resize(raw_length);
  size_t n = ZSTD_decompressDCtx(d, out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n) || n != raw_length) {
    return DamageError(
        TrFormat("zstd delta is corrupt ({})",
                 (ZSTD_isError(n) ? std::string_view(ZSTD_getErrorName(n)) : Tr("wrong length"))));
  }
  return Ok();
}

}  // namespace velin::repo
