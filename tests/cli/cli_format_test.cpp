// Unit tests of the CLI's output building blocks (no broker).
#include <gtest/gtest.h>

#include "cli/common_options.h"
#include "cli/exit_codes.h"
#include "cli/record_format.h"
#include "cli/table.h"
#include "cli_runner.h"

namespace runnel::cli {
namespace {

TEST(CliTable, ColumnsAlignToTheWidestCellWithoutTrailingBlanks) {
  Table t({"NAME", "PARTITIONS"});
  t.add_row({"orders", "3"});
  t.add_row({"a", "12"});
  EXPECT_EQ(t.render(), "NAME    PARTITIONS\norders  3\na       12\n");
}

TEST(CliTable, NonAsciiCellsAlignByCharacters) {
  Table t;
  t.add_row({"é", "x"});
  t.add_row({"ab", "y"});
  EXPECT_EQ(t.render(), "é   x\nab  y\n");
}

TEST(CliJson, WriterPlacesCommasAndNestsCorrectly) {
  JsonWriter j;
  j.begin_object().field("a", 1).key("b").begin_array().value("x").null().value(true).end_array();
  j.field("c", std::optional<int64_t>()).field("d", std::optional<std::string>("y")).end_object();
  EXPECT_EQ(j.str(), R"({"a":1,"b":["x",null,true],"c":null,"d":"y"})");
}

TEST(CliJson, EscapesControlQuotesAndInvalidUtf8ButKeepsValidUtf8) {
  std::string out;
  append_json_escaped(out, "q\"b\\n\n\t\x01\x7f\xff é \xe2\x82\xac");
  EXPECT_EQ(out, "q\\\"b\\\\n\\n\\t\\u0001\\u007f\\u00ff é €");
  std::string overlong;
  append_json_escaped(overlong, "\xc0\xaf");
  EXPECT_EQ(overlong, "\\u00c0\\u00af");
}

TEST(CliJson, BinaryValuesStillParse) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  JsonWriter j;
  j.begin_object().field("v", all).end_object();
  EXPECT_TRUE(clitest::IsJsonDocument(j.str())) << j.str();
}

TEST(CliRecordFormat, TemplateRendersEveryDirective) {
  RecordView r;
  r.topic = "t";
  r.partition = 2;
  r.offset = 42;
  r.timestamp = 1700000000000;
  r.key = "k";
  r.value = "hello";
  r.headers = {{"a", "1"}, {"b", std::nullopt}};
  RecordTemplate tmpl("%t/%p@%o %k=%s [%h] %T %K %S 100%%\\n");
  std::string out;
  tmpl.render(r, out);
  EXPECT_EQ(out, "t/2@42 k=hello [a=1,b=] 1700000000000 1 5 100%\n");
}

TEST(CliRecordFormat, NullKeyPrintsNothingAndLengthMinusOne) {
  RecordView r;
  r.topic = "t";
  r.value = "v";
  std::string out;
  RecordTemplate("[%k][%K][%s]").render(r, out);
  EXPECT_EQ(out, "[][-1][v]");
}

TEST(CliRecordFormat, JsonRecordKeepsNulls) {
  RecordView r;
  r.topic = "t";
  r.partition = 1;
  r.offset = 7;
  r.timestamp = 5;
  r.value = "v\"";
  r.headers = {{"h", "x"}};
  std::string out;
  render_record_json(r, out);
  EXPECT_EQ(
      out,
      R"({"topic":"t","partition":1,"offset":7,"timestamp":5,"key":null,"value":"v\"","headers":[{"key":"h","value":"x"}]})");
}

TEST(CliRecordFormat, BadTemplatesAndEscapesAreUsageErrors) {
  for (const char* spec : {"%q", "abc%", "\\q", "\\x4", "tail\\"}) {
    try {
      RecordTemplate t(spec);
      ADD_FAILURE() << "accepted " << spec;
    } catch (const CliError& e) {
      EXPECT_EQ(e.code(), kExitUsage) << spec;
    }
  }
  EXPECT_EQ(unescape("a\\tb\\x41\\\\"), "a\tbA\\");
}

TEST(CliOptions, DurationsParse) {
  EXPECT_EQ(parse_duration_ms("5"), 5000);
  EXPECT_EQ(parse_duration_ms("5s"), 5000);
  EXPECT_EQ(parse_duration_ms("250ms"), 250);
  EXPECT_EQ(parse_duration_ms("1.5s"), 1500);
  EXPECT_EQ(parse_duration_ms("2m"), 120000);
  EXPECT_FALSE(parse_duration_ms("abc"));
  EXPECT_FALSE(parse_duration_ms("5h"));
  EXPECT_FALSE(parse_duration_ms("-1"));
}

}  // namespace
}  // namespace runnel::cli
