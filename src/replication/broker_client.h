#pragma once
// BrokerClient: the inter-broker Kafka client (replica fetches, forwarding
// admin requests to the controller, ISR changes), on protocol/, one peer per
// client.
//
//   auto client = BrokerClient::create(executor, {.host = "10.0.0.2", .port = 9092, .client_id = "broker-1"});
//   auto fetch = co_await client->send(fetch_request, 12);   // typed
//   if (!fetch) { log(fetch.error().describe()); ... }
//   auto raw = co_await client->send_raw(api_key, api_version, body);  // verbatim forwarding
//
// Connects lazily on first use and again after any failure; each connection
// starts with an ApiVersions exchange so that pick_version() can choose a
// version both sides support. Requests may be pipelined: they go out in call
// order and their responses are matched in that order by correlation id. A
// request unanswered within request_timeout_ms fails with kTimedOut and closes
// the connection, failing everything else in flight with kDisconnected (as
// Kafka's NetworkClient does). There is no reconnect backoff: callers that
// retry (replica fetchers) pace themselves.
//
// Everything runs on the one executor given to create() (the broker's event
// loop); no method may be called from another thread. Shared-owned: every
// call holds the client while it runs, so close() or dropping the last
// reference never leaves a coroutine with a dangling client.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <fmt/format.h>

#include "protocol/framing.h"
#include "protocol/messages/produce.h"
#include "replication/broker_link.h"
#include "replication/client_result.h"

namespace runnel::replication {

// A decoded response with the bytes it was decoded from: views in `message`
// (the RecordsView of Fetch partitions) point into `buffer`, so keep (or copy)
// the Decoded, not just the message, while using them.
template <typename Message>
struct Decoded {
  Message message;
  std::shared_ptr<const std::vector<uint8_t>> buffer;  // null when no response was expected (Produce acks=0)
  int16_t version = 0;                                 // the version it was sent and decoded in
};

class BrokerClient : public std::enable_shared_from_this<BrokerClient> {
 public:
  struct Options {
    std::string host;
    uint16_t port = 0;
    // Bind the local end to this IP before connecting; "" = the kernel's choice.
    std::string source_address;
    std::string client_id = "runnel-broker";
    int32_t connect_timeout_ms = 10000;  // Kafka's socket.connection.setup.timeout.ms
    int32_t request_timeout_ms = 30000;  // Kafka's request.timeout.ms
    // A response announcing more bytes than this is a protocol error.
    size_t max_response_bytes = 100u << 20;
  };

  static std::shared_ptr<BrokerClient> create(asio::any_io_executor executor, Options options);
  ~BrokerClient();
  BrokerClient(const BrokerClient&) = delete;
  BrokerClient& operator=(const BrokerClient&) = delete;

  // Connects and negotiates versions if not connected yet. Other calls do this
  // themselves; call it to learn the peer's versions before building a request.
  asio::awaitable<Result<void>> connect();

  // Sends `body` (an encoded request body of this key and version) framed with
  // its own header and correlation id, and returns the response body bytes
  // (RawResponse::body(), after the response header). `body` must stay valid
  // until the call has started (co_await the result directly). With
  // expect_response false (only Produce acks=0) it completes once written.
  asio::awaitable<RawResult> send_raw(int16_t api_key, int16_t api_version, std::span<const uint8_t> body,
                                      bool expect_response = true);

  // Encodes `request` in `version`, sends it and decodes the response. A
  // Produce with acks=0 completes once written, with an empty response. The
  // request is encoded as soon as the call starts, so record views it holds
  // need only outlive that (co_await the result directly).
  template <typename Request>
  asio::awaitable<Result<Decoded<typename Request::Response>>> send(Request request, int16_t version);

  // As above, in the highest version both this build and the peer support.
  template <typename Request>
  asio::awaitable<Result<Decoded<typename Request::Response>>> send(Request request);

  // The peer's highest version of `api_key`, as its ApiVersions said on the
  // current connection; nullopt when not connected or not supported.
  std::optional<int16_t> peer_max_version(int16_t api_key) const;
  // The highest version in [our_min, our_max] the peer supports; nullopt when
  // none (or not connected).
  std::optional<int16_t> pick_version(int16_t api_key, int16_t our_min, int16_t our_max) const;
  template <typename Request>
  std::optional<int16_t> pick_version() const {
    return pick_version(Request::kApiKey, Request::kMinVersion, Request::kMaxVersion);
  }

