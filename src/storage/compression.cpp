#include "storage/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <memory>

namespace runnel::storage {
namespace {

bool fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

// ---- gzip ----

bool gzip_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, std::string* error, size_t max_out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return fail(error, "gzip: inflateInit failed");  // +32: gzip or zlib header
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  const size_t start = out.size();
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (out.size() - start >= max_out) {
      inflateEnd(&zs);
      return fail(error, "gzip: decompressed data too large");
    }
    const size_t chunk = std::min<size_t>(std::max<size_t>(in.size() * 4, 64 << 10), max_out - (out.size() - start));
    const size_t at = out.size();
    out.resize(at + chunk);
    zs.next_out = out.data() + at;
    zs.avail_out = static_cast<uInt>(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(at + chunk - zs.avail_out);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK || (zs.avail_in == 0 && zs.avail_out != 0)) {
      inflateEnd(&zs);
      return fail(error, "gzip: corrupt or truncated data");
    }
  }
  inflateEnd(&zs);
  return true;
}

bool gzip_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  const size_t at = out.size();
  const size_t bound = deflateBound(&zs, static_cast<uLong>(in.size())) + 32;
  out.resize(at + bound);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data() + at;
  zs.avail_out = static_cast<uInt>(bound);
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(at + bound - zs.avail_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END;
}

// ---- snappy (xerial framing) ----

constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t kXerialHeaderSize = 16;   // magic + version + compatible version
constexpr size_t kXerialBlockSize = 32 << 10;  // xerial's default block size

bool snappy_raw_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, std::string* error, size_t max_out) {
  size_t length = 0;
  const auto* p = reinterpret_cast<const char*>(in.data());
  if (!snappy::GetUncompressedLength(p, in.size(), &length)) return fail(error, "snappy: corrupt block");
  if (length > max_out) return fail(error, "snappy: decompressed data too large");
  // A snappy element expands at most ~21x (a 3-byte copy of 64 bytes): a larger
  // claim is corrupt, and must not make us zero-fill it first (a tiny batch
  // could otherwise cost seconds of CPU; found by fuzz_record_batch).
  if (length > in.size() * 22) return fail(error, "snappy: corrupt block (impossible length)");
  const size_t at = out.size();
  out.resize(at + length);
  if (!snappy::RawUncompress(p, in.size(), reinterpret_cast<char*>(out.data() + at))) {
    out.resize(at);
    return fail(error, "snappy: corrupt block");
  }
  return true;
}

bool snappy_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, std::string* error, size_t max_out) {
  if (in.size() < kXerialHeaderSize || std::memcmp(in.data(), kXerialMagic, sizeof kXerialMagic) != 0) {
    return snappy_raw_decompress(in, out, error, max_out);
  }
  const size_t start = out.size();
  size_t pos = kXerialHeaderSize;
  while (pos < in.size()) {
    if (in.size() - pos < 4) return fail(error, "snappy: truncated xerial block length");
    const auto len = static_cast<uint32_t>(load_be32(in.data() + pos));
    pos += 4;
    if (len > in.size() - pos) return fail(error, "snappy: truncated xerial block");
    if (!snappy_raw_decompress(in.subspan(pos, len), out, error, max_out - (out.size() - start))) return false;
    pos += len;
  }
  return true;
}

bool snappy_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  out.insert(out.end(), kXerialMagic, kXerialMagic + sizeof kXerialMagic);
  uint8_t versions[8];
  store_be32(versions, 1);
  store_be32(versions + 4, 1);
  out.insert(out.end(), versions, versions + 8);
  for (size_t pos = 0; pos < in.size(); pos += kXerialBlockSize) {
    const size_t n = std::min(kXerialBlockSize, in.size() - pos);
    const size_t at = out.size();
    out.resize(at + 4 + snappy::MaxCompressedLength(n));
    size_t written = 0;
    snappy::RawCompress(reinterpret_cast<const char*>(in.data() + pos), n, reinterpret_cast<char*>(out.data() + at + 4),
                        &written);
    store_be32(out.data() + at, static_cast<int32_t>(written));
    out.resize(at + 4 + written);
  }
  return true;
}

