#pragma once
// Kafka wire primitives: a bounds-checked Reader and an appending Writer.
//
// This layer is sans-io: it only turns bytes into values and back.
//
// Headers of the protocol library (link `runnel_protocol`):
//   #include "protocol/wire.h"        Reader, Writer, RecordsView, DecodeError, EncodeError
//   #include "protocol/messages.h"    every generated request/response struct + headers
//   #include "protocol/messages/<api>.h"  just one API, e.g. "protocol/messages/produce.h"
//                                     (RequestHeader/ResponseHeader: "protocol/messages/headers.h")
//   #include "protocol/api_info.h"    API catalogue, ApiKey enum, header-version helpers
//   #include "protocol/framing.h"     decode a request header, encode size-prefixed frames
// The message headers are generated at build time from src/protocol/messages/*.msg
// by src/protocol/gen/protogen.py (format described there) into the build dir.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/uuid.h"

namespace runnel::protocol {

// Thrown on any malformed input. Decoding never reads out of bounds and never
// allocates more than the input could possibly describe.
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown when a value cannot be represented in the requested version (e.g. a
// null in a non-nullable field) or the version is outside the valid range.
class EncodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A non-owning view of a RecordBatch blob ("records" wire type). Decoding points
// it into the input buffer (zero copy), so the buffer must outlive the view.
struct RecordsView {
  const uint8_t* data = nullptr;
  size_t size = 0;
  bool is_null = true;
  // Set (with data == nullptr) for records that are not in memory, e.g. file
  // slices a server sends with sendfile: opaque here, meaningful to the
  // RecordsSink that encodes the response. Never set by decoding.
  const void* source = nullptr;

  static RecordsView of(std::span<const uint8_t> bytes) { return {bytes.data(), bytes.size(), false}; }
  static RecordsView of(const std::vector<uint8_t>& bytes) { return of(std::span<const uint8_t>(bytes)); }
  static RecordsView external(const void* source, size_t size) { return {nullptr, size, false, source}; }
  std::span<const uint8_t> span() const { return {data, size}; }
  bool empty() const { return size == 0; }

  // Compares contents, not addresses: a decoded view equals the view it was encoded from.
  friend bool operator==(const RecordsView& a, const RecordsView& b);
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> input) : input_(input) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return input_.size() - pos_; }
  bool at_end() const { return pos_ == input_.size(); }

  bool read_bool();
  int8_t read_int8();
  int16_t read_int16();
  int32_t read_int32();
  int64_t read_int64();
  uint16_t read_uint16();
  uint32_t read_uint32();
  double read_float64();
  int32_t read_varint();     // zigzag
  int64_t read_varlong();    // zigzag
  uint32_t read_unsigned_varint();
  uint64_t read_unsigned_varlong();
  Uuid read_uuid();

  std::string read_string();                                  // int16 length, not null
  std::optional<std::string> read_nullable_string();          // int16 length, -1 = null
  std::string read_compact_string();                          // uvarint length+1
  std::optional<std::string> read_compact_nullable_string();  // uvarint 0 = null
  // Picks the compact or classic form.
  std::optional<std::string> read_nullable_string(bool compact) {
    return compact ? read_compact_nullable_string() : read_nullable_string();
  }
  std::string read_string(bool compact) { return compact ? read_compact_string() : read_string(); }

  std::vector<uint8_t> read_bytes();                                  // int32 length
  std::optional<std::vector<uint8_t>> read_nullable_bytes();
  std::vector<uint8_t> read_compact_bytes();
  std::optional<std::vector<uint8_t>> read_compact_nullable_bytes();
  std::vector<uint8_t> read_bytes(bool compact) { return compact ? read_compact_bytes() : read_bytes(); }
  std::optional<std::vector<uint8_t>> read_nullable_bytes(bool compact) {
    return compact ? read_compact_nullable_bytes() : read_nullable_bytes();
  }

  // Zero-copy view of a (nullable) records blob.
  RecordsView read_records(bool compact);

  // Array element count; -1 means null. Rejects counts that could not fit in
  // the remaining input given that each element takes at least
  // `min_element_size` bytes (so callers may safely reserve).
  int32_t read_array_length(size_t min_element_size);
  int32_t read_compact_array_length(size_t min_element_size);
  int32_t read_array_length(bool compact, size_t min_element_size) {
    return compact ? read_compact_array_length(min_element_size) : read_array_length(min_element_size);
  }

  // Reads a tagged-field section. For each field calls on_field(tag, reader)
  // where `reader` covers exactly that field's bytes; fields the callback does
  // not consume (unknown tags) are simply skipped.
  template <typename OnField>
  void read_tagged_fields(OnField&& on_field) {
    const uint32_t count = read_unsigned_varint();
    if (count > remaining()) throw DecodeError("tagged field count exceeds input");
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t tag = read_unsigned_varint();
      Reader field = sub_reader(read_unsigned_varint());
      on_field(tag, field);
    }
  }
  void skip_tagged_fields() {
    read_tagged_fields([](uint32_t, Reader&) {});
  }

  // Consumes `size` bytes and returns them as a view / a reader over them.
  std::span<const uint8_t> read_raw(size_t size);
  Reader sub_reader(size_t size) { return Reader(read_raw(size)); }
  void skip(size_t size) { read_raw(size); }

 private:
  void require(size_t size) const;
  size_t read_length_prefix_compact();  // uvarint length+1, returns SIZE_MAX for null

  std::span<const uint8_t> input_;
  size_t pos_ = 0;
};

