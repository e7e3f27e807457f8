#pragma once
// The way to the controller from this broker: admin requests a client sent here
// are forwarded verbatim (no client needs to find the controller), and leaders'
// ISR proposals go as AlterPartition. When this broker is the controller, the
// call goes straight to it. Waits (bounded) while no controller is elected.
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "cluster/controller.h"
#include "cluster/membership.h"
#include "cluster/metadata_view.h"
#include "replication/broker_client.h"
#include "replication/replica_manager.h"

namespace runnel::cluster {

struct ControllerChannelConfig {
  int32_t node_id = 0;
  std::string inter_broker_listener;
  std::string source_address;
  int32_t request_timeout_ms = 30000;
};

class ControllerChannel final : public replication::IsrChangeChannel {
 public:
  ControllerChannel(asio::any_io_executor executor, ControllerChannelConfig config, MetadataView& view,
                    Controller& controller, Membership& membership);
  ~ControllerChannel() override;

  struct Forwarded {
    ErrorCode error = ErrorCode::kNone;  // kNotController: no controller could be reached in time
    std::vector<uint8_t> body;           // the controller's response body
  };
  // Sends the request to the controller (another broker) and returns its answer.
  asio::awaitable<Forwarded> forward(int16_t api_key, int16_t api_version, std::span<const uint8_t> body,
                                     std::chrono::steady_clock::time_point deadline);

  asio::awaitable<std::vector<Outcome>> send(std::vector<Proposal> proposals) override;

  void close();

 private:
  // The client for the current controller, or nullptr when none is known (or it is us).
  std::shared_ptr<replication::BrokerClient> client_for(int32_t controller_id);

  asio::any_io_executor executor_;
  ControllerChannelConfig config_;
  MetadataView& view_;
  Controller& controller_;
  Membership& membership_;
  int32_t client_broker_ = -1;
  replication::BrokerAddress client_address_;
  std::shared_ptr<replication::BrokerClient> client_;
};

}  // namespace runnel::cluster
