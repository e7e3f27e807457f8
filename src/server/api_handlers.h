#pragma once
// The one table of the APIs the broker serves, with their version ranges.
// ApiVersions is answered from this table, so it cannot drift from what is served.
#include <cstdint>
#include <span>

#include <asio/awaitable.hpp>

#include "server/broker_context.h"
#include "server/request_context.h"

namespace runnel::server {

using HandlerFn = asio::awaitable<void> (*)(BrokerContext&, RequestContext&);

struct ApiHandler {
  int16_t api_key;
  int16_t min_version;
  int16_t max_version;
  HandlerFn handle;
};

std::span<const ApiHandler> api_handlers();
const ApiHandler* find_api_handler(int16_t api_key);

// Handlers, one file each under server/handlers/.
asio::awaitable<void> handle_api_versions(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_metadata(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_produce(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_fetch(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_list_offsets(BrokerContext&, RequestContext&);

}  // namespace runnel::server
