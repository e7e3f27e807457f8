#pragma once
// How the broker's log lines look: `text` (time, level, message) for people,
// or `json`, one object per line for log shippers:
//   {"ts":"2026-01-02T03:04:05.678Z","level":"info","logger":"runnel","thread":42,"msg":"..."}
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>

namespace runnel {

enum class LogFormat { kText, kJson };

std::optional<LogFormat> parse_log_format(std::string_view name);

// A spdlog formatter writing one JSON object per event.
std::unique_ptr<spdlog::formatter> make_json_log_formatter();

// Appends `text` as a JSON string body (no quotes): escapes quotes, backslashes
// and control characters; bytes that are not valid UTF-8 become U+FFFD.
void append_json_escaped(std::string_view text, std::string& out);

// Applies the format to the default logger (text keeps spdlog's pattern).
void apply_log_format(LogFormat format);

}  // namespace runnel
