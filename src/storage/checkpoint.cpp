// Text formats Kafka keeps at the log-dir root and in each partition dir.
#include <charconv>
#include <sstream>

#include "storage/log_manager.h"
#include "storage/topic_name.h"

namespace runnel::storage {

namespace {

template <typename T>
bool parse_int(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

}  // namespace

std::string format_offset_checkpoint(const CheckpointEntries& entries) {
  std::string out = "0\n" + std::to_string(entries.size()) + "\n";
  for (const auto& [key, offset] : entries)
    out += key.first + " " + std::to_string(key.second) + " " + std::to_string(offset) + "\n";
  return out;
}

std::optional<CheckpointEntries> parse_offset_checkpoint(const std::string& text) {
  auto lines = split_lines(text);
  size_t count = 0;
  if (lines.size() < 2 || lines[0] != "0" || !parse_int(lines[1], count)) return std::nullopt;
  if (lines.size() < 2 + count) return std::nullopt;
  CheckpointEntries entries;
  for (size_t i = 0; i < count; ++i) {
    std::string_view line = lines[2 + i];
    auto s1 = line.find(' ');
    auto s2 = s1 == std::string_view::npos ? s1 : line.find(' ', s1 + 1);
    if (s2 == std::string_view::npos) return std::nullopt;
    int32_t partition = 0;
    int64_t offset = 0;
    if (!parse_int(line.substr(s1 + 1, s2 - s1 - 1), partition) || !parse_int(line.substr(s2 + 1), offset))
      return std::nullopt;
    entries[{std::string(line.substr(0, s1)), partition}] = offset;
  }
  for (size_t i = 2 + count; i < lines.size(); ++i)
    if (!lines[i].empty()) return std::nullopt;  // more entries than announced
  return entries;
}

std::string format_partition_metadata(const Uuid& id) { return "version: 0\ntopic_id: " + id.to_base64() + "\n"; }

std::optional<Uuid> parse_partition_metadata(const std::string& text) {
  auto lines = split_lines(text);
  if (lines.size() < 2 || lines[0] != "version: 0") return std::nullopt;
  constexpr std::string_view kPrefix = "topic_id: ";
  if (lines[1].substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  return Uuid::from_base64(std::string(lines[1].substr(kPrefix.size())));
}

std::optional<std::pair<std::string, int32_t>> parse_partition_dir_name(const std::string& name) {
  auto dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0) return std::nullopt;
  int32_t partition = 0;
  std::string_view digits(name.data() + dash + 1, name.size() - dash - 1);
  if (digits.empty() || !parse_int(digits, partition) || partition < 0) return std::nullopt;
  std::string topic = name.substr(0, dash);
  if (!is_valid_topic_name(topic)) return std::nullopt;
  return std::make_pair(topic, partition);
}

}  // namespace runnel::storage
