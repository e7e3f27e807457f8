// librdkafka's in-memory mock cluster as a process of its own, so that its
// CPU time and memory can be measured like any other broker's.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace runnel::bench {

// Starts a mock cluster of `brokers` brokers with the given topics
// (name, partitions) created through rd_kafka_mock_topic_create (the mock
// does not answer CreateTopics), prints its bootstrap servers on one line to
// stdout, and runs until SIGINT or SIGTERM. Returns the exit code.
int run_mock_cluster(int brokers, const std::vector<std::pair<std::string, int>>& topics);

}  // namespace runnel::bench
