// Checks on what consumer groups delivered, for the consumer-group tests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "group_consumer.h"

namespace runnel::it {

// Broker settings for group tests: short session timeouts allowed, no initial
// rebalance delay, and `partitions` partitions for auto-created topics.
std::vector<std::string> GroupBrokerSettings(int partitions, std::vector<std::string> extra = {});

// Each partition's records were delivered exactly once each, in offset order,
// covering [from[p], to[p]) with values "p<partition>-<offset>" (ProduceNumbered).
// Returns "" or a description of the first problems.
std::string CheckExactlyOnceInOrder(const std::vector<Consumption>& consumed, const std::map<std::int32_t, std::int64_t>& from,
                                    const std::map<std::int32_t, std::int64_t>& to);

// Per partition: the next offset after the last one consumed (-1 if none).
std::map<std::int32_t, std::int64_t> NextOffsets(const std::vector<Consumption>& consumed, int partitions);

// Same value for every partition in [0, partitions).
std::map<std::int32_t, std::int64_t> Uniform(int partitions, std::int64_t value);

std::string Describe(const std::map<std::int32_t, std::int64_t>& offsets);

}  // namespace runnel::it
