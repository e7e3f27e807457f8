#include "coordinator/consumer_protocol.h"

#include "protocol/wire.h"

namespace runnel::coordinator {

std::optional<std::set<std::string>> parse_subscription_topics(std::span<const uint8_t> metadata) {
  try {
    protocol::Reader r(metadata);
    const int16_t version = r.read_int16();
    if (version < 0) return std::nullopt;
    const int32_t count = r.read_array_length(false, 2);
    std::set<std::string> topics;
    for (int32_t i = 0; i < count; ++i) topics.insert(r.read_string());
    return topics;
  } catch (const protocol::DecodeError&) {
    return std::nullopt;
  }
}

}  // namespace runnel::coordinator
