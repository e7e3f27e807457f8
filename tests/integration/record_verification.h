// Checks shared by the librdkafka-based tests: delivery reports against what
// a partition actually holds.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "rdkafka_consumer.h"
#include "rdkafka_producer.h"
#include "test_record.h"

namespace runnel::it {

// (partition, offset) -> id, for the successful deliveries. Reports a gtest
// failure for two acknowledged records sharing one offset.
std::map<std::pair<std::int32_t, std::int64_t>, std::uint64_t> AckedOffsets(const std::vector<Delivery>& deliveries);

// Checks that `contents` (read from offset 0) has contiguous offsets from 0,
// no consumer errors, and that every acknowledged (partition, offset) holds
// exactly the record `expected(id)`. Returns the number of problems found
// (each also reported as a gtest failure, at most a few per partition).
int VerifyPartitionAgainstAcks(std::int32_t partition, const PartitionContents& contents,
                               const std::map<std::pair<std::int32_t, std::int64_t>, std::uint64_t>& acked,
                               const std::function<TestRecord(std::uint64_t)>& expected);

}  // namespace runnel::it
