#include "common/log_format.h"

#include <gtest/gtest.h>

#include <spdlog/details/log_msg.h>

#include <algorithm>

namespace runnel {
namespace {

std::string Escaped(std::string_view text) {
  std::string out;
  append_json_escaped(text, out);
  return out;
}

TEST(LogFormat, ParsesTheTwoFormats) {
  EXPECT_EQ(parse_log_format("text"), LogFormat::kText);
  EXPECT_EQ(parse_log_format("json"), LogFormat::kJson);
  EXPECT_FALSE(parse_log_format("JSON "));
}

TEST(LogFormat, JsonEscapingKeepsEveryLineValid) {
  EXPECT_EQ(Escaped("plain"), "plain");
  EXPECT_EQ(Escaped("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(Escaped("x\ny\tz\x01"), "x\\ny\\tz\\u0001");
  EXPECT_EQ(Escaped("gr\xc3\xbc\xc3\x9f"), "gr\xc3\xbc\xc3\x9f");  // valid UTF-8 passes through
  EXPECT_EQ(Escaped("bad\xff\xc3"), "bad\\ufffd\\ufffd");
  EXPECT_EQ(Escaped("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");  // a UTF-16 surrogate is not UTF-8
}

TEST(LogFormat, JsonFormatterWritesOneObjectPerEvent) {
  auto formatter = make_json_log_formatter();
  spdlog::details::log_msg msg(spdlog::source_loc{}, "runnel", spdlog::level::warn, "disk \"almost\" full");
  spdlog::memory_buf_t buffer;
  formatter->format(msg, buffer);
  const std::string line(buffer.data(), buffer.size());
  EXPECT_EQ(line.rfind("{\"ts\":\"", 0), 0u) << line;
  EXPECT_NE(line.find("Z\",\"level\":\"warning\",\"logger\":\"runnel\",\"thread\":"), std::string::npos) << line;
  EXPECT_NE(line.find(",\"msg\":\"disk \\\"almost\\\" full\"}\n"), std::string::npos) << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
}

}  // namespace
}  // namespace runnel
