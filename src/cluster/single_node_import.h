#pragma once
// A single node's data from before it kept its metadata in a store (partition
// dirs, runnel-topic-configs, producer-id-block) becomes the local store's first
// metadata: each topic with its id, partition count and configs, each partition
// led by this node at the leader epoch its log last used, and the producer-id
// counter past every id already given out. Runs once, on an empty local store.
#include <cstdint>
#include <string>

#include <asio/awaitable.hpp>

#include "cluster/metadata_records.h"
#include "cluster/metadata_store.h"
#include "storage/log_manager.h"

namespace runnel::cluster {

// Returns the number of topics imported; throws std::runtime_error when the store refuses.
asio::awaitable<int> import_single_node_data(MetadataStore& store, const MetadataKeys& keys,
                                             storage::LogManager& logs, int32_t node_id, const std::string& first_log_dir);

}  // namespace runnel::cluster
