#pragma once
// Writes the Prometheus text exposition format (version 0.0.4): one `# HELP`
// and `# TYPE` per family, then its samples. Label values are escaped; names
// are the caller's constants and follow the conventions in docs/metrics.md.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "metrics/histogram.h"

namespace runnel::metrics {

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::initializer_list<Label>;

class Exposition {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // Starts a metric family; `type` is counter, gauge or histogram.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, double value);
  void sample(std::string_view name, Labels labels, int64_t value);
  void sample(std::string_view name, Labels labels, uint64_t value);
  // `_bucket`, `_sum` and `_count` samples of one labelled histogram.
  void histogram(std::string_view name, Labels labels, const HistogramSnapshot& snapshot);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void write_name_and_labels(std::string_view name, Labels labels, const Label* extra = nullptr);

  std::string out_;
};

// Escapes a label value: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

}  // namespace runnel::metrics
