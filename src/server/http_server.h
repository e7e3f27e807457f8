#pragma once
// A minimal HTTP/1.1 server on the broker's event loop, for /metrics: one
// request per connection (`Connection: close`), a bounded request head, a
// deadline per connection and a cap on concurrent connections, so a slow or
// hostile client costs a socket for a few seconds at most and never blocks
// the Kafka listeners sharing the loop.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "common/config.h"
#include "server/http_request.h"

namespace runnel::server {

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  static constexpr size_t kMaxRequestHeadBytes = 16 * 1024;
  static constexpr int kMaxConnections = 32;
  static constexpr std::chrono::seconds kConnectionDeadline{10};

  HttpServer(asio::io_context& io, Handler handler);
  ~HttpServer();

  // Binds every listener now, so that a bad address fails startup with
  // "cannot listen on http://...: reason".
  void listen(const std::vector<Listener>& listeners);
  void start();
  // Stops accepting; requests being served finish within their deadline.
  void stop();
  // The bound addresses (port 0 resolved), e.g. "http://127.0.0.1:9644".
  std::vector<std::string> urls() const;

 private:
  asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor);
  asio::awaitable<void> serve(std::shared_ptr<asio::ip::tcp::socket> socket);
  HttpResponse respond(std::string_view head, bool* head_only) const;

  asio::io_context& io_;
  Handler handler_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
  int active_ = 0;
  bool stopping_ = false;
};

}  // namespace runnel::server
