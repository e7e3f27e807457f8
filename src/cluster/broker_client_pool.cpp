#include "cluster/broker_client_pool.h"

namespace runnel::cluster {

BrokerClientPool::BrokerClientPool(asio::any_io_executor executor, int32_t node_id, std::string listener,
                                   std::string source_address, int32_t request_timeout_ms)
    : executor_(std::move(executor)),
      node_id_(node_id),
      listener_(std::move(listener)),
      source_address_(std::move(source_address)),
      request_timeout_ms_(request_timeout_ms) {}

BrokerClientPool::~BrokerClientPool() { close_all(); }

void BrokerClientPool::close_all() {
  for (auto& [id, entry] : clients_) entry.client->close();
  clients_.clear();
}

std::shared_ptr<replication::BrokerClient> BrokerClientPool::get(const MetadataImage& image, int32_t broker_id) {
  const BrokerRegistration* broker = image.broker(broker_id);
  if (!broker) return nullptr;
  const BrokerEndpoint* e = broker->endpoint(listener_);
  if (!e && !broker->endpoints.empty()) e = &broker->endpoints.front();
  if (!e) return nullptr;
  const replication::BrokerAddress address{e->host, e->port};
  auto& entry = clients_[broker_id];
  if (entry.client && entry.address == address) return entry.client;
  if (entry.client) entry.client->close();
  replication::BrokerClient::Options options;
  options.host = e->host;
  options.port = static_cast<uint16_t>(e->port);
  options.source_address = source_address_;
  options.client_id = "broker-" + std::to_string(node_id_);
  options.connect_timeout_ms = std::min(request_timeout_ms_, 5000);
  options.request_timeout_ms = request_timeout_ms_;
  entry = {address, replication::BrokerClient::create(executor_, options)};
  return entry.client;
}

}  // namespace runnel::cluster
