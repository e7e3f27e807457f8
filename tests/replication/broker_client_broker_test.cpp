// BrokerClient against a real `runnel serve`: version negotiation, Metadata,
// CreateTopics, Produce then Fetch (typed and through send_raw), Produce
// acks=0, pipelining, and reconnecting after the broker restarts.
#include <gtest/gtest.h>

#include <set>

#include <asio/io_context.hpp>

#include "broker_process.h"
#include "coordinator/record_batch_codec.h"
#include "protocol/messages/controlled_shutdown.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "replication/broker_client.h"
#include "run_coroutine.h"

namespace runnel::replication::test {
namespace {

using namespace std::chrono_literals;
using coordinator::LogRecord;
using protocol::RecordsView;

using Bytes = std::vector<uint8_t>;

Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

Bytes batch_of(std::string_view key, std::string_view value) {
  const LogRecord record{bytes_of(key), bytes_of(value)};
  return coordinator::build_record_batch(std::span<const LogRecord>(&record, 1), 1700000000000);
}

protocol::ProduceRequest produce_request(const std::string& topic, const Bytes& batch, int16_t acks = -1) {
  protocol::ProduceRequest request;
  request.acks = acks;
  request.timeout_ms = 10000;
  auto& data = request.topic_data.emplace_back();
  data.name = topic;
  data.partition_data.push_back({0, RecordsView::of(batch)});
  return request;
}

// The records of every batch in a fetched blob, as "key=value".
std::vector<std::string> records_in(std::span<const uint8_t> blob) {
  std::vector<std::string> out;
  for (auto batch : coordinator::split_batches(blob)) {
    const auto parsed = coordinator::parse_record_batch(batch);
    EXPECT_EQ(parsed.status, coordinator::ParsedBatch::Status::kOk);
    for (const auto& record : parsed.records) {
      out.push_back(std::string(record.key.begin(), record.key.end()) + "=" +
                    std::string(record.value->begin(), record.value->end()));
    }
  }
  return out;
}

template <typename Message>
Bytes encode_body(const Message& message, int16_t version) {
  Bytes out;
  protocol::Writer w(out);
  message.encode(w, version);
  return out;
}

template <typename Message>
Message decode_body(std::span<const uint8_t> body, int16_t version) {
  Message message;
  protocol::Reader r(body);
  message.decode(r, version);
  EXPECT_TRUE(r.at_end());
  return message;
}

class BrokerClientBroker : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new it::BrokerProcess({"auto.create.topics.enable=false"});
    if (!broker_->start()) {
      delete broker_;
      broker_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete broker_;
    broker_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(broker_, nullptr) << "the broker did not start"; }
  void TearDown() override {
    if (client_) client_->close();
    run_for(io_, 20ms);
  }

  std::shared_ptr<BrokerClient> client() {
    if (!client_) {
      BrokerClient::Options options;
      options.host = "127.0.0.1";
      options.port = broker_->port();
      options.client_id = "broker-client-test";
      client_ = BrokerClient::create(io_.get_executor(), options);
    }
    return client_;
  }

  void create_topic(const std::string& name, int32_t partitions) {
    protocol::CreateTopicsRequest request;
    request.timeout_ms = 10000;
    auto& topic = request.topics.emplace_back();
    topic.name = name;
    topic.num_partitions = partitions;
    topic.replication_factor = 1;
    auto created = run(io_, client()->send(request, 7));
    ASSERT_TRUE(created) << created.error().describe();
    ASSERT_EQ(created->message.topics.size(), 1u);
    ASSERT_EQ(created->message.topics[0].error_code, 0) << created->message.topics[0].error_message.value_or("");
  }

  protocol::MetadataResponse::MetadataResponseTopic metadata_of(const std::string& topic) {
    protocol::MetadataRequest request;
    request.topics.emplace().push_back({Uuid{}, topic});
    auto result = run(io_, client()->send(request, 12));
    EXPECT_TRUE(result) << result.error().describe();
    if (!result || result->message.topics.size() != 1) return {};
    return result->message.topics[0];
  }

