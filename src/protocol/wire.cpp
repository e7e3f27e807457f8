#include "protocol/wire.h"

#include <bit>
#include <cstring>
#include <limits>

namespace runnel::protocol {
namespace {

// Kafka caps every string at int16 length, compact or not.
constexpr size_t kMaxStringLength = std::numeric_limits<int16_t>::max();

uint32_t zigzag_encode32(int32_t v) { return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31); }
uint64_t zigzag_encode64(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int32_t zigzag_decode32(uint32_t v) { return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1)); }
int64_t zigzag_decode64(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

}  // namespace

bool operator==(const RecordsView& a, const RecordsView& b) {
  if (a.is_null || b.is_null) return a.is_null == b.is_null;
  if (a.source != nullptr || b.source != nullptr) return a.source == b.source && a.size == b.size;
  return a.size == b.size && (a.size == 0 || std::memcmp(a.data, b.data, a.size) == 0);
}

// ---------------------------------------------------------------- Reader

void Reader::require(size_t size) const {
  if (size > remaining()) throw DecodeError("unexpected end of input");
}

std::span<const uint8_t> Reader::read_raw(size_t size) {
  require(size);
  auto out = input_.subspan(pos_, size);
  pos_ += size;
  return out;
}

bool Reader::read_bool() { return read_int8() != 0; }
int8_t Reader::read_int8() { return static_cast<int8_t>(read_raw(1)[0]); }

uint16_t Reader::read_uint16() {
  auto b = read_raw(2);
  return static_cast<uint16_t>((b[0] << 8) | b[1]);
}

uint32_t Reader::read_uint32() {
  auto b = read_raw(4);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

int16_t Reader::read_int16() { return static_cast<int16_t>(read_uint16()); }
int32_t Reader::read_int32() { return static_cast<int32_t>(read_uint32()); }

int64_t Reader::read_int64() {
  const uint64_t high = read_uint32();
  const uint64_t low = read_uint32();
  return static_cast<int64_t>((high << 32) | low);
}

double Reader::read_float64() { return std::bit_cast<double>(static_cast<uint64_t>(read_int64())); }

uint64_t Reader::read_unsigned_varlong() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(read_int8());
    // The 10th byte may only carry the single remaining bit.
    if (shift == 63 && byte > 1) throw DecodeError("varlong too long");
    value |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) return value;
  }
  throw DecodeError("varlong too long");
}

uint32_t Reader::read_unsigned_varint() {
  uint32_t value = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(read_int8());
    // The 5th byte may only carry the 4 remaining bits.
    if (shift == 28 && byte > 0x0f) throw DecodeError("varint too long");
    value |= uint32_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) return value;
  }
  throw DecodeError("varint too long");
}

int32_t Reader::read_varint() { return zigzag_decode32(read_unsigned_varint()); }
int64_t Reader::read_varlong() { return zigzag_decode64(read_unsigned_varlong()); }

Uuid Reader::read_uuid() {
  Uuid id;
  auto b = read_raw(id.bytes.size());
  std::memcpy(id.bytes.data(), b.data(), b.size());
  return id;
}

size_t Reader::read_length_prefix_compact() {
  const uint32_t encoded = read_unsigned_varint();
  if (encoded == 0) return SIZE_MAX;
  const size_t length = encoded - 1;
  require(length);
  return length;
}

