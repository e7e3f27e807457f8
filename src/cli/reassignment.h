// Partition reassignment for `runnel topic reassign` and `runnel cluster
// drain`: the plan (which partition goes to which brokers), submitting it
// with AlterPartitionReassignments (KIP-455) and waiting for it with
// ListPartitionReassignments.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/admin_connection.h"
#include "protocol/messages/metadata.h"

namespace runnel::cli {

struct PartitionMove {
  std::string topic;
  int32_t partition = 0;
  std::optional<std::vector<int32_t>> replicas;  // the target; nullopt cancels a move in progress
};

// "3=4,2,1" -> partition 3 to brokers 4, 2, 1 (the first is the preferred
// leader). Throws a usage error when malformed.
PartitionMove parse_move(const std::string& topic, const std::string& text);

// Every partition (internal topics included) with `broker` among its replicas,
// moved to the registered broker with the fewest replicas that is not already
// a replica (one in the same rack when there is one). Throws CliError when the
// broker is unknown or no other broker can take a partition.
std::vector<PartitionMove> plan_drain(const protocol::MetadataResponse& metadata, int32_t broker);

// One error line per rejected move, empty when the broker accepted them all.
std::vector<std::string> submit_moves(AdminConnection& admin, const std::vector<PartitionMove>& moves);

// Moves of `moves` still listed as in progress.
std::vector<PartitionMove> moves_in_progress(AdminConnection& admin, const std::vector<PartitionMove>& moves);

// Waits until none of `moves` is in progress any more; false after `limit`.
bool wait_for_moves(AdminConnection& admin, const std::vector<PartitionMove>& moves, std::chrono::milliseconds limit);

// Metadata of every topic from the connected broker.
protocol::MetadataResponse all_metadata(AdminConnection& admin);

std::string join_ids(const std::vector<int32_t>& ids);

}  // namespace runnel::cli
