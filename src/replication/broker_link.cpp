#include "replication/broker_link.h"

#include <algorithm>
#include <iterator>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocol/framing.h"

namespace runnel::replication {
namespace {

// A large response is read in pieces, so memory follows the bytes that
// really arrived, not the size a (possibly broken) peer announced.
constexpr size_t kReadChunkBytes = 1u << 20;

int32_t read_be32(const uint8_t* p) {
  return static_cast<int32_t>((uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]));
}

std::string describe_io_error(const asio::error_code& ec) {
  if (ec == asio::error::eof) return "the peer closed the connection";
  if (ec == asio::error::connection_refused) return "connection refused";
  return ec.message();
}

}  // namespace

BrokerLink::BrokerLink(const asio::any_io_executor& executor, std::string peer, size_t max_response_bytes)
    : executor_(executor),
      peer_(std::move(peer)),
      max_response_bytes_(max_response_bytes),
      socket_(executor),
      resolver_(executor),
      connect_deadline_(executor),
      writer_wake_(executor) {}

BrokerLink::~BrokerLink() = default;

asio::awaitable<Result<void>> BrokerLink::connect(std::string host, uint16_t port, std::string source_address,
                                                  std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  // The deadline covers resolving and every connect attempt; it fails the
  // link, which aborts whatever operation is pending.
  connect_deadline_.expires_after(timeout);
  connect_deadline_.async_wait([weak = weak_from_this(), timeout](const asio::error_code& ec) {
    auto link = weak.lock();
    if (ec || !link) return;
    link->fail({ClientError::kConnectTimedOut,
                fmt::format("no connection to {} within {} ms", link->peer_, timeout.count())});
  });

  auto fail_with = [this](ClientError code, std::string message) -> Result<void> {
    fail({code, std::move(message)});
    return *failure_;
  };

  std::optional<asio::ip::address> source;
  asio::error_code ec;
  if (!source_address.empty()) {
    source = asio::ip::make_address(source_address, ec);
    if (ec) {
      co_return fail_with(ClientError::kConnectFailed, fmt::format("invalid source address '{}'", source_address));
    }
  }
  std::vector<asio::ip::tcp::endpoint> endpoints;
  const auto literal = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoints.emplace_back(literal, port);
  } else {
    const auto results =
        co_await resolver_.async_resolve(host, std::to_string(port), asio::redirect_error(asio::use_awaitable, ec));
    if (failed()) co_return *failure_;
    if (ec) co_return fail_with(ClientError::kConnectFailed, fmt::format("cannot resolve {}: {}", host, ec.message()));
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  }
  // With a source address only peers of its family can be reached.
  if (source) {
    std::erase_if(endpoints, [&](const auto& e) { return e.address().is_v4() != source->is_v4(); });
  }
  if (endpoints.empty()) {
    co_return fail_with(ClientError::kConnectFailed, fmt::format("no usable address for {}", peer_));
  }

  std::optional<ClientFailure> last;
  for (const auto& endpoint : endpoints) {
    Result<void> attempt = co_await connect_to(endpoint, source);
    if (failed()) co_return *failure_;  // timed out or closed meanwhile
    if (attempt) {
      connect_deadline_.cancel();
      co_return attempt;
    }
    last = attempt.error();
  }
  fail(*last);
  co_return *failure_;
}

asio::awaitable<Result<void>> BrokerLink::connect_to(const asio::ip::tcp::endpoint& remote,
                                                     const std::optional<asio::ip::address>& source) {
  asio::error_code ec;
  if (socket_.is_open()) socket_.close(ec);
  socket_.open(remote.protocol(), ec);
  if (ec) co_return ClientFailure{ClientError::kConnectFailed, fmt::format("socket for {}: {}", peer_, ec.message())};
  if (source) {
    socket_.bind(asio::ip::tcp::endpoint(*source, 0), ec);
    if (ec) {
      co_return ClientFailure{ClientError::kConnectFailed,
                              fmt::format("cannot bind to source address {}: {}", source->to_string(), ec.message())};
    }
  }
  // Requests are small and latency-bound (follower fetches): no Nagle delay.
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  co_await socket_.async_connect(remote, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return ClientFailure{ClientError::kConnectFailed,
                            fmt::format("connect to {} ({}): {}", peer_, remote.address().to_string(),
                                        describe_io_error(ec))};
  }
  co_return Result<void>{};
}

void BrokerLink::start() {
  auto self = shared_from_this();
  asio::co_spawn(executor_, [self]() { return self->read_loop(); }, asio::detached);
  asio::co_spawn(executor_, [self]() { return self->write_loop(); }, asio::detached);
}

void BrokerLink::submit(const std::shared_ptr<PendingRequest>& request, std::vector<uint8_t> frame) {
  if (failed()) {
    request->finish(*failure_);
    return;
  }
  // Registered now, not when written: the order of this queue is the order
  // the frames go out, so it is the order the responses must come back in.
  if (request->expect_response) awaiting_response_.push_back(request);
  write_queue_.push_back({request, std::move(frame)});
  writer_wake_.cancel();
}

