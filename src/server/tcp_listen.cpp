#include "server/tcp_listen.h"

#include <stdexcept>
#include <string>

namespace runnel::server {

asio::ip::tcp::acceptor listen_on(asio::io_context& io, const Listener& listener, std::string_view setting) {
  asio::ip::tcp::endpoint endpoint;
  try {
    const auto address = listener.host.empty() ? asio::ip::address_v4::any() : asio::ip::make_address(listener.host);
    endpoint = asio::ip::tcp::endpoint(address, listener.port);
  } catch (const std::exception&) {
    throw std::runtime_error(std::string(setting) + ": '" + listener.host + "' is not an IP address");
  }
  asio::ip::tcp::acceptor acceptor(io);
  asio::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + listener.to_string() + ": " + ec.message());
  return acceptor;
}

}  // namespace runnel::server
