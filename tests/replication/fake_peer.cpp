#include "fake_peer.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "protocol/api_info.h"
#include "protocol/messages/api_versions.h"

namespace runnel::replication::test {

std::vector<ApiRange> all_defined_ranges() {
  std::vector<ApiRange> ranges;
  for (const auto& api : protocol::all_apis()) ranges.push_back({api.api_key, api.min_version, api.max_version});
  return ranges;
}

asio::awaitable<std::optional<FakeRequest>> FakeConnection::read_request() {
  uint8_t size_bytes[4];
  asio::error_code ec;
  co_await asio::async_read(socket_, asio::buffer(size_bytes), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return std::nullopt;
  const uint32_t size = (uint32_t(size_bytes[0]) << 24) | (uint32_t(size_bytes[1]) << 16) |
                        (uint32_t(size_bytes[2]) << 8) | uint32_t(size_bytes[3]);
  if (size < 8 || size > (64u << 20)) co_return std::nullopt;
  std::vector<uint8_t> frame(size);
  co_await asio::async_read(socket_, asio::buffer(frame), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return std::nullopt;
  protocol::Reader reader(frame);
  const protocol::RequestHeader header = protocol::decode_request_header(reader);
  FakeRequest request;
  request.api_key = header.request_api_key;
  request.api_version = header.request_api_version;
  request.correlation_id = header.correlation_id;
  request.body.assign(frame.begin() + static_cast<std::ptrdiff_t>(reader.position()), frame.end());
  ++*requests_seen_;
  co_return request;
}

asio::awaitable<bool> FakeConnection::write(std::vector<uint8_t> bytes) {
  asio::error_code ec;
  co_await asio::async_write(socket_, asio::buffer(bytes), asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<bool> FakeConnection::respond(const FakeRequest& request, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> frame;
  protocol::Writer w(frame);
  const size_t size_at = w.reserve_int32();
  protocol::ResponseHeader header;
  header.correlation_id = request.correlation_id;
  header.encode(w, protocol::response_header_version(request.api_key, request.api_version));
  w.write_raw(body);
  w.patch_int32(size_at, static_cast<int32_t>(w.position() - size_at - 4));
  co_return co_await write(std::move(frame));
}

asio::awaitable<bool> FakeConnection::handshake(const std::vector<ApiRange>& ranges) {
  auto request = co_await read_request();
  if (!request || request->api_key != protocol::ApiVersionsRequest::kApiKey) co_return false;
  protocol::ApiVersionsResponse response;
  for (const auto& range : ranges) response.api_keys.push_back({range.api_key, range.min_version, range.max_version});
  co_return co_await respond(*request, response);
}

asio::awaitable<bool> FakeConnection::handshake() { co_return co_await handshake(all_defined_ranges()); }

asio::awaitable<bool> FakeConnection::drain_until_closed() {
  for (;;) {
    // (No co_await inside conditions in these tests: GCC 12 miscompiles some.)
    const auto request = co_await read_request();
    if (!request) break;
  }
  co_return true;
}

void FakeConnection::close() {
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

FakePeer::FakePeer(asio::io_context& io, Serve serve, std::string address)
    : io_(io), serve_(std::move(serve)), address_(std::move(address)) {
  start();
}

FakePeer::~FakePeer() { stop(); }

void FakePeer::start() {
  auto acceptor = std::make_shared<asio::ip::tcp::acceptor>(io_);
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(address_), port_);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(asio::socket_base::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen();
  port_ = acceptor->local_endpoint().port();
  acceptor_ = acceptor;
  asio::co_spawn(io_, accept_loop(acceptor), asio::detached);
}

void FakePeer::stop() {
  if (acceptor_) {
    asio::error_code ec;
    acceptor_->close(ec);
    acceptor_.reset();
  }
  for (auto& weak : connections_) {
    if (auto connection = weak.lock()) connection->close();
  }
  connections_.clear();
}

asio::awaitable<void> FakePeer::accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acceptor) {
  while (acceptor->is_open()) {
    asio::error_code ec;
    asio::ip::tcp::socket socket = co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    const auto remote = socket.remote_endpoint(ec);
    client_addresses_.push_back(ec ? "unknown" : remote.address().to_string());
    auto connection = std::make_shared<FakeConnection>(std::move(socket), requests_seen_);
    connections_.push_back(connection);
    const int index = accepted_++;
    // The connection stays open until the script returns (then it closes).
    asio::co_spawn(
        io_,
        [serve = serve_, connection, index]() -> asio::awaitable<void> {
          co_await serve(connection, index);
          connection->close();
        },
        asio::detached);
  }
}

}  // namespace runnel::replication::test
