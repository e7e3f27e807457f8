#include "cli/reassignment.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <thread>

#include "common/error_code.h"
#include "protocol/messages/alter_partition_reassignments.h"
#include "protocol/messages/list_partition_reassignments.h"

namespace runnel::cli {
namespace {

int32_t parse_id(const std::string& text, const std::string& what) {
  try {
    size_t used = 0;
    const long value = std::stol(text, &used);
    if (used == text.size() && value >= 0 && value <= INT32_MAX) return static_cast<int32_t>(value);
  } catch (const std::exception&) {
  }
  usage_error("invalid " + what + " '" + text + "'");
}

bool contains(const std::vector<int32_t>& ids, int32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

}  // namespace

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

PartitionMove parse_move(const std::string& topic, const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) usage_error("expected PARTITION=BROKER,BROKER,... but got '" + text + "'");
  PartitionMove move{topic, parse_id(text.substr(0, eq), "partition"), std::vector<int32_t>{}};
  std::stringstream in(text.substr(eq + 1));
  std::string id;
  while (std::getline(in, id, ',')) {
    const int32_t broker = parse_id(id, "broker id");
    if (contains(*move.replicas, broker)) usage_error("broker " + id + " appears twice in '" + text + "'");
    move.replicas->push_back(broker);
  }
  if (move.replicas->empty()) usage_error("no brokers given for partition in '" + text + "'");
  return move;
}

std::vector<PartitionMove> plan_drain(const protocol::MetadataResponse& metadata, int32_t broker) {
  std::map<int32_t, std::optional<std::string>> racks;
  for (const auto& b : metadata.brokers) racks[b.node_id] = b.rack;
  std::map<int32_t, int> load;  // replicas per registered broker, as the plan goes
  for (const auto& [id, rack] : racks) load[id] = 0;
  bool holds_any = false;
  for (const auto& t : metadata.topics)
    for (const auto& p : t.partitions)
      for (int32_t r : p.replica_nodes) {
        if (load.count(r)) ++load[r];
        holds_any |= r == broker;
      }
  if (!racks.count(broker) && !holds_any) fail("broker " + std::to_string(broker) + " is not part of the cluster");

  std::vector<PartitionMove> moves;
  for (const auto& t : metadata.topics) {
    if (t.error_code != 0 || !t.name) continue;
    for (const auto& p : t.partitions) {
      if (!contains(p.replica_nodes, broker)) continue;
      const auto rack = racks.count(broker) ? racks[broker] : std::nullopt;
      int32_t best = -1;
      auto better = [&](int32_t candidate) {
        if (best < 0) return true;
        const bool same_rack = rack && racks[candidate] == rack, best_same_rack = rack && racks[best] == rack;
        if (same_rack != best_same_rack) return same_rack;
        return load[candidate] < load[best];
      };
      for (const auto& [id, count] : load)
        if (id != broker && !contains(p.replica_nodes, id) && better(id)) best = id;
      if (best < 0) {
        fail("cannot drain broker " + std::to_string(broker) + ": no other broker can take a replica of " + *t.name +
             "-" + std::to_string(p.partition_index) + " (replicas " + join_ids(p.replica_nodes) + ")");
      }
      ++load[best];
      std::vector<int32_t> target = p.replica_nodes;
      std::replace(target.begin(), target.end(), broker, best);
      moves.push_back({*t.name, p.partition_index, target});
    }
  }
  return moves;
}

std::vector<std::string> submit_moves(AdminConnection& admin, const std::vector<PartitionMove>& moves) {
  protocol::AlterPartitionReassignmentsRequest request;
  request.timeout_ms = admin.timeout_ms();
  for (const auto& move : moves) {
    auto it = std::find_if(request.topics.begin(), request.topics.end(),
                           [&](const auto& t) { return t.name == move.topic; });
    if (it == request.topics.end()) {
      it = request.topics.emplace(request.topics.end());
      it->name = move.topic;
    }
    auto& p = it->partitions.emplace_back();
    p.partition_index = move.partition;
    p.replicas = move.replicas;
  }
  // The broker answers once the controller has written the moves.
  const auto response = admin.call(request, std::chrono::milliseconds(admin.timeout_ms() + 5000));
  std::vector<std::string> errors;
  if (response.error_code != 0) {
    const auto code = static_cast<ErrorCode>(response.error_code);
    errors.push_back("reassignment refused: " + response.error_message.value_or(std::string(error_name(code))) + " (" +
                     std::string(error_name(code)) + ")");
    return errors;
  }
  for (const auto& t : response.responses)
    for (const auto& p : t.partitions) {
      if (p.error_code == 0) continue;
      const std::string name(error_name(static_cast<ErrorCode>(p.error_code)));
      errors.push_back(t.name + "-" + std::to_string(p.partition_index) + ": " + p.error_message.value_or(name) +
                       " (" + name + ")");
    }
  return errors;
}

std::vector<PartitionMove> moves_in_progress(AdminConnection& admin, const std::vector<PartitionMove>& moves) {
  protocol::ListPartitionReassignmentsRequest request;
  request.timeout_ms = admin.timeout_ms();
  const auto response = admin.call(request);
  if (response.error_code != 0) {
    fail("listing reassignments failed: " +
         std::string(error_name(static_cast<ErrorCode>(response.error_code))));
  }
  std::vector<PartitionMove> listed;
  for (const auto& t : response.topics)
    for (const auto& p : t.partitions) {
      const bool wanted = moves.empty() || std::any_of(moves.begin(), moves.end(), [&](const PartitionMove& m) {
                            return m.topic == t.name && m.partition == p.partition_index;
                          });
      if (wanted) listed.push_back({t.name, p.partition_index, p.replicas});
    }
  return listed;
}

bool wait_for_moves(AdminConnection& admin, const std::vector<PartitionMove>& moves, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!moves_in_progress(admin, moves).empty()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return true;
}

protocol::MetadataResponse all_metadata(AdminConnection& admin) {
  protocol::MetadataRequest request;
  request.topics = std::nullopt;  // all topics
  request.allow_auto_topic_creation = false;
  return admin.call(request);
}

}  // namespace runnel::cli
