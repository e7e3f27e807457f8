// The Prometheus endpoint (issue 9, acceptance 1): /metrics is scraped while
// records are produced and consumed, and the counters move by exactly the
// amounts the clients saw; consumer-group lag shows new records and goes back
// to zero once the group catches up. Bad HTTP requests get an HTTP error and
// leave the broker serving.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "broker_process.h"
#include "group_consumer.h"
#include "group_verification.h"
#include "http_client.h"

namespace runnel::it {
namespace {

constexpr int kPartitions = 3;

MetricSamples Scrape(const BrokerProcess& broker) {
  const auto reply = HttpGet(broker.http_port(), "/metrics");
  EXPECT_EQ(reply.status, 200) << reply.headers;
  EXPECT_NE(reply.headers.find("text/plain; version=0.0.4"), std::string::npos) << reply.headers;
  return ParseMetrics(reply.body);
}

// One group member reads `expected` records, committing each, then leaves.
std::size_t ConsumeWithGroup(const std::string& bootstrap, const std::string& group, const std::string& topic,
                             std::size_t expected) {
  ConsumptionLog log;
  GroupConsumer consumer(bootstrap, {"metrics-" + group, group, {}, true, {}});
  EXPECT_TRUE(consumer.ok()) << consumer.error();
  EXPECT_TRUE(consumer.subscribe({topic})) << consumer.error();
  consumer.start(&log);
  EXPECT_TRUE(WaitUntil([&] { return log.size() >= expected; }, std::chrono::seconds(60)))
      << group << ": delivered " << log.size() << " of " << expected;
  consumer.close();
  return log.size();
}

TEST(Metrics, CountersMoveByTheRecordsProducedAndLagReturnsToZero) {
  BrokerProcess broker(GroupBrokerSettings(kPartitions));
  ASSERT_TRUE(broker.start());
  const std::string topic = "metered";
  const std::string of_topic = "topic=\"" + topic + "\"";
  const std::string of_group = "group=\"metered-readers\"";

  const auto before = Scrape(broker);
  EXPECT_EQ(SumMetric(before, "runnel_topic_records_in_total", of_topic), 0);
  EXPECT_EQ(SumMetric(before, "runnel_build_info"), 1);
  EXPECT_EQ(SumMetric(before, "runnel_under_replicated_partitions"), 0);
  // A produce round fsyncs the commit journal, or the partitions themselves.
  const auto fsyncs = [](const auto& scrape) {
    return SumMetric(scrape, "runnel_fsync_duration_seconds_count") +
           SumMetric(scrape, "runnel_journal_commit_duration_seconds_count");
  };
  const double fsyncs_before = fsyncs(before);

  // 100 records to each partition.
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), topic, kPartitions, 0, 100), "");
  const auto produced = Scrape(broker);
  EXPECT_EQ(SumMetric(produced, "runnel_topic_records_in_total", of_topic), 300);
  const double bytes_in = SumMetric(produced, "runnel_topic_bytes_in_total", of_topic);
  EXPECT_GT(bytes_in, 300 * 5);  // at least the values themselves
  EXPECT_EQ(SumMetric(produced, "runnel_topic_partitions", of_topic), kPartitions);
  EXPECT_EQ(CountMetric(produced, "runnel_high_watermark", of_topic), kPartitions);
  for (int p = 0; p < kPartitions; ++p) {
    const std::string series = of_topic + ",partition=\"" + std::to_string(p) + "\"";
    EXPECT_EQ(SumMetric(produced, "runnel_high_watermark", series), 100) << series;
    EXPECT_EQ(SumMetric(produced, "runnel_log_end_offset", series), 100) << series;
    EXPECT_EQ(SumMetric(produced, "runnel_log_start_offset", series), 0) << series;
    EXPECT_GT(SumMetric(produced, "runnel_log_size_bytes", series), 0) << series;
  }
  const double produce_requests = SumMetric(produced, "runnel_requests_total", "api=\"Produce\"");
  EXPECT_GE(produce_requests, 1);
  EXPECT_EQ(SumMetric(produced, "runnel_request_duration_seconds_count", "api=\"Produce\""), produce_requests);
  EXPECT_EQ(SumMetric(produced, "runnel_request_errors_total"), 0);
  EXPECT_EQ(SumMetric(produced, "runnel_errors_total", "api=\"Produce\""), 0);
  EXPECT_GT(fsyncs(produced), fsyncs_before);
  EXPECT_GE(SumMetric(produced, "runnel_partitions"), kPartitions + 1);  // + __consumer_offsets
  EXPECT_GE(SumMetric(produced, "runnel_connections_accepted_total"), 1);

  // The group reads everything: lag 0 on every partition, 300 records out.
  ASSERT_EQ(ConsumeWithGroup(broker.bootstrap(), "metered-readers", topic, 300), 300u);
  const auto consumed = Scrape(broker);
  EXPECT_EQ(CountMetric(consumed, "runnel_consumer_group_lag", of_group), kPartitions);
  EXPECT_EQ(SumMetric(consumed, "runnel_consumer_group_lag", of_group), 0);
  EXPECT_EQ(SumMetric(consumed, "runnel_consumer_group_committed_offset", of_group), 300);
  // Out counts what the broker sent; a client may fetch a range twice (librdkafka
  // sometimes re-fetches a partition when its fetch state changes), never less.
  EXPECT_GE(SumMetric(consumed, "runnel_topic_records_out_total", of_topic), 300);
  EXPECT_GE(SumMetric(consumed, "runnel_topic_bytes_out_total", of_topic), bytes_in);
  EXPECT_GT(SumMetric(consumed, "runnel_requests_total", "api=\"Fetch\""), 0);
  EXPECT_GT(SumMetric(consumed, "runnel_requests_total", "api=\"OffsetCommit\""), 0);
  EXPECT_GE(SumMetric(consumed, "runnel_consumer_groups"), 1);

  // 30 more per partition while the group is away: its lag is exactly those.
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), topic, kPartitions, 100, 30), "");
  const auto behind = Scrape(broker);
  EXPECT_EQ(SumMetric(behind, "runnel_topic_records_in_total", of_topic), 390);
  for (int p = 0; p < kPartitions; ++p) {
    EXPECT_EQ(SumMetric(behind, "runnel_consumer_group_lag", of_group + ",partition=\"" + std::to_string(p) + "\""), 30);
  }

  // Scrape continuously while the group catches up: the lag only falls, to 0.
  std::atomic<bool> done{false};
  std::vector<double> lag_seen;
  std::atomic<int> failed_scrapes{0};
  std::thread scraper([&] {
    while (!done) {
      const auto reply = HttpGet(broker.http_port(), "/metrics");
      if (reply.status != 200) {
        ++failed_scrapes;
      } else {
        lag_seen.push_back(SumMetric(ParseMetrics(reply.body), "runnel_consumer_group_lag", of_group));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const auto caught_up = ConsumeWithGroup(broker.bootstrap(), "metered-readers", topic, 90);
  done = true;
  scraper.join();
  EXPECT_EQ(caught_up, 90u);
  EXPECT_EQ(failed_scrapes.load(), 0);
  ASSERT_FALSE(lag_seen.empty());
  EXPECT_EQ(lag_seen.front(), 90);
  for (size_t i = 1; i < lag_seen.size(); ++i) EXPECT_LE(lag_seen[i], lag_seen[i - 1]) << "scrape " << i;
  const auto after = Scrape(broker);
  EXPECT_EQ(SumMetric(after, "runnel_consumer_group_lag", of_group), 0);
  EXPECT_EQ(SumMetric(after, "runnel_consumer_group_committed_offset", of_group), 390);
  EXPECT_GE(SumMetric(after, "runnel_topic_records_out_total", of_topic),
            SumMetric(consumed, "runnel_topic_records_out_total", of_topic) + 90);
  std::printf("[metrics] %zu scrapes while catching up; produce requests %.0f, bytes in %.0f\n", lag_seen.size(),
              SumMetric(after, "runnel_requests_total", "api=\"Produce\""), bytes_in);
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

TEST(Metrics, ErrorCodesOfProduceAreCountedByCode) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  // Clients may not write the internal offsets topic: INVALID_TOPIC_EXCEPTION.
  ASSERT_NE(ProduceNumbered(broker.bootstrap(), "__consumer_offsets", 1, 0, 1), "");
  const auto samples = Scrape(broker);
  EXPECT_GE(SumMetric(samples, "runnel_errors_total", "api=\"Produce\",error=\"INVALID_TOPIC_EXCEPTION\",code=\"17\""), 1);
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

TEST(Metrics, BadHttpRequestsGetAnErrorAndTheBrokerKeepsServing) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  // A client that connects and says nothing must not hold up anyone else.
  const int idle = ::socket(AF_INET, SOCK_STREAM, 0);
  {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(broker.http_port());
    ASSERT_EQ(::connect(idle, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  EXPECT_EQ(HttpGet(broker.http_port(), "/no/such/path").status, 404);
  EXPECT_EQ(HttpGet(broker.http_port(), "/metrics?name=x").status, 200);
  EXPECT_EQ(HttpExchange(broker.http_port(), "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").status, 405);
  EXPECT_EQ(HttpExchange(broker.http_port(), "hello there\r\n\r\n").status, 400);
  EXPECT_EQ(HttpExchange(broker.http_port(), "GET metrics HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(HttpExchange(broker.http_port(), "GET /metrics SPDY/9\r\n\r\n").status, 400);
  EXPECT_EQ(HttpExchange(broker.http_port(), "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n")
                .status,
            431);
  // Binary garbage without a request end, then the client goes away: no answer, no harm.
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 131 + 7) & 0xff);
  EXPECT_EQ(HttpExchange(broker.http_port(), garbage, std::chrono::milliseconds(300)).status, -1);
  const auto head = HttpExchange(broker.http_port(), "HEAD /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  // HTTP on the Kafka port is a bad frame there: that connection is closed, nothing else.
  EXPECT_EQ(HttpGet(broker.port(), "/metrics", std::chrono::milliseconds(2000)).status, -1);

  ASSERT_TRUE(broker.alive());
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), "still-serving", 1, 0, 5), "");
  const auto samples = Scrape(broker);
  EXPECT_EQ(SumMetric(samples, "runnel_topic_records_in_total", "topic=\"still-serving\""), 5);
  ::close(idle);
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

TEST(Metrics, AnEmptyHttpListenersSettingTurnsTheEndpointOff) {
  BrokerProcess broker({"http.listeners="});
  ASSERT_TRUE(broker.start());
  EXPECT_FALSE(LoopbackPortAccepts(broker.http_port()));
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

}  // namespace
}  // namespace runnel::it
