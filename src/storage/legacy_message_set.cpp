#include "storage/legacy_message_set.h"

#include <zlib.h>

#include <algorithm>

#include "storage/record_batch.h"

namespace runnel::storage {
namespace {

bool fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

// Reads a Kafka `bytes` field (int32 length, -1 = null) at pos inside [0, end).
bool read_bytes(std::span<const uint8_t> in, size_t& pos, std::optional<std::span<const uint8_t>>& out) {
  if (in.size() - pos < 4) return false;
  const int32_t length = load_be32(in.data() + pos);
  pos += 4;
  if (length == -1) {
    out.reset();
    return true;
  }
  if (length < 0 || static_cast<size_t>(length) > in.size() - pos) return false;
  out = in.subspan(pos, static_cast<size_t>(length));
  pos += static_cast<size_t>(length);
  return true;
}

void put_bytes(std::vector<uint8_t>& out, std::optional<std::span<const uint8_t>> field) {
  uint8_t length[4];
  store_be32(length, field ? static_cast<int32_t>(field->size()) : -1);
  out.insert(out.end(), length, length + 4);
  if (field) out.insert(out.end(), field->begin(), field->end());
}

// XXH32 with seed 0 for inputs shorter than 16 bytes (an lz4 frame descriptor is
// at most 14), as the lz4 frame format's header checksum uses.
uint32_t xxh32_short(std::span<const uint8_t> in) {
  constexpr uint32_t kP1 = 2654435761u, kP2 = 2246822519u, kP3 = 3266489917u, kP4 = 668265263u, kP5 = 374761393u;
  auto rotl = [](uint32_t x, int r) { return (x << r) | (x >> (32 - r)); };
  uint32_t h = kP5 + static_cast<uint32_t>(in.size());
  size_t i = 0;
  for (; i + 4 <= in.size(); i += 4) {
    const uint32_t word = uint32_t{in[i]} | (uint32_t{in[i + 1]} << 8) | (uint32_t{in[i + 2]} << 16) |
                          (uint32_t{in[i + 3]} << 24);
    h = rotl(h + word * kP3, 17) * kP4;
  }
  for (; i < in.size(); ++i) h = rotl(h + in[i] * kP5, 11) * kP1;
  h ^= h >> 15;
  h *= kP2;
  h ^= h >> 13;
  h *= kP3;
  h ^= h >> 16;
  return h;
}

}  // namespace

uint32_t crc32_ieee(std::span<const uint8_t> data) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; messages are bounded by int32 sizes, but be safe.
  size_t pos = 0;
  while (pos < data.size()) {
    const auto chunk = static_cast<uInt>(std::min<size_t>(data.size() - pos, 1u << 30));
    crc = ::crc32(crc, data.data() + pos, chunk);
    pos += chunk;
  }
  return static_cast<uint32_t>(crc);
}

bool parse_message_set(std::span<const uint8_t> data, std::vector<LegacyMessage>& out, std::string* error) {
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < legacy::kLogOverhead) return fail(error, "truncated message header");
    LegacyMessage message;
    message.offset = load_be64(data.data() + pos);
    const int32_t size = load_be32(data.data() + pos + 8);
    pos += legacy::kLogOverhead;
    if (size < static_cast<int32_t>(legacy::kMinMessageSizeV0)) return fail(error, "message size too small");
    if (static_cast<size_t>(size) > data.size() - pos) return fail(error, "truncated message");
    const auto body = data.subspan(pos, static_cast<size_t>(size));
    pos += static_cast<size_t>(size);

    const auto stored_crc = static_cast<uint32_t>(load_be32(body.data()));
    message.magic = static_cast<int8_t>(body[4]);
    if (message.magic != 0 && message.magic != 1) return fail(error, "message magic is not 0 or 1");
    if (message.magic == 1 && body.size() < legacy::kMinMessageSizeV1) return fail(error, "message size too small");
    if (crc32_ieee(body.subspan(4)) != stored_crc) return fail(error, "message CRC mismatch");
    message.attributes = static_cast<int8_t>(body[5]);
    size_t at = 6;
    if (message.magic == 1) {
      message.timestamp = load_be64(body.data() + at);
      at += 8;
    }
    if (!read_bytes(body, at, message.key) || !read_bytes(body, at, message.value)) {
      return fail(error, "message key/value length out of bounds");
    }
    if (at != body.size()) return fail(error, "message size does not match its fields");
    out.push_back(message);
  }
  return true;
}

void write_message(std::vector<uint8_t>& out, int64_t offset, int8_t magic, int8_t attributes, int64_t timestamp,
                   std::optional<std::span<const uint8_t>> key, std::optional<std::span<const uint8_t>> value) {
  const size_t start = out.size();
  out.resize(start + legacy::kLogOverhead + 4);  // offset, size, crc: filled below
  out.push_back(static_cast<uint8_t>(magic));
  out.push_back(static_cast<uint8_t>(attributes));
  if (magic >= 1) {
    uint8_t ts[8];
    store_be64(ts, timestamp);
    out.insert(out.end(), ts, ts + 8);
  }
  put_bytes(out, key);
  put_bytes(out, value);
  uint8_t* p = out.data() + start;
  store_be64(p, offset);
  store_be32(p + 8, static_cast<int32_t>(out.size() - start - legacy::kLogOverhead));
  const size_t crc_from = start + legacy::kLogOverhead + 4;
  const uint32_t crc = crc32_ieee(std::span<const uint8_t>(out).subspan(crc_from));
  store_be32(out.data() + start + legacy::kLogOverhead, static_cast<int32_t>(crc));
}

bool fix_magic0_lz4_header_checksum(std::vector<uint8_t>& frame) {
  // Frame: magic (4) FLG (1) BD (1) [content size (8)] [dict id (4)] HC (1).
  if (frame.size() < 7) return false;
  const uint8_t flg = frame[4];
  const size_t descriptor = 2 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0);
  if (frame.size() < 4 + descriptor + 1) return false;
  const uint32_t hash = xxh32_short(std::span<const uint8_t>(frame).subspan(4, descriptor));
  frame[4 + descriptor] = static_cast<uint8_t>((hash >> 8) & 0xFF);
  return true;
}

}  // namespace runnel::storage
