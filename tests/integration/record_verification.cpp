#include "record_verification.h"

#include <gtest/gtest.h>

namespace runnel::it {

std::map<std::pair<std::int32_t, std::int64_t>, std::uint64_t> AckedOffsets(const std::vector<Delivery>& deliveries) {
  std::map<std::pair<std::int32_t, std::int64_t>, std::uint64_t> acked;
  int reused = 0;
  for (const auto& d : deliveries) {
    if (d.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    auto [it, inserted] = acked.emplace(std::make_pair(d.partition, d.offset), d.id);
    if (!inserted && ++reused <= 5) {
      ADD_FAILURE() << "offset reused: partition " << d.partition << " offset " << d.offset
                    << " acknowledged for both record " << it->second << " and record " << d.id;
    }
  }
  return acked;
}

int VerifyPartitionAgainstAcks(std::int32_t partition, const PartitionContents& contents,
                               const std::map<std::pair<std::int32_t, std::int64_t>, std::uint64_t>& acked,
                               const std::function<TestRecord(std::uint64_t)>& expected) {
  int problems = 0;
  auto report = [&](const std::string& what) {
    if (++problems <= 8) ADD_FAILURE() << "partition " << partition << ": " << what;
  };
  for (const auto& e : contents.errors) report("consumer error: " + e);
  std::map<std::int64_t, const ConsumedRecord*> by_offset;
  std::int64_t next = 0;
  for (const auto& c : contents.records) {
    if (c.offset != next) report("offset gap/disorder: expected " + std::to_string(next) + ", got " +
                                 std::to_string(c.offset));
    next = c.offset + 1;
    by_offset[c.offset] = &c;
  }
  for (auto it = acked.lower_bound({partition, INT64_MIN}); it != acked.end() && it->first.first == partition;
       ++it) {
    const std::int64_t offset = it->first.second;
    const std::uint64_t id = it->second;
    auto found = by_offset.find(offset);
    if (found == by_offset.end()) {
      report("acknowledged record " + std::to_string(id) + " at offset " + std::to_string(offset) + " is missing");
      continue;
    }
    const TestRecord want = expected(id);
    if (!(found->second->record == want)) {
      report("offset " + std::to_string(offset) + " holds " + Describe(found->second->record) +
             "\n  but record " + std::to_string(id) + " was acknowledged there: " + Describe(want));
    }
  }
  return problems;
}

}  // namespace runnel::it
