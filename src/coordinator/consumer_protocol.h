#pragma once
// Just enough of the client-side "consumer" embedded protocol for the broker:
// the topics a member subscribes to, read from its JoinGroup metadata
// (ConsumerProtocolSubscription: int16 version, [string topics], ...). Kafka uses
// them to refuse OffsetDelete on consumed topics and to expire offsets of
// topics a stable group no longer consumes.
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>

namespace runnel::coordinator {

inline constexpr const char* kConsumerProtocolType = "consumer";

// nullopt when the metadata does not parse as a consumer subscription.
std::optional<std::set<std::string>> parse_subscription_topics(std::span<const uint8_t> metadata);

}  // namespace runnel::coordinator
