#include "wire_codec.h"

#include <array>
#include <cstdio>

namespace runnel::it {

WireWriter& WireWriter::put_be(std::uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) buf_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  return *this;
}

WireWriter& WireWriter::string(const std::string& s) {
  i16(static_cast<std::int16_t>(s.size()));
  return raw(s);
}

WireWriter& WireWriter::nullable_string(const std::optional<std::string>& s) {
  if (!s) return i16(-1);
  return string(*s);
}

WireWriter& WireWriter::compact_string(const std::string& s) {
  uvarint(s.size() + 1);
  return raw(s);
}

WireWriter& WireWriter::bytes(const Bytes& b) {
  i32(static_cast<std::int32_t>(b.size()));
  return raw(b);
}

WireWriter& WireWriter::uvarint(std::uint64_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<std::uint8_t>(v));
  return *this;
}

WireWriter& WireWriter::varint(std::int64_t v) {
  return uvarint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

WireWriter& WireWriter::raw(const Bytes& b) {
  buf_.insert(buf_.end(), b.begin(), b.end());
  return *this;
}

WireWriter& WireWriter::raw(const std::string& s) {
  buf_.insert(buf_.end(), s.begin(), s.end());
  return *this;
}

std::uint64_t WireReader::get_be(int width) {
  if (failed_ || buf_.size() - pos_ < static_cast<std::size_t>(width)) {
    failed_ = true;
    return 0;
  }
  std::uint64_t v = 0;
  for (int i = 0; i < width; ++i) v = (v << 8) | buf_[pos_++];
  return v;
}

std::string WireReader::string() {
  auto s = nullable_string();
  return s ? *s : std::string();
}

std::optional<std::string> WireReader::nullable_string() {
  std::int16_t len = i16();
  if (failed_ || len < 0) return std::nullopt;
  if (buf_.size() - pos_ < static_cast<std::size_t>(len)) {
    failed_ = true;
    return std::nullopt;
  }
  std::string s(buf_.begin() + static_cast<std::ptrdiff_t>(pos_),
                buf_.begin() + static_cast<std::ptrdiff_t>(pos_ + static_cast<std::size_t>(len)));
  pos_ += static_cast<std::size_t>(len);
  return s;
}

void WireReader::skip(std::size_t n) {
  if (failed_ || buf_.size() - pos_ < n) {
    failed_ = true;
    return;
  }
  pos_ += n;
}

std::uint32_t Crc32c(const std::uint8_t* data, std::size_t len) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (0x82F63B78u ^ (c >> 1)) : (c >> 1);
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < len; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::string HexPrefix(const Bytes& b, std::size_t max) {
  std::string out;
  char buf[4];
  for (std::size_t i = 0; i < b.size() && i < max; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", b[i]);
    out += buf;
  }
  if (b.size() > max) out += "...";
  return out;
}

}  // namespace runnel::it
