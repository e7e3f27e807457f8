#include "record_value.h"

#include <charconv>
#include <stdexcept>
#include <vector>

namespace runnel::fault {

namespace {
constexpr std::string_view kPrefix = "rv1|";
}

std::string MakeValue(const std::string& producer_id, const std::string& key, int64_t sequence, size_t min_size) {
  if (producer_id.find('|') != std::string::npos || key.find('|') != std::string::npos)
    throw std::invalid_argument("MakeValue: producer id and key must not contain '|'");
  if (sequence < 0) throw std::invalid_argument("MakeValue: negative sequence");
  std::string value = std::string(kPrefix) + producer_id + "|" + key + "|" + std::to_string(sequence) + "|";
  if (value.size() < min_size) value.append(min_size - value.size(), '.');
  return value;
}

std::optional<ValueFields> ParseValue(const std::string& value) {
  std::string_view rest(value);
  if (!rest.starts_with(kPrefix)) return std::nullopt;
  rest.remove_prefix(kPrefix.size());
  std::vector<std::string_view> fields;
  for (int i = 0; i < 3; ++i) {
    auto bar = rest.find('|');
    if (bar == std::string_view::npos) return std::nullopt;
    fields.push_back(rest.substr(0, bar));
    rest.remove_prefix(bar + 1);
  }
  if (rest.find_first_not_of('.') != std::string_view::npos) return std::nullopt;
  ValueFields parsed{std::string(fields[0]), std::string(fields[1]), 0};
  const std::string_view digits = fields[2];
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed.sequence);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || parsed.sequence < 0)
    return std::nullopt;
  return parsed;
}

}  // namespace runnel::fault
