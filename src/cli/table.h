// Output helpers shared by the client commands: aligned text tables for
// people and a tiny JSON writer for scripts (no JSON library dependency).
#pragma once

#include <concepts>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runnel::cli {

// Columns padded to the widest cell, separated by two spaces; the last
// column is not padded so lines carry no trailing blanks. A table without
// headers prints only its rows (used for "KEY  value" sections).
class Table {
 public:
  Table() = default;
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  bool empty() const { return rows_.empty(); }
  std::string render() const;
  void print(std::FILE* out = stdout) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Appends `bytes` as the contents of a JSON string (without quotes). Valid
// UTF-8 passes through; bytes that are not valid UTF-8 become \u00XX so the
// output always parses, even for binary keys and values.
void append_json_escaped(std::string& out, std::string_view bytes);

// Streaming JSON writer producing compact, single-line output. Commas and
// nesting are tracked so call sites read like the document they build.
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return s ? value(std::string_view(s)) : null(); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  template <std::integral T>
  requires(!std::same_as<T, bool>) JsonWriter& value(T n) { return raw(std::to_string(n)); }
  template <typename T>
  JsonWriter& value(const std::optional<T>& v) {
    return v ? value(*v) : null();
  }
  JsonWriter& null();

  template <typename T>
  JsonWriter& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  const std::string& str() const { return out_; }
  // Prints the document followed by a newline.
  void print(std::FILE* out = stdout) const;

 private:
  JsonWriter& raw(std::string_view token);
  void before_value();

  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace runnel::cli
