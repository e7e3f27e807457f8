// Rendering consumed records: kcat-style format templates (-f) and JSON
// lines, plus backslash-escape decoding shared with `produce`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace runnel::cli {

// Decodes \n \t \r \0 \\ and \xHH; throws a usage error on a bad escape.
std::string unescape(std::string_view text);

struct RecordView {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = -1;  // ms since epoch, -1 if none
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::vector<std::pair<std::string_view, std::optional<std::string_view>>> headers;
};

// A parsed template: %t topic, %p partition, %o offset, %k key, %s value,
// %h headers (k=v,k2=v2), %T timestamp (ms), %K key length, %S value length,
// %% a percent sign; \n \t \r \\ \xHH escapes. Null keys/values print as
// nothing (length -1).
class RecordTemplate {
 public:
  // Throws a usage error for an unknown %-directive.
  explicit RecordTemplate(std::string_view spec);
  void render(const RecordView& record, std::string& out) const;

 private:
  struct Piece {
    char directive = 0;  // 0: literal text
    std::string text;
  };
  std::vector<Piece> pieces_;
};

// One compact JSON object (no trailing newline): topic, partition, offset,
// timestamp, key, value, headers [{key, value}]. Nulls stay null.
void render_record_json(const RecordView& record, std::string& out);

}  // namespace runnel::cli
