#include "metrics/exposition.h"

#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace runnel::metrics {

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void Exposition::write_name_and_labels(std::string_view name, Labels labels, const Label* extra) {
  out_ += name;
  if (labels.size() == 0 && extra == nullptr) return;
  out_ += '{';
  bool first = true;
  auto write = [&](const Label& label) {
    if (!first) out_ += ',';
    first = false;
    out_ += label.first;
    out_ += "=\"";
    out_ += escape_label_value(label.second);
    out_ += '"';
  };
  for (const auto& label : labels) write(label);
  if (extra != nullptr) write(*extra);
  out_ += '}';
}

void Exposition::sample(std::string_view name, Labels labels, double value) {
  write_name_and_labels(name, labels);
  if (std::isinf(value)) {
    out_ += value > 0 ? " +Inf\n" : " -Inf\n";
  } else if (std::isnan(value)) {
    out_ += " NaN\n";
  } else {
    fmt::format_to(std::back_inserter(out_), " {}\n", value);
  }
}

void Exposition::sample(std::string_view name, Labels labels, int64_t value) {
  write_name_and_labels(name, labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
}

void Exposition::sample(std::string_view name, Labels labels, uint64_t value) {
  write_name_and_labels(name, labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
}

void Exposition::histogram(std::string_view name, Labels labels, const HistogramSnapshot& snapshot) {
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i <= snapshot.bounds.size(); ++i) {
    const std::string le = i < snapshot.bounds.size() ? fmt::format("{}", snapshot.bounds[i]) : "+Inf";
    const Label extra{"le", le};
    write_name_and_labels(bucket, labels, &extra);
    fmt::format_to(std::back_inserter(out_), " {}\n", snapshot.buckets[i]);
  }
  write_name_and_labels(std::string(name) + "_sum", labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", snapshot.sum_seconds);
  write_name_and_labels(std::string(name) + "_count", labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", snapshot.count);
}

}  // namespace runnel::metrics
