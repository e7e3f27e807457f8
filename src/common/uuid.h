#pragma once
// A 128-bit Kafka UUID (topic ids). The all-zero UUID means "none".
#include <array>
#include <cstdint>
#include <string>
#include <optional>

namespace runnel {

struct Uuid {
  std::array<uint8_t, 16> bytes{};
  bool is_zero() const {
    for (auto b : bytes) if (b) return false;
    return true;
  }
  auto operator<=>(const Uuid&) const = default;
  static Uuid random();
  // Kafka prints UUIDs as url-safe base64 without padding (22 chars).
  std::string to_base64() const;
  static std::optional<Uuid> from_base64(const std::string& text);
};

}  // namespace runnel
