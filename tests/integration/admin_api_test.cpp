// Admin APIs through librdkafka's admin client and, where librdkafka 2.0.2 has
// no call, through typed protocol requests: topics, partitions, configs
// (sources, persistence, live effect), records deletion, cluster and log dirs.
#include <gtest/gtest.h>

#include <filesystem>

#include "admin_client.h"
#include "broker_process.h"
#include "protocol/messages/describe_cluster.h"
#include "protocol/messages/describe_log_dirs.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/offset_for_leader_epoch.h"
#include "protocol/messages/create_topics.h"
#include "kafka_requests.h"
#include "protocol_client.h"
#include "record_batch_builder.h"
#include "rdkafka_producer.h"

namespace runnel::it {
namespace {

namespace fs = std::filesystem;

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // No auto-creation: metadata lookups must not resurrect deleted topics.
    broker_ = std::make_unique<BrokerProcess>(std::vector<std::string>{"auto.create.topics.enable=false"});
    ASSERT_TRUE(broker_->start());
    admin_ = std::make_unique<AdminClient>(broker_->bootstrap());
  }
  void produce(const std::string& topic, int partition, int count) {
    Producer producer(broker_->bootstrap());
    for (int i = 0; i < count; ++i) {
      ASSERT_EQ(producer.produce(topic, partition, TestRecord{"k" + std::to_string(i), "v" + std::to_string(i), {}},
                                 static_cast<uint64_t>(i)),
                RD_KAFKA_RESP_ERR_NO_ERROR);
      // One batch per record, so several segments can form.
      producer.flush(std::chrono::seconds(10));
    }
    ASSERT_EQ(producer.flush(std::chrono::seconds(30)), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  std::unique_ptr<BrokerProcess> broker_;
  std::unique_ptr<AdminClient> admin_;
};

TEST_F(AdminApiTest, CreateDescribeAndDeleteTopic) {
  const auto created = admin_->create_topic("orders", 3, 1, {{"retention.ms", "3600000"}});
  ASSERT_EQ(created.err, RD_KAFKA_RESP_ERR_NO_ERROR) << created.message;
  EXPECT_EQ(admin_->partition_count("orders"), 3);
  EXPECT_TRUE(fs::exists(broker_->partition_dir("orders", 2)));

  auto configs = admin_->describe_configs(RD_KAFKA_RESOURCE_TOPIC, "orders");
  ASSERT_TRUE(configs.contains("retention.ms"));
  EXPECT_EQ(configs["retention.ms"].value, "3600000");
  EXPECT_EQ(configs["retention.ms"].source, RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG);
  EXPECT_EQ(configs["segment.bytes"].source, RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);
  EXPECT_EQ(configs["cleanup.policy"].value, "delete");

  const auto deleted = admin_->delete_topic("orders");
  ASSERT_EQ(deleted.err, RD_KAFKA_RESP_ERR_NO_ERROR) << deleted.message;
  EXPECT_EQ(admin_->partition_count("orders"), -1);
  EXPECT_FALSE(fs::exists(broker_->partition_dir("orders", 0)));
  EXPECT_EQ(admin_->delete_topic("orders").err, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
}

TEST_F(AdminApiTest, CreateTopicErrors) {
  ASSERT_EQ(admin_->create_topic("dup", 1).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(admin_->create_topic("dup", 1).err, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
  EXPECT_EQ(admin_->create_topic("bad/name", 1).err, RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION);
  EXPECT_EQ(admin_->create_topic(std::string(250, 'x'), 1).err, RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION);
  {
    // librdkafka refuses more than 100000 partitions itself, so ask the broker directly.
    protocol::CreateTopicsRequest request;
    auto& topic = request.topics.emplace_back();
    topic.name = "many";
    topic.num_partitions = 1000000;
    topic.replication_factor = 1;
    auto response = SendRequest<protocol::CreateTopicsResponse>(broker_->port(), request, 5);
    ASSERT_TRUE(response);
    ASSERT_EQ(response->topics.size(), 1u);
    EXPECT_EQ(response->topics[0].error_code, 37);  // INVALID_PARTITIONS
  }
  EXPECT_EQ(admin_->create_topic("replicated", 1, 3).err, RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR);
  const auto bad_config = admin_->create_topic("badcfg", 1, 1, {{"retention.ms", "soon"}});
  EXPECT_EQ(bad_config.err, RD_KAFKA_RESP_ERR_INVALID_CONFIG);
  EXPECT_NE(bad_config.message.find("retention.ms"), std::string::npos) << bad_config.message;
  const auto unknown_config = admin_->create_topic("badcfg", 1, 1, {{"no.such.config", "1"}});
  EXPECT_EQ(unknown_config.err, RD_KAFKA_RESP_ERR_INVALID_CONFIG);
  EXPECT_EQ(admin_->partition_count("badcfg"), -1);
}

TEST_F(AdminApiTest, ValidateOnlyCreatesNothing) {
  const auto outcome = admin_->create_topic("dry", 4, 1, {{"cleanup.policy", "compact"}}, /*validate_only=*/true);
  ASSERT_EQ(outcome.err, RD_KAFKA_RESP_ERR_NO_ERROR) << outcome.message;
  EXPECT_EQ(admin_->partition_count("dry"), -1);
  EXPECT_FALSE(fs::exists(broker_->partition_dir("dry", 0)));
  EXPECT_EQ(admin_->create_topic("dry", 0, 1, {}, true).err, RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);
}

TEST_F(AdminApiTest, CreateTopicsResponseCarriesIdAndConfigs) {
  protocol::CreateTopicsRequest request;
  auto& topic = request.topics.emplace_back();
  topic.name = "typed";
  topic.num_partitions = -1;  // broker default
  topic.replication_factor = -1;
  auto& config = topic.configs.emplace_back();
  config.name = "max.message.bytes";
  config.value = "2048";
  auto response = SendRequest<protocol::CreateTopicsResponse>(broker_->port(), request, 7);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->topics.size(), 1u);
  const auto& result = response->topics[0];
  EXPECT_EQ(result.error_code, 0);
  EXPECT_FALSE(result.topic_id.is_zero());
  EXPECT_EQ(result.num_partitions, 1);
  EXPECT_EQ(result.replication_factor, 1);
  ASSERT_TRUE(result.configs);
  bool found = false;
  for (const auto& c : *result.configs) {
    if (c.name == "max.message.bytes") {
      found = true;
      EXPECT_EQ(c.value, "2048");
      EXPECT_EQ(c.config_source, 1);  // DYNAMIC_TOPIC_CONFIG
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(AdminApiTest, AlterConfigsTakeEffectAndSurviveRestart) {
  ASSERT_EQ(admin_->create_topic("tuned", 1).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(admin_->alter_topic_configs("tuned", {{"max.message.bytes", "100"}}).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  // Live effect: a batch over 100 bytes is now refused.
  {
    Producer producer(broker_->bootstrap(), {{"message.send.max.retries", "0"}});
    ASSERT_EQ(producer.produce("tuned", 0, TestRecord{"k", std::string(500, 'x'), {}}, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    producer.flush(std::chrono::seconds(15));
    const auto deliveries = producer.deliveries();
    ASSERT_EQ(deliveries.size(), 1u);
    EXPECT_EQ(deliveries[0].err, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  }
  const auto bad = admin_->alter_topic_configs("tuned", {{"segment.bytes", "1"}});
  EXPECT_EQ(bad.err, RD_KAFKA_RESP_ERR_INVALID_CONFIG);
  EXPECT_NE(bad.message.find("segment.bytes"), std::string::npos);
  EXPECT_EQ(admin_->alter_topic_configs("missing", {{"retention.ms", "1"}}).err, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);

  ASSERT_TRUE(broker_->restart());
  AdminClient admin(broker_->bootstrap());
  auto configs = admin.describe_configs(RD_KAFKA_RESOURCE_TOPIC, "tuned");
  EXPECT_EQ(configs["max.message.bytes"].value, "100");
  EXPECT_EQ(configs["max.message.bytes"].source, RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG);
}

TEST_F(AdminApiTest, IncrementalAlterConfigsSetDeleteAppendSubtract) {
  ASSERT_EQ(admin_->create_topic("incr", 1).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  auto alter = [&](std::vector<std::tuple<std::string, int8_t, std::optional<std::string>>> ops) {
    protocol::IncrementalAlterConfigsRequest request;
    auto& resource = request.resources.emplace_back();
    resource.resource_type = 2;
    resource.resource_name = "incr";
    for (auto& [name, op, value] : ops) {
      auto& c = resource.configs.emplace_back();
      c.name = name;
      c.config_operation = op;
      c.value = value;
    }
    auto response = SendRequest<protocol::IncrementalAlterConfigsResponse>(broker_->port(), request, 1);
    return response && response->responses.size() == 1 ? response->responses[0].error_code : int16_t{-99};
  };
  EXPECT_EQ(alter({{"retention.ms", 0, "1000"}, {"cleanup.policy", 2, "compact"}}), 0);
  auto configs = admin_->describe_configs(RD_KAFKA_RESOURCE_TOPIC, "incr");
  EXPECT_EQ(configs["retention.ms"].value, "1000");
  EXPECT_EQ(configs["cleanup.policy"].value, "delete,compact");
  EXPECT_EQ(alter({{"cleanup.policy", 3, "delete"}, {"retention.ms", 1, std::nullopt}}), 0);
  configs = admin_->describe_configs(RD_KAFKA_RESOURCE_TOPIC, "incr");
  EXPECT_EQ(configs["cleanup.policy"].value, "compact");
  EXPECT_EQ(configs["retention.ms"].source, RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);
  EXPECT_EQ(alter({{"retention.ms", 2, "5"}}), 40);   // APPEND on a non-list: INVALID_CONFIG
  EXPECT_EQ(alter({{"retention.ms", 0, "-5"}}), 40);  // out of range
}

TEST_F(AdminApiTest, BrokerConfigsAreDescribedAsStatic) {
  AdminOutcome outcome;
  auto configs = admin_->describe_configs(RD_KAFKA_RESOURCE_BROKER, "0", &outcome);
  ASSERT_EQ(outcome.err, RD_KAFKA_RESP_ERR_NO_ERROR) << outcome.message;
  ASSERT_TRUE(configs.contains("auto.create.topics.enable"));
  EXPECT_EQ(configs["auto.create.topics.enable"].value, "false");
  EXPECT_EQ(configs["auto.create.topics.enable"].source, RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG);
  EXPECT_TRUE(configs["auto.create.topics.enable"].read_only);
  EXPECT_EQ(configs["num.partitions"].source, RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);
}

TEST_F(AdminApiTest, CreatePartitionsGrowsButNeverShrinks) {
  ASSERT_EQ(admin_->create_topic("grow", 2).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(admin_->create_partitions("grow", 5, /*validate_only=*/true).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(admin_->partition_count("grow"), 2);
  ASSERT_EQ(admin_->create_partitions("grow", 5).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(admin_->partition_count("grow"), 5);
  EXPECT_TRUE(fs::exists(broker_->partition_dir("grow", 4)));
  EXPECT_EQ(admin_->create_partitions("grow", 3).err, RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);
  EXPECT_EQ(admin_->create_partitions("nope", 3).err, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
}

TEST_F(AdminApiTest, DeleteRecordsAdvancesTheLogStart) {
  ASSERT_EQ(admin_->create_topic("trim", 1, 1, {{"segment.bytes", "1024"}}).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  produce("trim", 0, 60);
  EXPECT_EQ(admin_->watermarks("trim", 0), (std::pair<int64_t, int64_t>(0, 60)));
  AdminOutcome outcome;
  EXPECT_EQ(admin_->delete_records("trim", 0, 25, &outcome), 25);
  EXPECT_EQ(outcome.err, RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(admin_->watermarks("trim", 0).first, 25);
  admin_->delete_records("trim", 0, 61, &outcome);
  EXPECT_EQ(outcome.err, RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE);
  // The new start survives a restart.
  ASSERT_TRUE(broker_->restart());
  AdminClient admin(broker_->bootstrap());
  EXPECT_EQ(admin.watermarks("trim", 0).first, 25);
}

// Disabled at the end of the first session: it failed (no partition size seen, and the broker
// stopped answering afterwards) and there was no time left to find out why. See the issue note.
TEST_F(AdminApiTest, DescribeClusterLogDirsAndLeaderEpochs) {
  ASSERT_EQ(admin_->create_topic("dirs", 2).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  produce("dirs", 1, 3);

  protocol::DescribeClusterRequest cluster_request;
  auto cluster = SendRequest<protocol::DescribeClusterResponse>(broker_->port(), cluster_request, 1);
  ASSERT_TRUE(cluster);
  EXPECT_EQ(cluster->error_code, 0);
  EXPECT_EQ(cluster->controller_id, 0);
  ASSERT_EQ(cluster->brokers.size(), 1u);
  EXPECT_EQ(cluster->brokers[0].port, broker_->port());

  protocol::DescribeLogDirsRequest dirs_request;
  dirs_request.topics = std::nullopt;  // null topics: everything (an empty list means none)
  auto dirs = SendRequest<protocol::DescribeLogDirsResponse>(broker_->port(), dirs_request, 4);
  ASSERT_TRUE(dirs);
  ASSERT_EQ(dirs->results.size(), 1u);
  EXPECT_GT(dirs->results[0].total_bytes, 0);
  int64_t size_of_p1 = -1;
  for (const auto& topic : dirs->results[0].topics) {
    for (const auto& p : topic.partitions) {
      if (topic.name == "dirs" && p.partition_index == 1) size_of_p1 = p.partition_size;
    }
  }
  EXPECT_GT(size_of_p1, 0);

  protocol::OffsetForLeaderEpochRequest epoch_request;
  auto& topic = epoch_request.topics.emplace_back();
  topic.topic = "dirs";
  auto& partition = topic.partitions.emplace_back();
  partition.partition = 1;
  partition.leader_epoch = 0;
  auto& unknown = topic.partitions.emplace_back();
  unknown.partition = 9;
  unknown.leader_epoch = 0;
  auto epochs = SendRequest<protocol::OffsetForLeaderEpochResponse>(broker_->port(), epoch_request, 4);
  ASSERT_TRUE(epochs);
  ASSERT_EQ(epochs->topics.size(), 1u);
  ASSERT_EQ(epochs->topics[0].partitions.size(), 2u);
  EXPECT_EQ(epochs->topics[0].partitions[0].error_code, 0);
  EXPECT_EQ(epochs->topics[0].partitions[0].leader_epoch, 0);
  EXPECT_EQ(epochs->topics[0].partitions[0].end_offset, 3);
  EXPECT_EQ(epochs->topics[0].partitions[1].error_code, 3);
}

// ListOffsets by timestamp names the first record at or after it, and -3 (v7,
// KIP-734) the record with the largest timestamp, wherever it lies in the log.
TEST_F(AdminApiTest, ListOffsetsByTimestampAndMaxTimestamp) {
  ASSERT_EQ(admin_->create_topic("times", 1).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  // Batches (one timestamp each, CreateTime): offsets 0-1 @1000, 2-3 @5000, 4-5 @3000.
  int32_t correlation = 1;
  for (int64_t ts : {1000, 5000, 3000}) {
    BatchOptions options;
    options.base_timestamp = ts;
    auto frame = RoundTrip(broker_->port(),
                           ProduceV3Request(++correlation, "times", 0,
                                            BuildRecordBatch({{"a", "x", {}}, {"b", "y", {}}}, options)));
    ASSERT_TRUE(frame);
    auto produced = ParseProduceV3Response(*frame);
    ASSERT_EQ(produced.partitions.size(), 1u);
    ASSERT_EQ(produced.partitions[0].error, 0);
  }
  auto list = [&](int64_t timestamp, int16_t version) {
    protocol::ListOffsetsRequest request;
    request.replica_id = -1;
    auto& topic = request.topics.emplace_back();
    topic.name = "times";
    topic.partitions.emplace_back().timestamp = timestamp;
    auto response = SendRequest<protocol::ListOffsetsResponse>(broker_->port(), request, version);
    EXPECT_TRUE(response);
    EXPECT_EQ(response->topics[0].partitions[0].error_code, 0);
    const auto& p = response->topics[0].partitions[0];
    return std::make_pair(p.offset, p.timestamp);
  };
  EXPECT_EQ(list(-3, 7), (std::make_pair<int64_t, int64_t>(2, 5000)));
  EXPECT_EQ(list(2000, 7), (std::make_pair<int64_t, int64_t>(2, 5000)));
  EXPECT_EQ(list(1000, 1), (std::make_pair<int64_t, int64_t>(0, 1000)));
  EXPECT_EQ(list(5001, 7), (std::make_pair<int64_t, int64_t>(-1, -1)));
  EXPECT_EQ(list(-2, 7).first, 0);
  EXPECT_EQ(list(-1, 7).first, 6);

  // An empty partition has no record with a largest timestamp.
  ASSERT_EQ(admin_->create_topic("no-times", 1).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  protocol::ListOffsetsRequest request;
  request.replica_id = -1;
  auto& topic = request.topics.emplace_back();
  topic.name = "no-times";
  topic.partitions.emplace_back().timestamp = -3;
  auto response = SendRequest<protocol::ListOffsetsResponse>(broker_->port(), request, 7);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->topics[0].partitions[0].error_code, 0);
  EXPECT_EQ(response->topics[0].partitions[0].offset, -1);
}

}  // namespace
}  // namespace runnel::it
