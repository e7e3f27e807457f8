#pragma once
// Kafka's internal topics: written only by their coordinators, refused to
// producers, and flagged is_internal in Metadata.
#include <string_view>

namespace runnel {

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";
inline constexpr const char* kTransactionStateTopic = "__transaction_state";

inline bool is_internal_topic(std::string_view name) {
  return name == kOffsetsTopic || name == kTransactionStateTopic;
}

}  // namespace runnel
