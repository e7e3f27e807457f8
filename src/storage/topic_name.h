#pragma once
// Kafka topic naming rules (pure functions, shared by storage and the server).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace runnel::storage {

inline constexpr size_t kMaxTopicNameLength = 249;

// nullopt when valid, otherwise a human-readable reason (Kafka: InvalidTopicException).
inline std::optional<std::string> topic_name_error(std::string_view name) {
  if (name.empty()) return "Topic name is illegal, it can't be empty";
  if (name == "." || name == "..") return "Topic name cannot be \".\" or \"..\"";
  if (name.size() > kMaxTopicNameLength)
    return "Topic name is illegal, it can't be longer than 249 characters";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok)
      return "Topic name contains a character other than ASCII alphanumerics, '.', '_' and '-'";
  }
  return std::nullopt;
}

inline bool is_valid_topic_name(std::string_view name) { return !topic_name_error(name).has_value(); }

// Kafka forbids two topics whose names differ only by '.' vs '_' (they collide in metric names).
inline bool topic_names_collide(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] == '.' ? '_' : a[i];
    char y = b[i] == '.' ? '_' : b[i];
    if (x != y) return false;
  }
  return true;
}

}  // namespace runnel::storage
