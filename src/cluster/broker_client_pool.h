#pragma once
// Connections from this broker to the others, one per broker, on their
// inter-broker listener as registered in the metadata image; re-made when a
// broker's address changes. For requests a broker answers on behalf of another
// (e.g. ListOffsets of partitions led elsewhere).
#include <map>
#include <memory>
#include <string>

#include <asio/any_io_executor.hpp>

#include "cluster/metadata_image.h"
#include "replication/broker_client.h"
#include "replication/replica_manager.h"

namespace runnel::cluster {

class BrokerClientPool {
 public:
  BrokerClientPool(asio::any_io_executor executor, int32_t node_id, std::string listener, std::string source_address,
                   int32_t request_timeout_ms);
  ~BrokerClientPool();

  // nullptr when the broker is not registered (or has no usable endpoint).
  std::shared_ptr<replication::BrokerClient> get(const MetadataImage& image, int32_t broker_id);
  void close_all();

 private:
  struct Entry {
    replication::BrokerAddress address;
    std::shared_ptr<replication::BrokerClient> client;
  };
  asio::any_io_executor executor_;
  int32_t node_id_;
  std::string listener_;
  std::string source_address_;
  int32_t request_timeout_ms_;
  std::map<int32_t, Entry> clients_;
};

}  // namespace runnel::cluster