  static it::BrokerProcess* broker_;
  asio::io_context io_;
  std::shared_ptr<BrokerClient> client_;
};

it::BrokerProcess* BrokerClientBroker::broker_ = nullptr;

TEST_F(BrokerClientBroker, NegotiatesVersionsWithTheBroker) {
  auto connected = run(io_, client()->connect());
  ASSERT_TRUE(connected) << connected.error().describe();
  EXPECT_EQ(client()->peer_max_version(18), 3);
  EXPECT_EQ(client()->pick_version<protocol::FetchRequest>(), 13);
  EXPECT_EQ(client()->pick_version<protocol::MetadataRequest>(), 12);
  // We define Produce up to v10; the broker serves up to v9.
  EXPECT_EQ(protocol::ProduceRequest::kMaxVersion, 10);
  EXPECT_EQ(client()->pick_version<protocol::ProduceRequest>(), 9);
  // Not served (yet): refused without being sent, the connection stays.
  EXPECT_EQ(client()->pick_version<protocol::ControlledShutdownRequest>(), std::nullopt);
  auto refused = run(io_, client()->send(protocol::ControlledShutdownRequest{}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ClientError::kUnsupportedVersion);
  EXPECT_TRUE(client()->connected());
}

TEST_F(BrokerClientBroker, MetadataNamesTheBroker) {
  auto result = run(io_, client()->send(protocol::MetadataRequest{}, 12));
  ASSERT_TRUE(result) << result.error().describe();
  ASSERT_EQ(result->message.brokers.size(), 1u);
  EXPECT_EQ(result->message.brokers[0].port, broker_->port());
  EXPECT_EQ(result->version, 12);
  EXPECT_NE(result->buffer, nullptr);
}

TEST_F(BrokerClientBroker, CreateTopicsThenMetadataShowsIt) {
  ASSERT_NO_FATAL_FAILURE(create_topic("created", 3));
  const auto topic = metadata_of("created");
  EXPECT_EQ(topic.error_code, 0);
  EXPECT_EQ(topic.partitions.size(), 3u);
  EXPECT_NE(topic.topic_id, Uuid{});
  for (const auto& partition : topic.partitions) EXPECT_GE(partition.leader_epoch, 0);
}

TEST_F(BrokerClientBroker, ProduceThenFetchTyped) {
  ASSERT_NO_FATAL_FAILURE(create_topic("typed", 1));
  const Bytes batch = batch_of("k", "v");
  auto produced = run(io_, client()->send(produce_request("typed", batch), 9));
  ASSERT_TRUE(produced) << produced.error().describe();
  const auto& partition = produced->message.responses.at(0).partition_responses.at(0);
  EXPECT_EQ(partition.error_code, 0);
  EXPECT_EQ(partition.base_offset, 0);

  // v13 names the topic by id, as followers will.
  const auto topic = metadata_of("typed");
  protocol::FetchRequest fetch;
  fetch.max_wait_ms = 500;
  fetch.min_bytes = 1;
  auto& fetch_topic = fetch.topics.emplace_back();
  fetch_topic.topic_id = topic.topic_id;
  auto& fetch_partition = fetch_topic.partitions.emplace_back();
  fetch_partition.partition = 0;
  fetch_partition.fetch_offset = 0;
  fetch_partition.current_leader_epoch = topic.partitions.at(0).leader_epoch;
  fetch_partition.partition_max_bytes = 1 << 20;
  auto fetched = run(io_, client()->send(fetch, 13));
  ASSERT_TRUE(fetched) << fetched.error().describe();
  const auto& data = fetched->message.responses.at(0).partitions.at(0);
  EXPECT_EQ(data.error_code, 0);
  EXPECT_EQ(data.high_watermark, 1);
  EXPECT_EQ(data.log_start_offset, 0);
  // The records view points into the response buffer the Decoded keeps.
  ASSERT_FALSE(data.records.is_null);
  EXPECT_GE(data.records.data, fetched->buffer->data());
  EXPECT_LE(data.records.data + data.records.size, fetched->buffer->data() + fetched->buffer->size());
  EXPECT_EQ(records_in(data.records.span()), (std::vector<std::string>{"k=v"}));
}

TEST_F(BrokerClientBroker, ProduceThenFetchRaw) {
  ASSERT_NO_FATAL_FAILURE(create_topic("raw", 1));
  const Bytes batch = batch_of("raw-key", "raw-value");
  const Bytes produce_body = encode_body(produce_request("raw", batch), 9);
  auto produced = run(io_, client()->send_raw(protocol::ProduceRequest::kApiKey, 9, produce_body));
  ASSERT_TRUE(produced) << produced.error().describe();
  const auto produce_response = decode_body<protocol::ProduceResponse>(produced->body(), 9);
  EXPECT_EQ(produce_response.responses.at(0).partition_responses.at(0).error_code, 0);

  protocol::FetchRequest fetch;  // v12: by topic name
  fetch.max_wait_ms = 500;
  fetch.min_bytes = 1;
  auto& topic = fetch.topics.emplace_back();
  topic.topic = "raw";
  topic.partitions.push_back({0, -1, 0, -1, -1, 1 << 20});
  const Bytes fetch_body = encode_body(fetch, 12);
  auto fetched = run(io_, client()->send_raw(protocol::FetchRequest::kApiKey, 12, fetch_body));
  ASSERT_TRUE(fetched) << fetched.error().describe();
  const auto response = decode_body<protocol::FetchResponse>(fetched->body(), 12);
  const auto& data = response.responses.at(0).partitions.at(0);
  EXPECT_EQ(data.error_code, 0);
  EXPECT_EQ(records_in(data.records.span()), (std::vector<std::string>{"raw-key=raw-value"}));
}

TEST_F(BrokerClientBroker, ProduceWithoutAcksCompletesOnceWritten) {
  ASSERT_NO_FATAL_FAILURE(create_topic("fire-and-forget", 1));
  const Bytes batch = batch_of("a", "0");
  auto sent = run(io_, client()->send(produce_request("fire-and-forget", batch, /*acks=*/0), 9));
  ASSERT_TRUE(sent) << sent.error().describe();
  EXPECT_EQ(sent->buffer, nullptr);  // no response was expected
  // The connection is still in step: the next response matches its request.
  const auto topic = metadata_of("fire-and-forget");
  EXPECT_EQ(topic.error_code, 0);
  EXPECT_TRUE(client()->connected());
}

TEST_F(BrokerClientBroker, PipelinesManyRequestsOnOneConnection) {
  ASSERT_NO_FATAL_FAILURE(create_topic("pipelined", 1));
  constexpr int kProduces = 20;
  constexpr int kMetadata = 80;
  std::vector<Bytes> batches;
  for (int i = 0; i < kProduces; ++i) batches.push_back(batch_of("k" + std::to_string(i), "v"));
  std::vector<asio::awaitable<Result<Decoded<protocol::ProduceResponse>>>> produces;
  for (const auto& batch : batches) produces.push_back(client()->send(produce_request("pipelined", batch, 1), 9));
  std::vector<asio::awaitable<Result<Decoded<protocol::MetadataResponse>>>> lookups;
  for (int i = 0; i < kMetadata; ++i) lookups.push_back(client()->send(protocol::MetadataRequest{}, 12));

  auto produced = run_concurrently(io_, std::move(produces));
  auto looked_up = run_concurrently(io_, std::move(lookups));
  std::set<int64_t> offsets;
  for (auto& result : produced) {
    ASSERT_TRUE(result && *result) << (result ? (*result).error().describe() : "unfinished");
    const auto& partition = (*result)->message.responses.at(0).partition_responses.at(0);
    EXPECT_EQ(partition.error_code, 0);
    offsets.insert(partition.base_offset);
  }
  EXPECT_EQ(offsets.size(), static_cast<size_t>(kProduces));
  EXPECT_EQ(*offsets.begin(), 0);
  EXPECT_EQ(*offsets.rbegin(), kProduces - 1);
  for (auto& result : looked_up) {
    ASSERT_TRUE(result && *result) << (result ? (*result).error().describe() : "unfinished");
    EXPECT_EQ((*result)->message.brokers.size(), 1u);
  }
}

// Its own broker: it restarts it.
TEST(BrokerClientBrokerRestart, ReconnectsAfterTheBrokerRestarts) {
  it::BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  asio::io_context io;
  BrokerClient::Options options;
  options.host = "127.0.0.1";
  options.port = broker.port();
  auto client = BrokerClient::create(io.get_executor(), options);
  auto before = run(io, client->send(protocol::MetadataRequest{}, 12));
  ASSERT_TRUE(before) << before.error().describe();

  ASSERT_TRUE(broker.restart());
  // The old connection is gone; at most the first call notices that, then it reconnects.
  std::optional<ClientFailure> first_failure;
  bool recovered = false;
  for (int attempt = 0; attempt < 3 && !recovered; ++attempt) {
    auto after = run(io, client->send(protocol::MetadataRequest{}, 12));
    if (after) {
      recovered = true;
      EXPECT_EQ(after->message.brokers.at(0).port, broker.port());
    } else if (!first_failure) {
      first_failure = after.error();
    }
  }
  EXPECT_TRUE(recovered);
  if (first_failure) {
    EXPECT_EQ(first_failure->code, ClientError::kDisconnected) << first_failure->describe();
  }
  client->close();
  run_for(io, 20ms);
}

}  // namespace
}  // namespace runnel::replication::test
