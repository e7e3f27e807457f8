#include "server/http_server.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <spdlog/spdlog.h>

namespace runnel::server {

HttpServer::HttpServer(asio::io_context& io, Handler handler) : io_(io), handler_(std::move(handler)) {}

HttpServer::~HttpServer() = default;

void HttpServer::listen(const std::vector<Listener>& listeners) {
  for (const auto& listener : listeners) {
    asio::ip::tcp::endpoint endpoint;
    try {
      const auto address = listener.host.empty() ? asio::ip::address_v4::any() : asio::ip::make_address(listener.host);
      endpoint = asio::ip::tcp::endpoint(address, listener.port);
    } catch (const std::exception&) {
      throw std::runtime_error("http.listeners: '" + listener.host + "' is not an IP address");
    }
    auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(io_);
    asio::error_code ec;
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + listener.to_string() + ": " + ec.message());
    acceptors_.push_back(std::move(acceptor));
  }
}

void HttpServer::start() {
  for (auto& acceptor : acceptors_) asio::co_spawn(io_, accept_loop(*acceptor), asio::detached);
}

void HttpServer::stop() {
  stopping_ = true;
  for (auto& acceptor : acceptors_) {
    asio::error_code ec;
    acceptor->close(ec);
  }
}

std::vector<std::string> HttpServer::urls() const {
  std::vector<std::string> urls;
  for (const auto& acceptor : acceptors_) {
    asio::error_code ec;
    const auto endpoint = acceptor->local_endpoint(ec);
    if (ec) continue;
    const auto address = endpoint.address();
    const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    urls.push_back("http://" + host + ":" + std::to_string(endpoint.port()));
  }
  return urls;
}

asio::awaitable<void> HttpServer::accept_loop(asio::ip::tcp::acceptor& acceptor) {
  while (!stopping_) {
    asio::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) break;
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (active_ >= kMaxConnections) {
      spdlog::debug("http: refusing connection, {} already open", active_);
      socket.close(ec);
      continue;
    }
    asio::co_spawn(io_, serve(std::make_shared<asio::ip::tcp::socket>(std::move(socket))), asio::detached);
  }
}

HttpResponse HttpServer::respond(std::string_view head, bool* head_only) const {
  std::string error;
  const auto request = parse_http_request_head(head, &error);
  if (!request) {
    spdlog::debug("http: bad request: {}", error);
    return HttpResponse{400, "text/plain; charset=utf-8", "bad request: " + error + "\n", {}};
  }
  *head_only = request->method == "HEAD";
  try {
    return handler_(*request);
  } catch (const std::exception& e) {
    spdlog::error("http: {} {} failed: {}", request->method, request->path, e.what());
    return HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}};
  }
}

asio::awaitable<void> HttpServer::serve(std::shared_ptr<asio::ip::tcp::socket> socket) {
  ++active_;
  // Whatever the client does, the connection is gone by the deadline.
  asio::steady_timer deadline(io_);
  deadline.expires_after(kConnectionDeadline);
  deadline.async_wait([socket](const asio::error_code& ec) {
    if (ec) return;
    asio::error_code ignored;
    socket->close(ignored);
  });
  asio::streambuf buffer(kMaxRequestHeadBytes);
  asio::error_code ec;
  const size_t head_size =
      co_await asio::async_read_until(*socket, buffer, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
  std::string reply;
  if (!ec) {
    const std::string_view data(static_cast<const char*>(buffer.data().data()), head_size - 4);
    bool head_only = false;
    const auto response = respond(data, &head_only);
    reply = serialize_http_response(response, head_only);
  } else if (ec == asio::error::not_found) {
    // The head did not fit in kMaxRequestHeadBytes.
    reply = serialize_http_response({431, "text/plain; charset=utf-8", "request head too large\n", {}}, false);
  }
  if (!reply.empty() && socket->is_open()) {
    co_await asio::async_write(*socket, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
  }
  asio::error_code ignored;
  socket->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket->close(ignored);
  deadline.cancel();
  --active_;
}

}  // namespace runnel::server