  // Fails everything in flight (and a connect in progress) with kClosed now;
  // the next call connects again.
  void close();

  // Connected and versions negotiated.
  bool connected() const;
  const Options& options() const { return options_; }
  const asio::any_io_executor& executor() const { return executor_; }

 private:
  struct PeerRange {
    int16_t api_key;
    int16_t min_version;
    int16_t max_version;
  };
  struct ConnectAttempt;

  BrokerClient(asio::any_io_executor executor, Options options);

  int32_t next_correlation_id();
  asio::awaitable<Result<void>> establish();
  asio::awaitable<Result<void>> negotiate(std::shared_ptr<BrokerLink> link);
  // Connects if needed, checks the peer supports the version, sends, awaits.
  asio::awaitable<RawResult> exchange(int16_t api_key, int16_t api_version, int32_t correlation_id,
                                      std::vector<uint8_t> frame, bool expect_response);
  // Sends on `link` and waits for the outcome or the request timeout.
  asio::awaitable<RawResult> exchange_on(std::shared_ptr<BrokerLink> link, int16_t api_key, int16_t api_version,
                                         int32_t correlation_id, std::vector<uint8_t> frame, bool expect_response);

  template <typename Response>
  static Result<Decoded<Response>> decode(const RawResponse& raw, int16_t version);

  asio::any_io_executor executor_;
  Options options_;
  std::string peer_;  // "host:port"
  int32_t next_correlation_id_ = 1;
  std::shared_ptr<BrokerLink> link_;  // the current connection, if any
  bool negotiated_ = false;           // link_ finished its ApiVersions exchange
  std::vector<PeerRange> peer_ranges_;
  std::shared_ptr<ConnectAttempt> attempt_;  // a connect in progress, shared by its waiters
};

template <typename Response>
Result<Decoded<Response>> BrokerClient::decode(const RawResponse& raw, int16_t version) {
  Decoded<Response> decoded;
  decoded.version = version;
  if (!raw.frame) return decoded;  // nothing was expected
  try {
    protocol::Reader reader(raw.body());
    decoded.message.decode(reader, version);
  } catch (const protocol::DecodeError& e) {
    // The framing was intact, so the connection and other requests are fine.
    return ClientFailure{ClientError::kProtocolError,
                         fmt::format("malformed {} v{}: {}", Response::kName, version, e.what())};
  }
  decoded.buffer = raw.frame;
  return decoded;
}

template <typename Request>
asio::awaitable<Result<Decoded<typename Request::Response>>> BrokerClient::send(Request request, int16_t version) {
  auto self = shared_from_this();
  const int32_t correlation_id = next_correlation_id();
  std::vector<uint8_t> frame;
  try {
    protocol::encode_request_frame(frame, correlation_id, options_.client_id, version, request);
  } catch (const protocol::EncodeError& e) {
    co_return ClientFailure{ClientError::kInvalidRequest, fmt::format("{} v{}: {}", Request::kName, version, e.what())};
  }
  bool expect_response = true;
  if constexpr (std::is_same_v<Request, protocol::ProduceRequest>) expect_response = request.acks != 0;
  RawResult raw = co_await exchange(Request::kApiKey, version, correlation_id, std::move(frame), expect_response);
  if (!raw) co_return raw.error();
  co_return decode<typename Request::Response>(*raw, version);
}

template <typename Request>
asio::awaitable<Result<Decoded<typename Request::Response>>> BrokerClient::send(Request request) {
  auto self = shared_from_this();
  Result<void> ready = co_await connect();
  if (!ready) co_return ready.error();
  const std::optional<int16_t> version = pick_version<Request>();
  if (!version) {
    co_return ClientFailure{ClientError::kUnsupportedVersion,
                            fmt::format("{} supports no {} version in [{}, {}]", peer_, Request::kName,
                                        Request::kMinVersion, Request::kMaxVersion)};
  }
  co_return co_await send(std::move(request), *version);
}

}  // namespace runnel::replication
