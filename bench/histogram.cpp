#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace runnel::bench {

// Layout: values below 2^bits go one per bucket (exact). A value v >= 2^bits
// with highest set bit h (h >= bits) lies in range [2^h, 2^(h+1)), split into
// 2^bits buckets of width 2^(h-bits): index = (h - bits + 1) * 2^bits +
// ((v >> (h - bits)) - 2^bits).
LatencyHistogram::LatencyHistogram(unsigned sub_bucket_bits)
    : bits_(sub_bucket_bits), sub_count_(uint64_t{1} << sub_bucket_bits) {
  if (sub_bucket_bits < 1 || sub_bucket_bits > 16) {
    throw std::invalid_argument("sub_bucket_bits must be in 1..16");
  }
  counts_.assign(static_cast<std::size_t>((64 - bits_ + 1) * sub_count_), 0);
}

std::size_t LatencyHistogram::bucket_index(uint64_t value) const {
  if (value < sub_count_) return static_cast<std::size_t>(value);
  const unsigned h = 63u - static_cast<unsigned>(std::countl_zero(value));
  const unsigned shift = h - bits_;
  return static_cast<std::size_t>((shift + 1) * sub_count_ + ((value >> shift) - sub_count_));
}

uint64_t LatencyHistogram::bucket_low(std::size_t index) const {
  if (index < sub_count_) return index;
  const uint64_t range = index / sub_count_;  // >= 1
  const unsigned shift = static_cast<unsigned>(range - 1);
  const uint64_t sub = index % sub_count_;
  return (sub_count_ + sub) << shift;
}

uint64_t LatencyHistogram::bucket_high(std::size_t index) const {
  if (index < sub_count_) return index;
  const unsigned shift = static_cast<unsigned>(index / sub_count_ - 1);
  return bucket_low(index) + ((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::record(uint64_t value) {
  ++counts_[bucket_index(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.bits_ != bits_) throw std::invalid_argument("histograms of different precision");
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  if (other.count_) {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
}

void LatencyHistogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

uint64_t LatencyHistogram::percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(bucket_high(i), min_, max_);
  }
  return max_;
}

}  // namespace runnel::bench
