#include "common/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace runnel {
namespace {

std::string write_temp_file(const std::string& contents) {
  char path[] = "/tmp/runnel-config-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << contents;
  return path;
}

TEST(Config, DefaultsAreKafkaDefaults) {
  const BrokerConfig config = ConfigLoader().build();
  EXPECT_EQ(config.num_partitions, 1);
  EXPECT_EQ(config.message_max_bytes, 1048588);
  EXPECT_EQ(config.log_segment_bytes, 1LL << 30);
  EXPECT_TRUE(config.auto_create_topics_enable);
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].port, 9092);
}

TEST(Config, ReadsServerPropertiesAndOverrides) {
  const auto path = write_temp_file(
      "# a comment\n"
      "broker.id=3\n"
      "listeners=PLAINTEXT://127.0.0.1:19092\n"
      "log.dirs=/tmp/a, /tmp/b\n"
      "num.partitions = 6\n"
      "zookeeper.connect=localhost:2181\n"
      "log.segment.bytes=\\\n  1048576\n");
  ConfigLoader loader;
  loader.load_file(path);
  loader.set_override("num.partitions=8");
  const BrokerConfig config = loader.build();
  EXPECT_EQ(config.node_id, 3);
  EXPECT_EQ(config.listeners[0].host, "127.0.0.1");
  EXPECT_EQ(config.listeners[0].port, 19092);
  EXPECT_EQ(config.log_dirs, (std::vector<std::string>{"/tmp/a", "/tmp/b"}));
  EXPECT_EQ(config.num_partitions, 8);
  EXPECT_EQ(config.log_segment_bytes, 1048576);
  ASSERT_EQ(loader.warnings().size(), 1u);
  EXPECT_NE(loader.warnings()[0].find("zookeeper.connect"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Config, InvalidValueNamesTheSetting) {
  ConfigLoader loader;
  loader.set_override("num.partitions=zero");
  try {
    loader.build();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("num.partitions"), std::string::npos);
  }
}

TEST(Config, RejectsUnknownSettingsAndBadSyntax) {
  ConfigLoader loader;
  EXPECT_THROW(loader.set_override("no.such.setting=1"), ConfigError);
  EXPECT_THROW(loader.set_override("novalue"), ConfigError);
  EXPECT_THROW(ConfigLoader().load_file("/nonexistent/server.properties"), ConfigError);
}

TEST(Config, RejectsBadListenersAndRanges) {
  for (const char* bad : {"listeners=127.0.0.1:9092", "listeners=PLAINTEXT://host:99999", "listeners=SSL://h:1",
                          "log.segment.bytes=1", "auto.create.topics.enable=yes", "message.max.bytes=-5",
                          "log.message.timestamp.type=Now"}) {
    ConfigLoader loader;
    loader.set_override(bad);
    EXPECT_THROW(loader.build(), ConfigError) << bad;
  }
}

TEST(Config, AClusterBrokerMustAdvertiseAReachableHost) {
  for (const char* listeners : {"listeners=PLAINTEXT://0.0.0.0:9092", "listeners=PLAINTEXT://:9092"}) {
    ConfigLoader cluster;
    cluster.set_override(listeners);
    cluster.set_override("metadata.store=etcd://127.0.0.1:2379");
    EXPECT_THROW(cluster.build(), ConfigError) << listeners;
    cluster.set_override("advertised.listeners=PLAINTEXT://broker1.example.net:9092");
    EXPECT_NO_THROW(cluster.build()) << listeners;
    ConfigLoader single;  // a single node keeps accepting it, as before
    single.set_override(listeners);
    EXPECT_NO_THROW(single.build()) << listeners;
  }
}

TEST(Config, HttpListenersDefaultParseAndTurnOff) {
  const BrokerConfig defaults = ConfigLoader().build();
  ASSERT_EQ(defaults.http_listeners.size(), 1u);
  EXPECT_EQ(defaults.http_listeners[0].to_string(), "http://127.0.0.1:9644");
  ConfigLoader two;
  two.set_override("http.listeners=http://127.0.0.1:9101, http://[::1]:9102");
  const auto config = two.build();
  ASSERT_EQ(config.http_listeners.size(), 2u);
  EXPECT_EQ(config.http_listeners[1].host, "::1");
  EXPECT_EQ(config.http_listeners[1].port, 9102);
  ConfigLoader off;
  off.set_override("http.listeners=");
  EXPECT_TRUE(off.build().http_listeners.empty());
  for (const char* bad : {"http.listeners=127.0.0.1:9644", "http.listeners=https://127.0.0.1:9644",
                          "http.listeners=http://127.0.0.1:70000", "http.listeners=http://127.0.0.1"}) {
    ConfigLoader loader;
    loader.set_override(bad);
    try {
      loader.build();
      ADD_FAILURE() << bad << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("http.listeners"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace runnel