// ---- lz4 frame ----

bool lz4_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, std::string* error, size_t max_out) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) return fail(error, "lz4: no context");
  std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> ctx(raw, &LZ4F_freeDecompressionContext);
  const size_t start = out.size();
  size_t pos = 0;
  size_t hint = 1;
  while (pos < in.size() && hint != 0) {
    if (out.size() - start >= max_out) return fail(error, "lz4: decompressed data too large");
    const size_t chunk = std::min<size_t>(64 << 10, max_out - (out.size() - start));
    const size_t at = out.size();
    out.resize(at + chunk);
    size_t dst = chunk;
    size_t src = in.size() - pos;
    hint = LZ4F_decompress(ctx.get(), out.data() + at, &dst, in.data() + pos, &src, nullptr);
    out.resize(at + dst);
    if (LZ4F_isError(hint)) return fail(error, std::string("lz4: ") + LZ4F_getErrorName(hint));
    pos += src;
    if (src == 0 && dst == 0) break;
  }
  if (hint != 0) return fail(error, "lz4: truncated frame");
  return true;
}

bool lz4_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;  // as Kafka's KafkaLZ4BlockOutputStream
  const size_t at = out.size();
  const size_t bound = LZ4F_compressFrameBound(in.size(), &prefs);
  out.resize(at + bound);
  const size_t n = LZ4F_compressFrame(out.data() + at, bound, in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) {
    out.resize(at);
    return false;
  }
  out.resize(at + n);
  return true;
}

// ---- zstd ----

bool zstd_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, std::string* error, size_t max_out) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  if (!ctx) return fail(error, "zstd: no context");
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  const size_t start = out.size();
  size_t rc = 1;
  while (rc != 0 || input.pos < input.size) {  // a payload may hold several frames
    if (out.size() - start >= max_out) return fail(error, "zstd: decompressed data too large");
    const size_t chunk = std::min<size_t>(ZSTD_DStreamOutSize(), max_out - (out.size() - start));
    const size_t at = out.size();
    out.resize(at + chunk);
    ZSTD_outBuffer output{out.data() + at, chunk, 0};
    rc = ZSTD_decompressStream(ctx.get(), &output, &input);
    out.resize(at + output.pos);
    if (ZSTD_isError(rc)) return fail(error, std::string("zstd: ") + ZSTD_getErrorName(rc));
    if (rc != 0 && input.pos == input.size && output.pos < chunk) return fail(error, "zstd: truncated frame");
  }
  return true;
}

bool zstd_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  const size_t at = out.size();
  const size_t bound = ZSTD_compressBound(in.size());
  out.resize(at + bound);
  const size_t n = ZSTD_compress(out.data() + at, bound, in.data(), in.size(), 3);
  if (ZSTD_isError(n)) {
    out.resize(at);
    return false;
  }
  out.resize(at + n);
  return true;
}

}  // namespace

bool decompress(CompressionType type, std::span<const uint8_t> in, std::vector<uint8_t>& out, std::string* error,
                size_t max_out) {
  switch (type) {
    case CompressionType::kNone:
      if (in.size() > max_out) return fail(error, "records too large");
      out.insert(out.end(), in.begin(), in.end());
      return true;
    case CompressionType::kGzip: return gzip_decompress(in, out, error, max_out);
    case CompressionType::kSnappy: return snappy_decompress(in, out, error, max_out);
    case CompressionType::kLz4: return lz4_decompress(in, out, error, max_out);
    case CompressionType::kZstd: return zstd_decompress(in, out, error, max_out);
  }
  return fail(error, "unknown compression codec " + std::to_string(static_cast<int>(type)));
}

bool compress(CompressionType type, std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  switch (type) {
    case CompressionType::kNone:
      out.insert(out.end(), in.begin(), in.end());
      return true;
    case CompressionType::kGzip: return gzip_compress(in, out);
    case CompressionType::kSnappy: return snappy_compress(in, out);
    case CompressionType::kLz4: return lz4_compress(in, out);
    case CompressionType::kZstd: return zstd_compress(in, out);
  }
  return false;
}

}  // namespace runnel::storage
