#include "server/http_request.h"

#include <gtest/gtest.h>

#include <vector>

#include "metrics/exposition.h"
#include "server/broker_metrics.h"
#include "storage/legacy_message_set.h"

namespace runnel::server {
namespace {

TEST(HttpRequest, ParsesARequestLineAndSplitsTheQuery) {
  std::string error;
  const auto request = parse_http_request_head("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*", &error);
  ASSERT_TRUE(request) << error;
  EXPECT_EQ(request->method, "GET");
  EXPECT_EQ(request->path, "/metrics");
  EXPECT_EQ(request->query, "x=1");
  EXPECT_EQ(request->version, "HTTP/1.1");
}

TEST(HttpRequest, RejectsGarbage) {
  for (const char* bad : {"", "hello", "GET /metrics", "GET metrics HTTP/1.1", "GET /metrics HTTP/2.0",
                          "GET /metrics HTTP/1.1 extra", "G{T /metrics HTTP/1.1", "GET /a\x01 HTTP/1.1",
                          "GET /metrics HTTP/1.1\r\nno colon here", "\x16\x03\x01\x02\x00"}) {
    std::string error;
    EXPECT_FALSE(parse_http_request_head(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(HttpRequest, ResponsesCarryLengthAndCloseAndHeadHasNoBody) {
  const HttpResponse response{404, "text/plain", "nope\n", {}};
  const auto full = serialize_http_response(response, false);
  EXPECT_EQ(full.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << full;
  EXPECT_NE(full.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_NE(full.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(full.substr(full.size() - 5), "nope\n");
  const auto head = serialize_http_response(response, true);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
}

TEST(Exposition, WritesFamiliesSamplesAndCumulativeHistograms) {
  metrics::Exposition out;
  out.family("runnel_x_total", "counter", "An x.");
  out.sample("runnel_x_total", {{"topic", "a\"b\\c\nd"}}, uint64_t{7});
  metrics::Histogram histogram(std::vector<double>{0.001, 0.01});
  histogram.observe(std::chrono::microseconds(500));
  histogram.observe(std::chrono::microseconds(1000));  // le is inclusive
  histogram.observe(std::chrono::milliseconds(50));
  out.family("runnel_y_seconds", "histogram", "A y.");
  out.histogram("runnel_y_seconds", {{"api", "Produce"}}, histogram.snapshot());
  const std::string& text = out.text();
  EXPECT_NE(text.find("# TYPE runnel_x_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("runnel_x_total{topic=\"a\\\"b\\\\c\\nd\"} 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("runnel_y_seconds_bucket{api=\"Produce\",le=\"0.001\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("runnel_y_seconds_bucket{api=\"Produce\",le=\"0.01\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("runnel_y_seconds_bucket{api=\"Produce\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("runnel_y_seconds_count{api=\"Produce\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("runnel_y_seconds_sum{api=\"Produce\"} 0.0515\n"), std::string::npos) << text;
}

TEST(BrokerMetrics, CountsFetchedRecordsFromTheFetchOffsetOn) {
  // Two batch headers: offsets 0..4 (5 records) and 5..7 (3 records), no record bodies needed.
  auto header = [](int64_t base, int32_t last_delta, int32_t count) {
    std::vector<uint8_t> batch(61, 0);
    for (int i = 0; i < 8; ++i) batch[static_cast<size_t>(i)] = static_cast<uint8_t>(base >> (56 - 8 * i));
    const int32_t length = 61 - 12;
    for (int i = 0; i < 4; ++i) batch[static_cast<size_t>(8 + i)] = static_cast<uint8_t>(length >> (24 - 8 * i));
    batch[16] = 2;
    for (int i = 0; i < 4; ++i) batch[static_cast<size_t>(23 + i)] = static_cast<uint8_t>(last_delta >> (24 - 8 * i));
    for (int i = 0; i < 4; ++i) batch[static_cast<size_t>(57 + i)] = static_cast<uint8_t>(count >> (24 - 8 * i));
    return batch;
  };
  auto bytes = header(0, 4, 5);
  const auto second = header(5, 2, 3);
  bytes.insert(bytes.end(), second.begin(), second.end());
  EXPECT_EQ(count_fetched_records(bytes, 0), 8u);
  EXPECT_EQ(count_fetched_records(bytes, 3), 5u);
  EXPECT_EQ(count_fetched_records(bytes, 6), 2u);
  // A truncated tail is not read past.
  EXPECT_EQ(count_fetched_records(std::span<const uint8_t>(bytes).first(bytes.size() - 1), 0), 5u);
}

TEST(BrokerMetrics, CountsDownConvertedMessagesOfOldFetchVersions) {
  std::vector<uint8_t> bytes;
  const std::vector<uint8_t> value{'v'};
  for (int64_t offset = 10; offset < 14; ++offset) {
    const int8_t magic = offset % 2 == 0 ? 0 : 1;
    storage::write_message(bytes, offset, magic, 0, 1000, std::nullopt, std::span<const uint8_t>(value));
  }
  EXPECT_EQ(count_fetched_records(bytes, 0), 4u);
  EXPECT_EQ(count_fetched_records(bytes, 12), 2u);
  EXPECT_EQ(count_fetched_records(std::span<const uint8_t>(bytes).first(bytes.size() - 1), 0), 3u);
}

}  // namespace
}  // namespace runnel::server
