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
asio::awaitable<void> handle_create_topics(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_delete_topics(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_delete_records(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_init_producer_id(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_offset_for_leader_epoch(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_describe_configs(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_alter_configs(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_describe_log_dirs(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_create_partitions(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_incremental_alter_configs(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_describe_cluster(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_elect_leaders(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_alter_partition_reassignments(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_list_partition_reassignments(BrokerContext&, RequestContext&);
// Inter-broker: a leader's ISR proposal to the controller.
asio::awaitable<void> handle_alter_partition(BrokerContext&, RequestContext&);
// Group coordinator APIs.
asio::awaitable<void> handle_offset_commit(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_offset_fetch(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_find_coordinator(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_join_group(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_heartbeat(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_leave_group(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_sync_group(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_describe_groups(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_list_groups(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_delete_groups(BrokerContext&, RequestContext&);
asio::awaitable<void> handle_offset_delete(BrokerContext&, RequestContext&);

}  // namespace runnel::server