// Receives records that are not in memory (RecordsView::source set) instead of
// the Writer copying them, so a server can send them straight from the segment
// file (sendfile). Records in memory are always written inline.
class RecordsSink {
 public:
  virtual ~RecordsSink() = default;
  // The records' bytes belong at `buffer_offset` of the output buffer (between
  // the bytes written before and after this call).
  virtual void on_records(size_t buffer_offset, const RecordsView& records) = 0;
};

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& out) : out_(out) {}

  // Bytes in the buffer (excludes records handed to a RecordsSink).
  size_t position() const { return out_.size(); }
  // Total size of records handed to the sink so far.
  size_t external_bytes() const { return external_bytes_; }
  // For records not in memory, write_records writes only the length prefix and
  // reports them to the sink (without a sink it throws EncodeError).
  void set_records_sink(RecordsSink* sink) { records_sink_ = sink; }
  void reserve(size_t additional) { out_.reserve(out_.size() + additional); }
  std::vector<uint8_t>& buffer() { return out_; }

  void write_bool(bool v) { write_int8(v ? 1 : 0); }
  void write_int8(int8_t v) { out_.push_back(static_cast<uint8_t>(v)); }
  void write_int16(int16_t v) { write_big_endian(static_cast<uint16_t>(v), 2); }
  void write_int32(int32_t v) { write_big_endian(static_cast<uint32_t>(v), 4); }
  void write_int64(int64_t v) { write_big_endian(static_cast<uint64_t>(v), 8); }
  void write_uint16(uint16_t v) { write_big_endian(v, 2); }
  void write_uint32(uint32_t v) { write_big_endian(v, 4); }
  void write_float64(double v);
  void write_varint(int32_t v);
  void write_varlong(int64_t v);
  void write_unsigned_varint(uint32_t v) { write_unsigned_varlong(v); }
  void write_unsigned_varlong(uint64_t v);
  void write_uuid(const Uuid& v) { write_raw(v.bytes); }

  void write_string(std::string_view v);
  void write_nullable_string(const std::optional<std::string>& v);
  void write_compact_string(std::string_view v);
  void write_compact_nullable_string(const std::optional<std::string>& v);
  void write_string(std::string_view v, bool compact) { compact ? write_compact_string(v) : write_string(v); }
  void write_nullable_string(const std::optional<std::string>& v, bool compact) {
    compact ? write_compact_nullable_string(v) : write_nullable_string(v);
  }

  void write_bytes(std::span<const uint8_t> v);
  void write_nullable_bytes(const std::optional<std::vector<uint8_t>>& v);
  void write_compact_bytes(std::span<const uint8_t> v);
  void write_compact_nullable_bytes(const std::optional<std::vector<uint8_t>>& v);
  void write_bytes(std::span<const uint8_t> v, bool compact) { compact ? write_compact_bytes(v) : write_bytes(v); }
  void write_nullable_bytes(const std::optional<std::vector<uint8_t>>& v, bool compact) {
    compact ? write_compact_nullable_bytes(v) : write_nullable_bytes(v);
  }

  void write_records(const RecordsView& v, bool compact);

  // Element count prefix; pass -1 for a null array.
  void write_array_length(int32_t count) { write_int32(count); }
  void write_compact_array_length(int32_t count) { write_unsigned_varint(static_cast<uint32_t>(count + 1)); }
  void write_array_length(int32_t count, bool compact) {
    compact ? write_compact_array_length(count) : write_array_length(count);
  }

  // An empty tagged-field section.
  void write_empty_tagged_fields() { write_unsigned_varint(0); }
  // One tagged field whose body was encoded into `body` beforehand.
  void write_tagged_field(uint32_t tag, std::span<const uint8_t> body) {
    write_unsigned_varint(tag);
    write_unsigned_varint(static_cast<uint32_t>(body.size()));
    write_raw(body);
  }

  void write_raw(std::span<const uint8_t> bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }

  // Size prefixes: reserve an int32 now, fill it in once the length is known.
  size_t reserve_int32() {
    const size_t at = position();
    write_int32(0);
    return at;
  }
  void patch_int32(size_t at, int32_t v);

 private:
  void write_big_endian(uint64_t v, int width) {
    for (int shift = (width - 1) * 8; shift >= 0; shift -= 8) out_.push_back(static_cast<uint8_t>(v >> shift));
  }

  std::vector<uint8_t>& out_;
  RecordsSink* records_sink_ = nullptr;
  size_t external_bytes_ = 0;
};

}  // namespace runnel::protocol
