#pragma once
// One TCP connection of a BrokerClient: connects (bounded, optionally from a
// given source address), then writes queued request frames in order and
// matches each response to the oldest request awaiting one. Any fault (I/O
// error, a response too large, an unexpected correlation id, a timeout
// reported by a caller, close()) ends the link for good and fails everything
// queued or in flight with it; the client makes a new link for the next call.
//
// All on one executor, no locks. The read and write loops hold the link
// (shared_from_this), never the client, so an idle link cannot keep its
// client alive; the client fails its link when it is closed or destroyed.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "replication/client_result.h"

namespace runnel::replication {

// One request from submission to its outcome. The caller waits on `wake`
// (until its deadline); finish() sets the outcome and wakes it.
struct PendingRequest {
  PendingRequest(const asio::any_io_executor& executor, int16_t api_key, int16_t api_version,
                 int32_t correlation_id, bool expect_response)
      : api_key(api_key),
        api_version(api_version),
        correlation_id(correlation_id),
        expect_response(expect_response),
        wake(executor) {}

  // The first outcome wins; later ones (a failure racing a response) are ignored.
  void finish(RawResult result) {
    if (outcome) return;
    outcome.emplace(std::move(result));
    wake.cancel();
  }

  const int16_t api_key;
  const int16_t api_version;
  const int32_t correlation_id;
  const bool expect_response;
  std::optional<RawResult> outcome;
  asio::steady_timer wake;
};

class BrokerLink : public std::enable_shared_from_this<BrokerLink> {
 public:
  BrokerLink(const asio::any_io_executor& executor, std::string peer, size_t max_response_bytes);
  ~BrokerLink();
  BrokerLink(const BrokerLink&) = delete;
  BrokerLink& operator=(const BrokerLink&) = delete;

  // Resolves `host`, binds to `source_address` (when not empty), connects with
  // TCP_NODELAY, all within `timeout`. On failure the link is failed too.
  asio::awaitable<Result<void>> connect(std::string host, uint16_t port, std::string source_address,
                                        std::chrono::milliseconds timeout);

  // After a successful connect(): starts the read and write loops.
  void start();

  // Queues one whole request frame (size prefix included). The request is
  // finished with its response, or right after it is written when it expects
  // none, or with the link's failure. On a failed link it fails at once.
  void submit(const std::shared_ptr<PendingRequest>& request, std::vector<uint8_t> frame);

  // Ends the link: closes the socket and finishes every queued and in-flight
  // request with `failure`. Idempotent (the first failure is kept).
  void fail(ClientFailure failure);

  bool failed() const { return failure_.has_value(); }
  const std::optional<ClientFailure>& failure() const { return failure_; }
  // Requests written (or queued) and not yet answered.
  size_t in_flight() const { return awaiting_response_.size(); }
  const std::string& peer() const { return peer_; }

 private:
  struct Outgoing {
    std::shared_ptr<PendingRequest> request;
    std::vector<uint8_t> frame;
  };

  asio::awaitable<Result<void>> connect_to(const asio::ip::tcp::endpoint& remote,
                                           const std::optional<asio::ip::address>& source);
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  // Reads one response frame; fails the link and returns nullptr on any fault.
  asio::awaitable<std::shared_ptr<std::vector<uint8_t>>> read_frame();
  void on_response(std::shared_ptr<std::vector<uint8_t>> frame);

  asio::any_io_executor executor_;
  std::string peer_;  // "host:port", for messages
  size_t max_response_bytes_;
  asio::ip::tcp::socket socket_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer connect_deadline_;
  asio::steady_timer writer_wake_;  // cancelled when frames are queued or the link fails
  std::deque<Outgoing> write_queue_;
  std::deque<std::shared_ptr<PendingRequest>> awaiting_response_;  // in request order
  std::optional<ClientFailure> failure_;
};

}  // namespace runnel::replication