std::optional<std::string> Reader::read_nullable_string() {
  const int16_t length = read_int16();
  if (length == -1) return std::nullopt;
  if (length < 0) throw DecodeError("negative string length");
  auto b = read_raw(static_cast<size_t>(length));
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string Reader::read_string() {
  auto s = read_nullable_string();
  if (!s) throw DecodeError("null in non-nullable string");
  return std::move(*s);
}

std::optional<std::string> Reader::read_compact_nullable_string() {
  const size_t length = read_length_prefix_compact();
  if (length == SIZE_MAX) return std::nullopt;
  if (length > kMaxStringLength) throw DecodeError("string longer than 32767 bytes");
  auto b = read_raw(length);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string Reader::read_compact_string() {
  auto s = read_compact_nullable_string();
  if (!s) throw DecodeError("null in non-nullable compact string");
  return std::move(*s);
}

std::optional<std::vector<uint8_t>> Reader::read_nullable_bytes() {
  const int32_t length = read_int32();
  if (length == -1) return std::nullopt;
  if (length < 0) throw DecodeError("negative bytes length");
  auto b = read_raw(static_cast<size_t>(length));
  return std::vector<uint8_t>(b.begin(), b.end());
}

std::vector<uint8_t> Reader::read_bytes() {
  auto b = read_nullable_bytes();
  if (!b) throw DecodeError("null in non-nullable bytes");
  return std::move(*b);
}

std::optional<std::vector<uint8_t>> Reader::read_compact_nullable_bytes() {
  const size_t length = read_length_prefix_compact();
  if (length == SIZE_MAX) return std::nullopt;
  auto b = read_raw(length);
  return std::vector<uint8_t>(b.begin(), b.end());
}

std::vector<uint8_t> Reader::read_compact_bytes() {
  auto b = read_compact_nullable_bytes();
  if (!b) throw DecodeError("null in non-nullable compact bytes");
  return std::move(*b);
}

RecordsView Reader::read_records(bool compact) {
  size_t length;
  if (compact) {
    length = read_length_prefix_compact();
    if (length == SIZE_MAX) return RecordsView{};
  } else {
    const int32_t prefix = read_int32();
    if (prefix == -1) return RecordsView{};
    if (prefix < 0) throw DecodeError("negative records length");
    length = static_cast<size_t>(prefix);
  }
  return RecordsView::of(read_raw(length));
}

int32_t Reader::read_array_length(size_t min_element_size) {
  const int32_t count = read_int32();
  if (count == -1) return -1;
  if (count < 0) throw DecodeError("negative array length");
  if (static_cast<uint64_t>(count) * min_element_size > remaining()) {
    throw DecodeError("array length exceeds input");
  }
  return count;
}

int32_t Reader::read_compact_array_length(size_t min_element_size) {
  const uint32_t encoded = read_unsigned_varint();
  if (encoded == 0) return -1;
  const uint64_t count = encoded - 1;
  if (count * min_element_size > remaining()) throw DecodeError("array length exceeds input");
  if (count > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    throw DecodeError("array length too large");
  }
  return static_cast<int32_t>(count);
}

// ---------------------------------------------------------------- Writer

void Writer::write_float64(double v) { write_int64(static_cast<int64_t>(std::bit_cast<uint64_t>(v))); }

void Writer::write_unsigned_varlong(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<uint8_t>(v));
}

void Writer::write_varint(int32_t v) { write_unsigned_varlong(zigzag_encode32(v)); }
void Writer::write_varlong(int64_t v) { write_unsigned_varlong(zigzag_encode64(v)); }

static void check_string_length(std::string_view v) {
  if (v.size() > kMaxStringLength) throw EncodeError("string longer than 32767 bytes");
}

void Writer::write_string(std::string_view v) {
  check_string_length(v);
  write_int16(static_cast<int16_t>(v.size()));
  write_raw({reinterpret_cast<const uint8_t*>(v.data()), v.size()});
}

void Writer::write_nullable_string(const std::optional<std::string>& v) {
  if (!v) return write_int16(-1);
  write_string(*v);
}

void Writer::write_compact_string(std::string_view v) {
  check_string_length(v);
  write_unsigned_varint(static_cast<uint32_t>(v.size() + 1));
  write_raw({reinterpret_cast<const uint8_t*>(v.data()), v.size()});
}

void Writer::write_compact_nullable_string(const std::optional<std::string>& v) {
  if (!v) return write_unsigned_varint(0);
  write_compact_string(*v);
}

void Writer::write_bytes(std::span<const uint8_t> v) {
  write_int32(static_cast<int32_t>(v.size()));
  write_raw(v);
}

void Writer::write_nullable_bytes(const std::optional<std::vector<uint8_t>>& v) {
  if (!v) return write_int32(-1);
  write_bytes(*v);
}

void Writer::write_compact_bytes(std::span<const uint8_t> v) {
  write_unsigned_varint(static_cast<uint32_t>(v.size() + 1));
  write_raw(v);
}

void Writer::write_compact_nullable_bytes(const std::optional<std::vector<uint8_t>>& v) {
  if (!v) return write_unsigned_varint(0);
  write_compact_bytes(*v);
}

void Writer::write_records(const RecordsView& v, bool compact) {
  if (v.is_null) return compact ? write_unsigned_varint(0) : write_int32(-1);
  if (v.source == nullptr) return compact ? write_compact_bytes(v.span()) : write_bytes(v.span());
  if (!records_sink_) throw EncodeError("records that are not in memory need a RecordsSink");
  compact ? write_unsigned_varint(static_cast<uint32_t>(v.size + 1)) : write_int32(static_cast<int32_t>(v.size));
  records_sink_->on_records(position(), v);
  external_bytes_ += v.size;
}

void Writer::patch_int32(size_t at, int32_t v) {
  if (at + 4 > out_.size()) throw EncodeError("patch_int32 out of range");
  const auto u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<uint8_t>(u >> (24 - 8 * i));
}

}  // namespace runnel::protocol
