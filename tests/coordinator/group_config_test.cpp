// The group coordinator's broker settings: Kafka's names and defaults, and
// validation that stops startup with the setting's name.
#include <gtest/gtest.h>

#include "common/config.h"

namespace runnel {
namespace {

TEST(GroupConfig, KafkaDefaults) {
  const BrokerConfig c = ConfigLoader().build();
  EXPECT_EQ(c.offsets_topic_num_partitions, 50);
  EXPECT_EQ(c.offsets_retention_ms, 7LL * 24 * 3600 * 1000);
  EXPECT_EQ(c.offsets_retention_check_interval_ms, 600000);
  EXPECT_EQ(c.offset_metadata_max_bytes, 4096);
  EXPECT_EQ(c.group_initial_rebalance_delay_ms, 3000);
  EXPECT_EQ(c.group_min_session_timeout_ms, 6000);
  EXPECT_EQ(c.group_max_session_timeout_ms, 1800000);
  EXPECT_EQ(c.group_max_size, INT32_MAX);
}

TEST(GroupConfig, SettingsAreParsedAndNoLongerIgnored) {
  ConfigLoader loader;
  loader.set_override("offsets.topic.num.partitions=3");
  loader.set_override("offsets.retention.minutes=2");
  loader.set_override("offsets.retention.check.interval.ms=1000");
  loader.set_override("offset.metadata.max.bytes=10");
  loader.set_override("group.initial.rebalance.delay.ms=0");
  loader.set_override("group.min.session.timeout.ms=500");
  loader.set_override("group.max.session.timeout.ms=60000");
  loader.set_override("group.max.size=4");
  EXPECT_TRUE(loader.warnings().empty());
  const BrokerConfig c = loader.build();
  EXPECT_EQ(c.offsets_topic_num_partitions, 3);
  EXPECT_EQ(c.offsets_retention_ms, 120000);
  EXPECT_EQ(c.offsets_retention_check_interval_ms, 1000);
  EXPECT_EQ(c.offset_metadata_max_bytes, 10);
  EXPECT_EQ(c.group_initial_rebalance_delay_ms, 0);
  EXPECT_EQ(c.group_min_session_timeout_ms, 500);
  EXPECT_EQ(c.group_max_session_timeout_ms, 60000);
  EXPECT_EQ(c.group_max_size, 4);
}

TEST(GroupConfig, InvalidValuesNameTheSetting) {
  for (const char* bad : {"offsets.topic.num.partitions=0", "group.max.size=0", "offsets.retention.minutes=-1",
                          "group.min.session.timeout.ms=x"}) {
    ConfigLoader loader;
    loader.set_override(bad);
    const std::string key = std::string(bad).substr(0, std::string(bad).find('='));
    try {
      loader.build();
      ADD_FAILURE() << bad << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
  ConfigLoader inverted;
  inverted.set_override("group.min.session.timeout.ms=70000");
  inverted.set_override("group.max.session.timeout.ms=60000");
  EXPECT_THROW(inverted.build(), ConfigError);
}

}  // namespace
}  // namespace runnel
