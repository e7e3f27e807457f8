#include "cli/record_format.h"

#include "cli/exit_codes.h"
#include "cli/table.h"

namespace runnel::cli {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) usage_error("dangling backslash at the end of '" + std::string(text) + "'");
    switch (text[i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      case '\\': out += '\\'; break;
      case 'x': {
        const int hi = i + 1 < text.size() ? hex_digit(text[i + 1]) : -1;
        const int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
        if (hi < 0 || lo < 0) usage_error("bad \\x escape in '" + std::string(text) + "' (expected \\xHH)");
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default: usage_error(std::string("unknown escape \\") + text[i] + " in '" + std::string(text) + "'");
    }
  }
  return out;
}

RecordTemplate::RecordTemplate(std::string_view spec) {
  const std::string decoded = unescape(spec);
  std::string literal;
  for (std::size_t i = 0; i < decoded.size(); ++i) {
    if (decoded[i] != '%') {
      literal += decoded[i];
      continue;
    }
    if (i + 1 == decoded.size()) usage_error("format ends with a lone '%'");
    const char d = decoded[++i];
    if (d == '%') {
      literal += '%';
      continue;
    }
    static constexpr std::string_view kDirectives = "tpokshTKS";
    if (kDirectives.find(d) == std::string_view::npos) {
      usage_error(std::string("unknown format directive %") + d + " (known: %t %p %o %k %s %h %T %K %S %%)");
    }
    if (!literal.empty()) pieces_.push_back({0, std::move(literal)});
    literal.clear();
    pieces_.push_back({d, {}});
  }
  if (!literal.empty()) pieces_.push_back({0, std::move(literal)});
}

void RecordTemplate::render(const RecordView& r, std::string& out) const {
  for (const auto& piece : pieces_) {
    switch (piece.directive) {
      case 0: out += piece.text; break;
      case 't': out += r.topic; break;
      case 'p': out += std::to_string(r.partition); break;
      case 'o': out += std::to_string(r.offset); break;
      case 'T': out += std::to_string(r.timestamp); break;
      case 'k':
        if (r.key) out += *r.key;
        break;
      case 's':
        if (r.value) out += *r.value;
        break;
      case 'K': out += r.key ? std::to_string(r.key->size()) : "-1"; break;
      case 'S': out += r.value ? std::to_string(r.value->size()) : "-1"; break;
      case 'h':
        for (std::size_t i = 0; i < r.headers.size(); ++i) {
          if (i > 0) out += ',';
          out += r.headers[i].first;
          out += '=';
          if (r.headers[i].second) out += *r.headers[i].second;
        }
        break;
      default: break;
    }
  }
}

void render_record_json(const RecordView& r, std::string& out) {
  JsonWriter json;
  json.begin_object()
      .field("topic", r.topic)
      .field("partition", r.partition)
      .field("offset", r.offset)
      .field("timestamp", r.timestamp)
      .field("key", r.key)
      .field("value", r.value)
      .key("headers")
      .begin_array();
  for (const auto& [k, v] : r.headers) json.begin_object().field("key", k).field("value", v).end_object();
  json.end_array().end_object();
  out += json.str();
}

}  // namespace runnel::cli
