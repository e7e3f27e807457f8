#include "sentinel_broker.h"

#include <gtest/gtest.h>

#include "kafka_requests.h"
#include "rdkafka_consumer.h"
#include "rdkafka_producer.h"
#include "record_verification.h"

namespace runnel::it {

SentinelBroker::SentinelBroker(std::vector<std::string> overrides)
    : broker_(std::make_unique<BrokerProcess>(std::move(overrides))) {}

namespace {
TestRecord SentinelRecord_(std::uint64_t id) {
  TestRecord r;
  r.key = "sentinel-" + std::to_string(id);
  r.value = "sentinel value " + std::to_string(id) + std::string(id * 7, 'x');
  r.headers = {{"s", std::to_string(id)}};
  return r;
}
}  // namespace

TestRecord SentinelBroker::SentinelRecord(std::uint64_t id) { return SentinelRecord_(id); }

bool SentinelBroker::start_and_seed() {
  if (!broker_->start()) return false;
  Producer producer(broker_->bootstrap(), {{"linger.ms", "0"}});
  if (!producer.ok()) {
    ADD_FAILURE() << producer.error();
    return false;
  }
  std::string why;
  if (producer.wait_for_topic(kSentinelTopic, std::chrono::seconds(20), &why) < 1) {
    ADD_FAILURE() << "sentinel topic not available: " << why;
    return false;
  }
  for (std::uint64_t id = 0; id < kSentinelRecords; ++id) {
    if (producer.produce(kSentinelTopic, 0, SentinelRecord(id), id) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  }
  if (producer.flush(std::chrono::seconds(30)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ADD_FAILURE() << "sentinel records not delivered";
    return false;
  }
  for (const auto& d : producer.deliveries()) {
    if (d.err != RD_KAFKA_RESP_ERR_NO_ERROR || d.offset != static_cast<std::int64_t>(d.id)) {
      ADD_FAILURE() << "sentinel record " << d.id << " delivery: " << rd_kafka_err2name(d.err) << " at offset "
                    << d.offset;
      return false;
    }
  }
  seeded_ = true;
  return true;
}

bool SentinelBroker::ensure_running() {
  if (broker_->alive()) return true;
  ADD_FAILURE() << "broker was dead before this test (exit status " << broker_->last_exit_status()
                << "); restarting it\n"
                << broker_->stderr_tail();
  return broker_->start();
}

void SentinelBroker::expect_healthy(const std::string& after_what) {
  SCOPED_TRACE("health check after: " + after_what);
  if (!broker_->alive()) {
    ADD_FAILURE() << "BROKER DIED (exit status " << broker_->last_exit_status() << ")\n--- stderr tail ---\n"
                  << broker_->stderr_tail();
    return;
  }
  std::string why;
  auto response = RoundTrip(broker_->port(), ApiVersionsV0Request(4242), std::chrono::seconds(10), &why);
  if (!response) {
    ADD_FAILURE() << "fresh connection: ApiVersions v0 got no response: " << why;
  } else {
    auto parsed = ParseApiVersionsV0Response(*response);
    EXPECT_TRUE(parsed.parsed) << "ApiVersions v0 response does not parse: " << HexPrefix(*response);
    EXPECT_EQ(parsed.correlation_id, 4242);
    EXPECT_EQ(parsed.error, kafka_error::kNone);
    EXPECT_TRUE(parsed.find(api::kProduce).has_value());
  }
  EXPECT_EQ(CheckMetadataWithFreshClient(broker_->bootstrap()), "");
  if (seeded_) {
    PartitionContents contents = ReadPartition(broker_->bootstrap(), kSentinelTopic, 0, kSentinelRecords,
                                               std::chrono::seconds(30));
    EXPECT_TRUE(contents.complete) << "sentinel topic: read " << contents.records.size() << " of "
                                   << kSentinelRecords;
    std::map<std::pair<std::int32_t, std::int64_t>, std::uint64_t> acked;
    for (std::uint64_t id = 0; id < kSentinelRecords; ++id) acked[{0, static_cast<std::int64_t>(id)}] = id;
    EXPECT_EQ(VerifyPartitionAgainstAcks(0, contents, acked, &SentinelRecord_), 0);
  }
}

void SentinelBroker::finish() {
  if (!broker_->alive()) {
    ADD_FAILURE() << "broker not alive at the end of the suite\n" << broker_->stderr_tail();
    return;
  }
  const int status = broker_->stop();
  EXPECT_EQ(status, 0) << "broker exit status after SIGTERM\n" << broker_->stderr_tail();
}

}  // namespace runnel::it
