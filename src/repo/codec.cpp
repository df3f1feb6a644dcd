#include "velin/repo/codec.hpp"

#include <zlib.h>
#include <zstd.h>

#include <memory>

namespace velin::repo {

Result<Codec> ParseCodec(std::string_view name) {
  if (name == "none") return Codec::kNone;
  if (name == "zstd") return Codec::kZstd;
  if (name == "gzip") return Codec::kGzip;
  return UsageError("unknown compression '" + std::string(name) + "' (zstd, gzip or none)");
}

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kZstd:
      return "zstd";
    case Codec::kGzip:
      return "gzip";
    case Codec::kNone:
      break;
  }
  return "none";
}

namespace {

bool ZstdCompress(int level, std::string_view raw, std::string& out) {
  out.resize(ZSTD_compressBound(raw.size()));
  struct Free {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  thread_local std::unique_ptr<ZSTD_CCtx, Free> cctx(ZSTD_createCCtx());
  size_t n = ZSTD_compressCCtx(cctx.get(), out.data(), out.size(), raw.data(), raw.size(), level);
  if (ZSTD_isError(n)) return false;
  out.resize(n);
  return true;
}

bool GzipCompress(int level, std::string_view raw, std::string& out) {
  z_stream zs{};
  if (level < 1 || level > 9) level = 6;
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  out.resize(deflateBound(&zs, raw.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END;
}

}  // namespace

Codec CompressInto(Codec codec, int level, std::string_view raw, std::string& out) {
  bool ok = false;
  if (codec == Codec::kZstd) ok = ZstdCompress(level, raw, out);
  if (codec == Codec::kGzip) ok = GzipCompress(level, raw, out);
  return ok && out.size() < raw.size() ? codec : Codec::kNone;
}

std::string Compress(Codec codec, int level, std::string_view raw, Codec& used) {
  std::string out;
  used = CompressInto(codec, level, raw, out);
  return used == Codec::kNone ? std::string(raw) : out;
}

Result<std::string> Decompress(Codec codec, std::string_view stored, uint64_t raw_length) {
  if (codec == Codec::kNone) {
    if (stored.size() != raw_length) return DamageError("stored length differs from raw length");
    return std::string(stored);
  }
  std::string out(raw_length, '\0');
  if (codec == Codec::kZstd) {
    size_t n = ZSTD_decompress(out.data(), out.size(), stored.data(), stored.size());
    if (ZSTD_isError(n) || n != raw_length) {
      return DamageError(std::string("zstd data is corrupt (") +
                         (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong length") + ")");
    }
    return out;
  }
  if (codec == Codec::kGzip) {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK) return Failure("zlib: inflateInit2 failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(stored.data()));
    zs.avail_in = static_cast<uInt>(stored.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&zs, Z_FINISH);
    uint64_t total = zs.total_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || total != raw_length) return DamageError("gzip data is corrupt");
    return out;
  }
  return DamageError("unknown codec " + std::to_string(static_cast<int>(codec)));
}

}  // namespace velin::repo
