// A tiny big-endian Kafka wire writer/reader and CRC32C, written for the
// tests independently of the broker's protocol code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace runnel::it {

using Bytes = std::vector<std::uint8_t>;

class WireWriter {
 public:
  WireWriter& i8(std::int8_t v) { return put_be(static_cast<std::uint8_t>(v), 1); }
  WireWriter& i16(std::int16_t v) { return put_be(static_cast<std::uint16_t>(v), 2); }
  WireWriter& i32(std::int32_t v) { return put_be(static_cast<std::uint32_t>(v), 4); }
  WireWriter& u32(std::uint32_t v) { return put_be(v, 4); }
  WireWriter& i64(std::int64_t v) { return put_be(static_cast<std::uint64_t>(v), 8); }
  WireWriter& boolean(bool v) { return i8(v ? 1 : 0); }
  WireWriter& string(const std::string& s);           // int16 length + bytes
  WireWriter& nullable_string(const std::optional<std::string>& s);
  WireWriter& compact_string(const std::string& s);   // uvarint(len+1) + bytes
  WireWriter& bytes(const Bytes& b);                  // int32 length + bytes
  WireWriter& uvarint(std::uint64_t v);
  WireWriter& varint(std::int64_t v);                 // zigzag
  WireWriter& raw(const Bytes& b);
  WireWriter& raw(const std::string& s);
  WireWriter& empty_tagged_fields() { return uvarint(0); }

  const Bytes& data() const { return buf_; }
  Bytes& data() { return buf_; }
  std::size_t size() const { return buf_.size(); }

 private:
  WireWriter& put_be(std::uint64_t v, int width);
  Bytes buf_;
};

// Bounds-checked reader: reading past the end sets failed() and returns 0/"".
class WireReader {
 public:
  explicit WireReader(const Bytes& b) : buf_(b) {}
  std::int8_t i8() { return static_cast<std::int8_t>(get_be(1)); }
  std::int16_t i16() { return static_cast<std::int16_t>(get_be(2)); }
  std::int32_t i32() { return static_cast<std::int32_t>(get_be(4)); }
  std::int64_t i64() { return static_cast<std::int64_t>(get_be(8)); }
  bool boolean() { return i8() != 0; }
  std::string string();                    // int16 length
  std::optional<std::string> nullable_string();
  void skip(std::size_t n);
  std::size_t remaining() const { return failed_ ? 0 : buf_.size() - pos_; }
  bool failed() const { return failed_; }

 private:
  std::uint64_t get_be(int width);
  const Bytes& buf_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

std::uint32_t Crc32c(const std::uint8_t* data, std::size_t len);

Bytes ToBytes(const std::string& s);
std::string HexPrefix(const Bytes& b, std::size_t max = 64);

}  // namespace runnel::it
