#pragma once
// Opening a listening socket for a configured listener, shared by the Kafka
// listeners and the HTTP (metrics) listeners.
#include <string_view>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "common/config.h"

namespace runnel::server {

// Opens, binds (SO_REUSEADDR) and listens. Throws std::runtime_error with one
// line: "<setting>: 'host' is not an IP address" or "cannot listen on URL: reason".
asio::ip::tcp::acceptor listen_on(asio::io_context& io, const Listener& listener, std::string_view setting);

}  // namespace runnel::server
