#pragma once
// Which __consumer_offsets partition holds a group: Kafka's
// Utils.abs(groupId.hashCode()) % partitions, with Java's String.hashCode over
// UTF-16 code units, so a data directory moved between Kafka and Runnel keeps
// every group in the partition it was written to.
#include <cstdint>
#include <string_view>

namespace runnel::coordinator {

// Java's String.hashCode of the string Java would decode from these UTF-8 bytes
// (malformed bytes become U+FFFD, as new String(bytes, UTF_8) does).
int32_t java_string_hash(std::string_view utf8);

// Precondition: partitions > 0.
int32_t partition_for_group(std::string_view group_id, int32_t partitions);

}  // namespace runnel::coordinator
