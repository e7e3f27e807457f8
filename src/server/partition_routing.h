#pragma once
// Which replica serves a partition's request here, and what a client is told when
// it asked the wrong broker: NOT_LEADER_OR_FOLLOWER with the current leader and
// its address (KIP-951) where the message version carries them, so clients move
// without a metadata round trip.
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "common/error_code.h"
#include "protocol/messages/produce.h"
#include "server/broker_context.h"

namespace runnel::server {

// The error for a partition this broker holds no replica of: NOT_LEADER_OR_FOLLOWER
// when the partition exists (another broker serves it), UNKNOWN_TOPIC_OR_PARTITION otherwise.
ErrorCode absent_replica_error(BrokerContext& broker, const std::string& topic, int32_t partition);

// The address clients use to reach a broker, on the listener they came in on.
struct NodeAddress {
  int32_t node_id = -1;
  std::string host;
  int32_t port = -1;
  std::optional<std::string> rack;
};
std::optional<NodeAddress> client_address(const cluster::MetadataImage& image, int32_t broker_id,
                                          const std::string& listener);

class LeaderHints {
 public:
  // Remembers the partition's current leader and epoch from this broker's image.
  void add(BrokerContext& broker, const std::string& listener, const std::string& topic, int32_t partition);
  // Produce v10+: current_leader per partition and node_endpoints.
  void fill(protocol::ProduceResponse& response, int16_t version) const;

  struct Leader {
    int32_t id = -1;
    int32_t epoch = -1;
  };
  const Leader* find(const std::string& topic, int32_t partition) const;

 private:
  std::map<std::pair<std::string, int32_t>, Leader> leaders_;
  std::map<int32_t, NodeAddress> nodes_;
};

}  // namespace runnel::server
