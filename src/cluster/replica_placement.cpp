#include "cluster/replica_placement.h"

#include <algorithm>
#include <set>

namespace runnel::cluster {
namespace {

// Brokers ordered so that consecutive ones sit in different racks (Kafka's
// getRackAlternatedBrokerList): rack a's first, rack b's first, ..., a's second.
std::vector<PlacementBroker> alternate_racks(const std::vector<PlacementBroker>& brokers) {
  std::map<std::string, std::vector<PlacementBroker>> by_rack;
  for (const auto& b : brokers) by_rack[b.rack.value_or("")].push_back(b);
  std::vector<PlacementBroker> out;
  for (size_t round = 0; out.size() < brokers.size(); ++round) {
    for (auto& [rack, members] : by_rack)
      if (round < members.size()) out.push_back(members[round]);
  }
  return out;
}

}  // namespace

std::vector<std::vector<int32_t>> place_replicas(std::vector<PlacementBroker> brokers, int32_t first, int32_t count,
                                                 int32_t replication_factor) {
  const auto n = static_cast<int32_t>(brokers.size());
  if (replication_factor < 1 || replication_factor > n || count < 0) return {};
  std::sort(brokers.begin(), brokers.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  const bool rack_aware = std::any_of(brokers.begin(), brokers.end(), [](const auto& b) { return b.rack.has_value(); });
  if (rack_aware) brokers = alternate_racks(brokers);
  std::set<std::string> all_racks;
  for (const auto& b : brokers) all_racks.insert(b.rack.value_or(""));

  // Start at the broker that leads the fewest partitions today, so that leaders
  // stay balanced across topics (Kafka starts at a random broker instead).
  int32_t start = 0;
  for (int32_t i = 1; i < n; ++i)
    if (brokers[static_cast<size_t>(i)].preferred_leaderships < brokers[static_cast<size_t>(start)].preferred_leaderships)
      start = i;

  std::vector<std::vector<int32_t>> assignments;
  int32_t shift = 0;
  for (int32_t k = 0; k < count; ++k) {
    const int32_t p = first + k;
    if (k > 0 && k % n == 0) ++shift;
    const int32_t leader_index = (p + start) % n;
    std::vector<int32_t> replicas{brokers[static_cast<size_t>(leader_index)].id};
    std::set<std::string> racks_used{brokers[static_cast<size_t>(leader_index)].rack.value_or("")};
    // Followers: walk the others from a per-round shift; with racks, first take
    // brokers of racks not used yet, then any.
    for (int pass = 0; pass < 2 && static_cast<int32_t>(replicas.size()) < replication_factor; ++pass) {
      for (int32_t j = 0; j < n - 1 && static_cast<int32_t>(replicas.size()) < replication_factor; ++j) {
        const int32_t index = (leader_index + 1 + (shift + j) % std::max(1, n - 1)) % n;
        const auto& candidate = brokers[static_cast<size_t>(index)];
        if (std::find(replicas.begin(), replicas.end(), candidate.id) != replicas.end()) continue;
        const std::string rack = candidate.rack.value_or("");
        const bool new_rack = racks_used.count(rack) == 0 || racks_used.size() == all_racks.size();
        if (pass == 0 && rack_aware && !new_rack) continue;
        replicas.push_back(candidate.id);
        racks_used.insert(rack);
      }
    }
    assignments.push_back(std::move(replicas));
  }
  return assignments;
}

}  // namespace runnel::cluster
