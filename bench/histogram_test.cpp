#include "histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using runnel::bench::LatencyHistogram;

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h(7);
  for (uint64_t v = 0; v < 128; ++v) h.record(v);
  EXPECT_EQ(h.count(), 128u);
  EXPECT_EQ(h.percentile(0.5), 63u);
  EXPECT_EQ(h.percentile(1.0), 127u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 127u);
}

TEST(LatencyHistogram, BucketsTileTheRangeWithoutGaps) {
  LatencyHistogram h(4);
  for (std::size_t i = 1; i < 400; ++i) {
    EXPECT_EQ(h.bucket_low(i), h.bucket_high(i - 1) + 1) << i;
  }
  for (uint64_t v : {0ull, 1ull, 15ull, 16ull, 17ull, 1000ull, 123456789ull, ~0ull}) {
    const std::size_t i = h.bucket_index(v);
    EXPECT_LE(h.bucket_low(i), v);
    EXPECT_GE(h.bucket_high(i), v);
  }
}

TEST(LatencyHistogram, PercentilesWithinRelativeError) {
  LatencyHistogram h(7);
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(13.0, 1.0);  // around a millisecond in ns
  std::vector<uint64_t> values;
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<uint64_t>(dist(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const uint64_t exact = values[static_cast<std::size_t>(std::ceil(q * values.size())) - 1];
    const double got = static_cast<double>(h.percentile(q));
    EXPECT_NEAR(got, static_cast<double>(exact), static_cast<double>(exact) / 64.0) << q;
    EXPECT_GE(got, static_cast<double>(exact)) << "reported as the bucket's upper bound";
  }
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.percentile(1.0), values.back());
}

TEST(LatencyHistogram, MergeAddsCounts) {
  LatencyHistogram a, b;
  for (int i = 0; i < 100; ++i) a.record(1000);
  for (int i = 0; i < 100; ++i) b.record(1000000);
  a.merge(b);
  EXPECT_EQ(a.count(), 200u);
  EXPECT_EQ(a.min(), 1000u);
  EXPECT_EQ(a.max(), 1000000u);
  EXPECT_LE(a.percentile(0.5), 1000u + 1000u / 64);
  EXPECT_EQ(a.percentile(0.99), 1000000u);
  a.reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.percentile(0.5), 0u);
}

TEST(LatencyHistogram, RejectsBadPrecision) {
  EXPECT_THROW(LatencyHistogram(0), std::invalid_argument);
  EXPECT_THROW(LatencyHistogram(17), std::invalid_argument);
}
