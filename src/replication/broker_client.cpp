#include "replication/broker_client.h"

#include <algorithm>
#include <limits>

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "protocol/messages/api_versions.h"

namespace runnel::replication {
namespace {

constexpr int16_t kApiVersionsKey = protocol::ApiVersionsRequest::kApiKey;
constexpr int16_t kUnsupportedVersionError = 35;

}  // namespace

// A connect (TCP + ApiVersions) in progress. Calls arriving meanwhile wait for
// its outcome instead of opening connections of their own.
struct BrokerClient::ConnectAttempt {
  explicit ConnectAttempt(const asio::any_io_executor& executor) : done(executor) {
    done.expires_at(std::chrono::steady_clock::time_point::max());  // set once: re-arming would cancel waiters
  }

  void finish(Result<void> result) {
    outcome.emplace(std::move(result));
    done.cancel();  // wakes every waiter
  }
  asio::awaitable<Result<void>> wait() {
    while (!outcome) {
      asio::error_code ignored;
      co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    co_return *outcome;
  }

  std::optional<Result<void>> outcome;
  asio::steady_timer done;
};

std::shared_ptr<BrokerClient> BrokerClient::create(asio::any_io_executor executor, Options options) {
  return std::shared_ptr<BrokerClient>(new BrokerClient(std::move(executor), std::move(options)));
}

BrokerClient::BrokerClient(asio::any_io_executor executor, Options options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      peer_(fmt::format("{}:{}", options_.host, options_.port)) {}

BrokerClient::~BrokerClient() {
  if (link_) link_->fail({ClientError::kClosed, fmt::format("client for {} destroyed", peer_)});
}

void BrokerClient::close() {
  negotiated_ = false;
  peer_ranges_.clear();
  // A connect in progress fails with its link; the next call starts afresh
  // instead of waiting for it.
  attempt_.reset();
  if (auto link = std::exchange(link_, nullptr)) {
    link->fail({ClientError::kClosed, fmt::format("client for {} closed", peer_)});
  }
}

bool BrokerClient::connected() const { return link_ && !link_->failed() && negotiated_; }

int32_t BrokerClient::next_correlation_id() {
  const int32_t id = next_correlation_id_;
  next_correlation_id_ = id == std::numeric_limits<int32_t>::max() ? 1 : id + 1;
  return id;
}

std::optional<int16_t> BrokerClient::peer_max_version(int16_t api_key) const {
  if (!connected()) return std::nullopt;
  for (const auto& range : peer_ranges_) {
    if (range.api_key == api_key) return range.max_version;
  }
  return std::nullopt;
}

std::optional<int16_t> BrokerClient::pick_version(int16_t api_key, int16_t our_min, int16_t our_max) const {
  if (!connected()) return std::nullopt;
  for (const auto& range : peer_ranges_) {
    if (range.api_key != api_key) continue;
    const int16_t high = std::min(our_max, range.max_version);
    if (high < std::max(our_min, range.min_version)) return std::nullopt;
    return high;
  }
  return std::nullopt;
}

asio::awaitable<Result<void>> BrokerClient::connect() {
  auto self = shared_from_this();
  if (connected()) co_return Result<void>{};
  if (attempt_) {
    auto attempt = attempt_;
    co_return co_await attempt->wait();
  }
  co_return co_await establish();
}

asio::awaitable<Result<void>> BrokerClient::establish() {
  auto self = shared_from_this();
  auto attempt = std::make_shared<ConnectAttempt>(executor_);
  attempt_ = attempt;
  auto link = std::make_shared<BrokerLink>(executor_, peer_, options_.max_response_bytes);
  if (link_) link_->fail({ClientError::kDisconnected, "replaced by a new connection"});
  link_ = link;
  negotiated_ = false;
  peer_ranges_.clear();

  Result<void> result = co_await link->connect(options_.host, options_.port, options_.source_address,
                                               std::chrono::milliseconds(options_.connect_timeout_ms));
  if (result) {
    link->start();
    result = co_await negotiate(link);
  }
  if (!result) {
    link->fail(result.error());
  } else if (link_ != link || link->failed()) {
    // Closed (or broken) while negotiating.
    result = link->failure() ? *link->failure() : ClientFailure{ClientError::kClosed, "closed while connecting"};
  } else {
    negotiated_ = true;
    spdlog::debug("connected to {}", peer_);
  }
  attempt->finish(result);
  if (attempt_ == attempt) attempt_.reset();
  co_return result;
}

asio::awaitable<Result<void>> BrokerClient::negotiate(std::shared_ptr<BrokerLink> link) {
  auto self = shared_from_this();
  protocol::ApiVersionsRequest request;
  request.client_software_name = "runnel";
  request.client_software_version = RUNNEL_VERSION;
  int16_t version = protocol::ApiVersionsRequest::kMaxVersion;
  // At most one retry: a peer that does not know our version answers in the
  // v0 layout with UNSUPPORTED_VERSION and its own range (KIP-511).
  for (int round = 0; round < 2; ++round) {
    const int32_t correlation_id = next_correlation_id();
    std::vector<uint8_t> frame;
    protocol::encode_request_frame(frame, correlation_id, options_.client_id, version, request);
    RawResult raw = co_await exchange_on(link, kApiVersionsKey, version, correlation_id, std::move(frame), true);
    if (!raw) co_return raw.error();

    protocol::ApiVersionsResponse response;
    bool decoded = true;
    try {
      protocol::Reader reader(raw->body());
      response.decode(reader, version);
    } catch (const protocol::DecodeError&) {
      decoded = false;
    }
    if (!decoded || response.error_code == kUnsupportedVersionError) {
      protocol::ApiVersionsResponse fallback;
      try {
        protocol::Reader reader(raw->body());
        fallback.decode(reader, 0);
      } catch (const protocol::DecodeError& e) {
        co_return ClientFailure{ClientError::kProtocolError,
                                fmt::format("malformed ApiVersions v{} response from {}: {}", version, peer_,
                                            e.what())};
      }
      int16_t peer_max = -1;
      for (const auto& api : fallback.api_keys) {
        if (api.api_key == kApiVersionsKey) peer_max = api.max_version;
      }
      if (fallback.error_code != kUnsupportedVersionError || peer_max < 0 || peer_max >= version) {
        co_return ClientFailure{ClientError::kProtocolError,
                                fmt::format("{} rejected ApiVersions v{} (error {})", peer_, version,
                                            fallback.error_code)};
      }
      version = peer_max;
      continue;
    }
    if (response.error_code != 0) {
      co_return ClientFailure{ClientError::kProtocolError,
                              fmt::format("{} answered ApiVersions with error {}", peer_, response.error_code)};
    }
    if (link_ == link) {
      peer_ranges_.clear();
      for (const auto& api : response.api_keys) peer_ranges_.push_back({api.api_key, api.min_version, api.max_version});
    }
    co_return Result<void>{};
  }
  co_return ClientFailure{ClientError::kProtocolError, fmt::format("no ApiVersions version agreed with {}", peer_)};
}

asio::awaitable<RawResult> BrokerClient::send_raw(int16_t api_key, int16_t api_version, std::span<const uint8_t> body,
                                                  bool expect_response) {
  auto self = shared_from_this();
  const int32_t correlation_id = next_correlation_id();
  std::vector<uint8_t> frame;
  frame.reserve(body.size() + 64);
  protocol::Writer w(frame);
  const size_t size_at = w.reserve_int32();
  protocol::RequestHeader header;
  header.request_api_key = api_key;
  header.request_api_version = api_version;
  header.correlation_id = correlation_id;
  header.client_id = options_.client_id;
  header.encode(w, protocol::request_header_version(api_key, api_version));
  w.write_raw(body);  // copied before the first suspension: `body` need not outlive the call
  w.patch_int32(size_at, static_cast<int32_t>(w.position() - size_at - 4));
  co_return co_await exchange(api_key, api_version, correlation_id, std::move(frame), expect_response);
}

asio::awaitable<RawResult> BrokerClient::exchange(int16_t api_key, int16_t api_version, int32_t correlation_id,
                                                  std::vector<uint8_t> frame, bool expect_response) {
  auto self = shared_from_this();
  Result<void> ready = co_await connect();
  if (!ready) co_return ready.error();
  auto link = link_;
  if (!connected()) {
    co_return link && link->failure() ? *link->failure()
                                      : ClientFailure{ClientError::kClosed, fmt::format("client for {} closed", peer_)};
  }
  // A broker closes the connection on a version it does not serve, which would
  // fail every other request in flight: refuse here instead. (ApiVersions is
  // exempt: any version gets an answer.)
  if (api_key != kApiVersionsKey && !pick_version(api_key, api_version, api_version)) {
    const auto max = peer_max_version(api_key);
    co_return ClientFailure{ClientError::kUnsupportedVersion,
                            max ? fmt::format("{} does not support api {} v{} (max v{})", peer_, api_key,
                                              api_version, *max)
                                : fmt::format("{} does not support api {}", peer_, api_key)};
  }
  co_return co_await exchange_on(std::move(link), api_key, api_version, correlation_id, std::move(frame),
                                 expect_response);
}

asio::awaitable<RawResult> BrokerClient::exchange_on(std::shared_ptr<BrokerLink> link, int16_t api_key,
                                                     int16_t api_version, int32_t correlation_id,
                                                     std::vector<uint8_t> frame, bool expect_response) {
  auto self = shared_from_this();
  auto request = std::make_shared<PendingRequest>(executor_, api_key, api_version, correlation_id, expect_response);
  link->submit(request, std::move(frame));
  if (!request->outcome) {
    request->wake.expires_after(std::chrono::milliseconds(options_.request_timeout_ms));
    asio::error_code ignored;  // cancelled = finished; expired = timed out
    co_await request->wake.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  if (!request->outcome) {
    // As Kafka's NetworkClient: the connection cannot be trusted any more (the
    // late response would arrive out of step), so it closes, failing the rest.
    const std::string what = fmt::format("api {} v{} (correlation id {}) got no answer from {} within {} ms", api_key,
                                         api_version, correlation_id, peer_, options_.request_timeout_ms);
    link->fail({ClientError::kDisconnected, "connection closed after a timeout: " + what});
    co_return ClientFailure{ClientError::kTimedOut, what};
  }
  co_return std::move(*request->outcome);
}

}  // namespace runnel::replication