void BrokerLink::fail(ClientFailure failure) {
  if (failed()) return;
  spdlog::debug("connection to {} ended: {}", peer_, failure.describe());
  failure_ = std::move(failure);
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  resolver_.cancel();
  connect_deadline_.cancel();
  writer_wake_.cancel();
  auto awaiting = std::move(awaiting_response_);
  auto queued = std::move(write_queue_);
  awaiting_response_.clear();
  write_queue_.clear();
  for (const auto& request : awaiting) request->finish(*failure_);
  for (const auto& outgoing : queued) outgoing.request->finish(*failure_);
}

asio::awaitable<void> BrokerLink::write_loop() {
  auto self = shared_from_this();
  std::vector<Outgoing> batch;
  std::vector<asio::const_buffer> buffers;
  while (!failed()) {
    if (write_queue_.empty()) {
      writer_wake_.expires_at(std::chrono::steady_clock::time_point::max());
      asio::error_code ignored;
      co_await writer_wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      continue;
    }
    // Everything queued goes out in one gathered write (pipelining).
    batch.assign(std::make_move_iterator(write_queue_.begin()), std::make_move_iterator(write_queue_.end()));
    write_queue_.clear();
    buffers.clear();
    for (const auto& outgoing : batch) buffers.push_back(asio::buffer(outgoing.frame));
    asio::error_code ec;
    co_await asio::async_write(socket_, buffers, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) fail({ClientError::kDisconnected, fmt::format("write to {} failed: {}", peer_, describe_io_error(ec))});
    for (auto& outgoing : batch) {
      if (failed()) {
        outgoing.request->finish(*failure_);
      } else if (!outgoing.request->expect_response) {
        outgoing.request->finish(RawResponse{});  // written is all it gets (Produce acks=0)
      }
    }
    batch.clear();
  }
}

asio::awaitable<void> BrokerLink::read_loop() {
  auto self = shared_from_this();
  while (!failed()) {
    auto frame = co_await read_frame();
    if (!frame) break;
    on_response(std::move(frame));
  }
}

asio::awaitable<std::shared_ptr<std::vector<uint8_t>>> BrokerLink::read_frame() {
  uint8_t size_bytes[4];
  asio::error_code ec;
  co_await asio::async_read(socket_, asio::buffer(size_bytes), asio::redirect_error(asio::use_awaitable, ec));
  if (failed()) co_return nullptr;
  if (ec) {
    fail({ClientError::kDisconnected, fmt::format("reading from {}: {}", peer_, describe_io_error(ec))});
    co_return nullptr;
  }
  const int32_t size = read_be32(size_bytes);
  // A response holds at least its correlation id.
  if (size < 4 || static_cast<uint64_t>(size) > max_response_bytes_) {
    fail({ClientError::kProtocolError,
          fmt::format("response size {} from {} outside [4, {}]", size, peer_, max_response_bytes_)});
    co_return nullptr;
  }
  if (awaiting_response_.empty()) {
    fail({ClientError::kProtocolError, fmt::format("{} sent a response to no request", peer_)});
    co_return nullptr;
  }
  const auto total = static_cast<size_t>(size);
  auto frame = std::make_shared<std::vector<uint8_t>>();
  frame->reserve(std::min(total, kReadChunkBytes));
  while (frame->size() < total) {
    const size_t have = frame->size();
    const size_t chunk = std::min(total - have, kReadChunkBytes);
    frame->resize(have + chunk);
    co_await asio::async_read(socket_, asio::buffer(frame->data() + have, chunk),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (failed()) co_return nullptr;
    if (ec) {
      fail({ClientError::kDisconnected, fmt::format("reading a {}-byte response from {}: {}", total, peer_,
                                                    describe_io_error(ec))});
      co_return nullptr;
    }
  }
  co_return frame;
}

void BrokerLink::on_response(std::shared_ptr<std::vector<uint8_t>> frame) {
  const std::shared_ptr<PendingRequest> request = awaiting_response_.front();
  protocol::Reader reader(*frame);
  protocol::ResponseHeader header;
  try {
    header = protocol::decode_response_header(reader, request->api_key, request->api_version);
  } catch (const protocol::DecodeError& e) {
    fail({ClientError::kProtocolError, fmt::format("malformed response header from {}: {}", peer_, e.what())});
    return;
  }
  // Responses come back in request order; anything else means the stream is
  // out of step, and no later response on it can be trusted either.
  if (header.correlation_id != request->correlation_id) {
    fail({ClientError::kProtocolError,
          fmt::format("{} answered with correlation id {}, expected {} (api {} v{})", peer_, header.correlation_id,
                      request->correlation_id, request->api_key, request->api_version)});
    return;
  }
  awaiting_response_.pop_front();
  const size_t body_offset = reader.position();
  request->finish(RawResponse{std::move(frame), body_offset, header.correlation_id});
}

}  // namespace runnel::replication
