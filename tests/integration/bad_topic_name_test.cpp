// Acceptance 5 (topic names): invalid names in Metadata (with auto-create)
// and Produce get INVALID_TOPIC_EXCEPTION and never create anything on disk,
// in particular nothing outside log.dirs.
#include <gtest/gtest.h>

#include <set>

#include "file_util.h"
#include "kafka_requests.h"
#include "record_batch_builder.h"
#include "sentinel_broker.h"

namespace runnel::it {
namespace {

class BadTopicName : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new SentinelBroker({"num.partitions=1"});
    env_->start_and_seed();
  }
  static void TearDownTestSuite() {
    env_->finish();
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(env_->ensure_running()); }
  void TearDown() override {
    env_->expect_healthy(::testing::UnitTest::GetInstance()->current_test_info()->name());
    // Nothing escaped log.dirs; inside it only valid partition dirs (and files).
    const std::set<std::string> allowed_in_root = {"logs", "broker.stderr"};
    for (const auto& name : ListDirectory(env_->broker().dir())) {
      EXPECT_TRUE(allowed_in_root.count(name)) << "unexpected entry next to log.dirs: " << name;
    }
    for (const auto& name : ListDirectory(env_->broker().log_dir())) {
      EXPECT_EQ(name.find("bad"), std::string::npos) << "an invalid topic created " << name;
      EXPECT_NE(name.rfind("..", 0), 0u) << "an invalid topic created " << name;
      EXPECT_NE(name, "-0") << "the empty topic name created a partition dir";
    }
  }

  MetadataV4Response Metadata(const std::vector<std::string>& topics) {
    static std::int32_t corr = 500;
    std::string why;
    auto frame = RoundTrip(env_->broker().port(), MetadataV4Request(++corr, topics, true),
                           std::chrono::seconds(15), &why);
    MetadataV4Response r;
    if (!frame) {
      ADD_FAILURE() << "no Metadata response: " << why;
      return r;
    }
    r = ParseMetadataV4Response(*frame);
    EXPECT_TRUE(r.parsed) << HexPrefix(*frame, 200);
    EXPECT_EQ(r.correlation_id, corr);
    return r;
  }

  void ExpectMetadataInvalidTopic(const std::string& name) {
    SCOPED_TRACE("topic name '" + name + "' (" + std::to_string(name.size()) + " chars)");
    auto r = Metadata({name});
    const auto* t = r.find(name);
    ASSERT_NE(t, nullptr) << "the topic is missing from the Metadata response";
    EXPECT_EQ(t->error, kafka_error::kInvalidTopic);
    EXPECT_TRUE(t->partition_errors.empty());
  }

  static SentinelBroker* env_;
};

SentinelBroker* BadTopicName::env_ = nullptr;

TEST_F(BadTopicName, MetadataForNameWithSlashReturnsInvalidTopic) { ExpectMetadataInvalidTopic("bad/name"); }

TEST_F(BadTopicName, MetadataForEmptyNameReturnsInvalidTopic) { ExpectMetadataInvalidTopic(""); }

TEST_F(BadTopicName, MetadataForDotAndDotDotReturnsInvalidTopic) {
  ExpectMetadataInvalidTopic(".");
  ExpectMetadataInvalidTopic("..");
}

TEST_F(BadTopicName, MetadataForPathTraversalNameReturnsInvalidTopic) {
  ExpectMetadataInvalidTopic("../bad-escape");
  ExpectMetadataInvalidTopic("bad\\name");
}

TEST_F(BadTopicName, MetadataForIllegalCharactersReturnsInvalidTopic) {
  for (const std::string& name : std::vector<std::string>{"bad name", "bad*name", "bad:name", "bad\xc3\xa9name",
                                                          std::string("bad\0n", 5)}) {
    ExpectMetadataInvalidTopic(name);
  }
}

TEST_F(BadTopicName, MetadataForNameOver249CharactersReturnsInvalidTopic) {
  ExpectMetadataInvalidTopic("bad" + std::string(247, 'x'));  // 250 chars
}

TEST_F(BadTopicName, NameOf249LegalCharactersIsAccepted) {
  const std::string name = "ok." + std::string(244, 'y') + "_-";  // 249 chars, all legal
  ASSERT_EQ(name.size(), 249u);
  auto r = Metadata({name});
  const auto* t = r.find(name);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->error == kafka_error::kNone || t->error == kafka_error::kLeaderNotAvailable) << t->error;
}

TEST_F(BadTopicName, InvalidNameNextToValidNameOnlyFailsTheInvalidOne) {
  auto r = Metadata({"bad/mixed", SentinelBroker::kSentinelTopic});
  const auto* bad = r.find("bad/mixed");
  const auto* good = r.find(SentinelBroker::kSentinelTopic);
  ASSERT_NE(bad, nullptr);
  ASSERT_NE(good, nullptr);
  EXPECT_EQ(bad->error, kafka_error::kInvalidTopic);
  EXPECT_EQ(good->error, kafka_error::kNone);
}

TEST_F(BadTopicName, ProduceToInvalidTopicNamesReturnsInvalidTopic) {
  for (const std::string& name : std::vector<std::string>{"bad/name", "", "..", "../bad-escape", "bad name"}) {
    SCOPED_TRACE("topic name '" + name + "'");
    Bytes batch = BuildRecordBatch({TestRecord{"k", "v", {}}});
    std::string why;
    auto frame = RoundTrip(env_->broker().port(), ProduceV3Request(600, name, 0, batch), std::chrono::seconds(15),
                           &why);
    ASSERT_TRUE(frame.has_value()) << "no Produce response: " << why;
    auto r = ParseProduceV3Response(*frame);
    ASSERT_TRUE(r.parsed) << HexPrefix(*frame, 200);
    ASSERT_EQ(r.partitions.size(), 1u);
    EXPECT_EQ(r.partitions[0].topic, name);
    EXPECT_EQ(r.partitions[0].error, kafka_error::kInvalidTopic);
  }
}

}  // namespace
}  // namespace runnel::it
