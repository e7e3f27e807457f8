#include "common/uuid.h"

#include <random>

namespace runnel {
namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}

Uuid Uuid::random() {
  static thread_local std::mt19937_64 engine{std::random_device{}()};
  Uuid id;
  do {
    for (size_t i = 0; i < 16; i += 8) {
      const uint64_t word = engine();
      for (size_t j = 0; j < 8; ++j) id.bytes[i + j] = static_cast<uint8_t>(word >> (8 * j));
    }
    id.bytes[6] = (id.bytes[6] & 0x0f) | 0x40;  // version 4
    id.bytes[8] = (id.bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
  } while (id.is_zero());
  return id;
}

std::string Uuid::to_base64() const {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3f]);
  return out;  // 22 characters, no padding
}

std::optional<Uuid> Uuid::from_base64(const std::string& text) {
  if (text.size() != 22) return std::nullopt;
  Uuid id;
  uint32_t buffer = 0;
  int bits = 0;
  size_t pos = 0;
  for (char c : text) {
    const char* found = std::char_traits<char>::find(kAlphabet, 64, c);
    if (!found) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(found - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (pos < 16) id.bytes[pos++] = static_cast<uint8_t>(buffer >> bits);
    }
  }
  return id;
}

}  // namespace runnel
