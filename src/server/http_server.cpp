#include "server/http_server.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/buffer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <spdlog/spdlog.h>

#include "server/tcp_listen.h"

namespace runnel::server {

HttpServer::HttpServer(asio::io_context& io, Handler handler) : io_(io), handler_(std::move(handler)) {}

HttpServer::~HttpServer() = default;

void HttpServer::listen(const std::vector<Listener>& listeners) {
  for (const auto& listener : listeners) {
    acceptors_.push_back(std::make_unique<asio::ip::tcp::acceptor>(listen_on(io_, listener, "http.listeners")));
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
  const auto close_on_expiry = [socket](const asio::error_code& ec) {
    if (ec) return;
    asio::error_code ignored;
    socket->close(ignored);
  };
  deadline.expires_after(kConnectionDeadline);
  deadline.async_wait(close_on_expiry);
  std::string received;
  asio::error_code ec;
  const size_t head_size = co_await asio::async_read_until(*socket, asio::dynamic_buffer(received, kMaxRequestHeadBytes),
                                                           "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
  std::string reply;
  if (!ec) {
    const std::string_view data = std::string_view(received).substr(0, head_size - 4);
    bool head_only = false;
    const auto response = respond(data, &head_only);
    reply = serialize_http_response(response, head_only);
  } else if (ec == asio::error::not_found) {
    // The head did not fit in kMaxRequestHeadBytes.
    reply = serialize_http_response({431, "text/plain; charset=utf-8", "request head too large\n", {}}, false);
  }
  asio::error_code ignored;
  if (!reply.empty() && socket->is_open()) {
    co_await asio::async_write(*socket, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
    // Lingering close: closing with unread input would make the kernel reset
    // the connection, and the client could lose the response. Stop sending,
    // then discard what the client still sends until it closes (1 s at most).
    socket->shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    deadline.expires_after(std::chrono::seconds(1));
    deadline.async_wait(close_on_expiry);
    std::vector<char> scratch(4096);
    while (!ec && socket->is_open()) {
      co_await socket->async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  socket->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket->close(ignored);
  deadline.cancel();
  --active_;
}

}  // namespace runnel::server
