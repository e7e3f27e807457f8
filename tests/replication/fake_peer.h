#pragma once
// A scriptable fake Kafka peer for BrokerClient fault tests: listens on
// loopback and runs a test-supplied coroutine per accepted connection, with
// helpers to read request frames and write (possibly broken) responses.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "protocol/framing.h"

namespace runnel::replication::test {

struct FakeRequest {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::vector<uint8_t> body;  // after the request header
};

struct ApiRange {
  int16_t api_key;
  int16_t min_version;
  int16_t max_version;
};

class FakeConnection {
 public:
  FakeConnection(asio::ip::tcp::socket socket, std::shared_ptr<int> requests_seen)
      : socket_(std::move(socket)), requests_seen_(std::move(requests_seen)) {}

  // The next request frame; nullopt once the client closed the connection.
  asio::awaitable<std::optional<FakeRequest>> read_request();
  // Raw bytes, to send anything at all. False if the write failed.
  asio::awaitable<bool> write(std::vector<uint8_t> bytes);
  // A well-formed response frame carrying `body` for `request`.
  asio::awaitable<bool> respond(const FakeRequest& request, const std::vector<uint8_t>& body);
  template <typename Response>
  asio::awaitable<bool> respond(const FakeRequest& request, const Response& response) {
    std::vector<uint8_t> body;
    protocol::Writer w(body);
    response.encode(w, request.api_version);
    co_return co_await respond(request, body);
  }
  // Reads the client's ApiVersions request and answers it with `ranges`.
  asio::awaitable<bool> handshake(const std::vector<ApiRange>& ranges);
  // handshake() with every API and version the protocol library defines.
  asio::awaitable<bool> handshake();
  // Reads requests until the client closes; true when it did (EOF seen).
  asio::awaitable<bool> drain_until_closed();

  void close();
  asio::ip::tcp::socket& socket() { return socket_; }

 private:
  asio::ip::tcp::socket socket_;
  std::shared_ptr<int> requests_seen_;
};

class FakePeer {
 public:
  // Runs `serve(connection, index)` for each accepted connection (index 0, 1, ...).
  using Serve = std::function<asio::awaitable<void>(std::shared_ptr<FakeConnection>, int index)>;

  FakePeer(asio::io_context& io, Serve serve, std::string address = "127.0.0.1");
  ~FakePeer();

  // Listens (again) on the same port; the first start() picks a free one.
  void start();
  // Closes the listener and every open connection.
  void stop();

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }
  // The client address of each accepted connection, in order.
  const std::vector<std::string>& client_addresses() const { return client_addresses_; }
  // Requests read by FakeConnection::read_request on any connection.
  int requests_seen() const { return *requests_seen_; }

 private:
  asio::awaitable<void> accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acceptor);

  asio::io_context& io_;
  Serve serve_;
  std::string address_;
  uint16_t port_ = 0;
  std::shared_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::vector<std::weak_ptr<FakeConnection>> connections_;
  std::vector<std::string> client_addresses_;
  int accepted_ = 0;
  std::shared_ptr<int> requests_seen_ = std::make_shared<int>(0);
};

// Every API the protocol library defines, with its full range.
std::vector<ApiRange> all_defined_ranges();

}  // namespace runnel::replication::test
