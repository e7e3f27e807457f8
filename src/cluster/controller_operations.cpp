// The controller's admin operations: topics, partitions, configs, ISR changes
// proposed by leaders, leader elections on request and reassignments. Each runs
// alone, on an image holding every earlier write of this controller, and answers
// once this broker's image shows its result.
#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "cluster/controller.h"
#include "storage/topic_name.h"

namespace runnel::cluster {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int32_t kMaxPartitionsPerTopic = 100000;
constexpr size_t kPartitionsPerTxn = 64;
const AdminResult kNotController{ErrorCode::kNotController, "This broker is not the controller."};

AdminResult check_explicit_assignment(const MetadataImage& image, const std::vector<std::vector<int32_t>>& assignment,
                                      size_t replication_factor) {
  for (const auto& replicas : assignment) {
    if (replicas.empty()) return {ErrorCode::kInvalidReplicaAssignment, "Empty replica list"};
    if (replicas.size() != replication_factor)
      return {ErrorCode::kInvalidReplicaAssignment, "All partitions should have the same number of replicas"};
    std::set<int32_t> seen;
    for (int32_t r : replicas) {
      if (!seen.insert(r).second) return {ErrorCode::kInvalidReplicaAssignment, "Duplicate brokers in replica assignment"};
      if (!image.alive(r))
        return {ErrorCode::kInvalidReplicaAssignment, fmt::format("Unknown broker {} in replica assignment", r)};
    }
  }
  return {};
}

int32_t eligible_brokers(const MetadataImage& image) {
  int32_t n = 0;
  for (const auto& [id, b] : image.brokers) n += b.shutting_down ? 0 : 1;
  return n;
}

}  // namespace

asio::awaitable<std::vector<CreatedTopic>> Controller::create_topics(std::vector<NewTopic> topics, bool validate_only) {
  std::vector<CreatedTopic> results(topics.size());
  AsyncMutex::Guard guard;
  const auto image = co_await begin(guard);
  if (!image) {
    for (auto& r : results) r.result = kNotController;
    co_return results;
  }
  const int32_t eligible = eligible_brokers(*image);
  std::vector<std::string> accepted;  // names created earlier in this request
  for (size_t i = 0; i < topics.size(); ++i) {
    auto& topic = topics[i];
    auto& out = results[i];
    auto fail = [&](ErrorCode error, std::string message) { out.result = {error, std::move(message)}; };
    if (auto why = storage::topic_name_error(topic.name)) {
      fail(ErrorCode::kInvalidTopicException, *why);
      continue;
    }
    if (image->topic(topic.name) ||
        std::find(accepted.begin(), accepted.end(), topic.name) != accepted.end()) {
      fail(ErrorCode::kTopicAlreadyExists, fmt::format("Topic '{}' already exists.", topic.name));
      continue;
    }
    std::string collision;
    for (const auto* existing : image->existing_topics())
      if (storage::topic_names_collide(existing->name, topic.name)) collision = existing->name;
    for (const auto& name : accepted)
      if (storage::topic_names_collide(name, topic.name)) collision = name;
    if (!collision.empty()) {
      fail(ErrorCode::kInvalidTopicException,
           fmt::format("Topic '{}' collides with existing topic: {}", topic.name, collision));
      continue;
    }
    int32_t partitions = topic.partitions == -1 ? config_.num_partitions : topic.partitions;
    int32_t replication_factor =
        topic.replication_factor == -1 ? config_.default_replication_factor : topic.replication_factor;
    if (!topic.assignments.empty()) {
      partitions = static_cast<int32_t>(topic.assignments.size());
      replication_factor = static_cast<int32_t>(topic.assignments.front().size());
      if (auto check = check_explicit_assignment(*image, topic.assignments, topic.assignments.front().size());
          !check.ok()) {
        out.result = check;
        continue;
      }
    } else {
      if (std::find(config_.capped_topics.begin(), config_.capped_topics.end(), topic.name) !=
          config_.capped_topics.end()) {
        // Internal topics on a small cluster: as many replicas as there are brokers (as Kafka does).
        if (replication_factor >= 1) replication_factor = std::min(replication_factor, std::max(eligible, 1));
      }
      if (partitions < 1) {
        fail(ErrorCode::kInvalidPartitions, "Number of partitions must be larger than 0.");
        continue;
      }
      if (partitions > kMaxPartitionsPerTopic) {
        fail(ErrorCode::kInvalidPartitions, fmt::format("Number of partitions {} exceeds the limit of {} per topic.",
                                                        partitions, kMaxPartitionsPerTopic));
        continue;
      }
      if (replication_factor < 1) {
        fail(ErrorCode::kInvalidReplicationFactor, "Replication factor must be larger than 0.");
        continue;
      }
      if (replication_factor > eligible) {
        fail(ErrorCode::kInvalidReplicationFactor,
             fmt::format("Replication factor: {} larger than available brokers: {}.", replication_factor, eligible));
        continue;
      }
    }
    bool configs_ok = true;
    for (const auto& [key, value] : topic.configs) {
      if (auto why = validate_topic_config(key, value)) {
        fail(ErrorCode::kInvalidConfig, *why);
        configs_ok = false;
        break;
      }
    }
    if (!configs_ok) continue;
    out.partitions = partitions;
    out.replication_factor = static_cast<int16_t>(replication_factor);
    if (validate_only) continue;

    auto assignment = topic.assignments.empty() ? place(*image, 0, partitions, replication_factor) : topic.assignments;
    if (assignment.size() != static_cast<size_t>(partitions)) {
      fail(ErrorCode::kInvalidReplicationFactor, "Not enough brokers to place the replicas.");
      continue;
    }
    const TopicRecord record{Uuid::random(), partitions};
    const std::string encoded = encode(record);
    // The topic record, its configs and the first partitions in one transaction:
    // nothing is visible until it commits. Later chunks are conditioned on the
    // same record, so a topic deleted meanwhile is not brought back.
    std::vector<TxnOp> ops{TxnOp::put(keys_.topic(topic.name), encoded)};
    if (!topic.configs.empty()) ops.push_back(TxnOp::put(keys_.config(topic.name), encode_configs(topic.configs)));
    size_t p = 0;
    for (; p < assignment.size() && p < kPartitionsPerTxn; ++p) {
      ops.push_back(TxnOp::put(keys_.partition(topic.name, static_cast<int32_t>(p)),
                               encode(initial_state(*image, assignment[p]))));
    }
    std::vector<Compare> absent{Compare::absent(keys_.topic(topic.name))};
    auto outcome = co_await commit(std::move(absent), std::move(ops));
    if (!outcome.status.ok() || !outcome.succeeded) {
      out.result = !active_ ? kNotController
                   : outcome.status.ok()
                       ? AdminResult{ErrorCode::kTopicAlreadyExists, fmt::format("Topic '{}' already exists.", topic.name)}
                       : AdminResult{ErrorCode::kRequestTimedOut, "metadata store: " + outcome.status.message};
      continue;
    }
    while (p < assignment.size() && active_) {
      std::vector<TxnOp> chunk;
      for (size_t end = std::min(assignment.size(), p + kPartitionsPerTxn); p < end; ++p) {
        chunk.push_back(TxnOp::put(keys_.partition(topic.name, static_cast<int32_t>(p)),
                                   encode(initial_state(*image, assignment[p]))));
      }
      std::vector<Compare> same_topic{Compare::value_is(keys_.topic(topic.name), encoded)};
      outcome = co_await commit(std::move(same_topic), std::move(chunk));
      if (!outcome.status.ok() || !outcome.succeeded) break;  // the next controller's reconcile writes the rest
    }
    out.id = record.id;
    accepted.push_back(topic.name);
    spdlog::info("controller: created topic {} ({} partitions, replication factor {}, id {})", topic.name, partitions,
                 replication_factor, record.id.to_base64());
  }
  guard.release();
  if (!accepted.empty()) co_await view_.wait_for_revision(last_write_revision_, Clock::now() + std::chrono::seconds(10));
  co_return results;
}

asio::awaitable<std::vector<AdminResult>> Controller::delete_topics(const std::vector<std::string>& names) {
  std::vector<AdminResult> results(names.size());
  AsyncMutex::Guard guard;
  const auto image = co_await begin(guard);
  if (!image) {
    std::fill(results.begin(), results.end(), kNotController);
    co_return results;
  }
  bool wrote = false;
  for (size_t i = 0; i < names.size(); ++i) {
    const TopicImage* topic = image->topic(names[i]);
    if (!topic) {
      results[i] = {ErrorCode::kUnknownTopicOrPartition, "This server does not host this topic."};
      continue;
    }
    std::vector<Compare> unchanged{Compare::mod_revision_is(keys_.topic(names[i]), topic->record_revision)};
    std::vector<TxnOp> deletions{TxnOp::del(keys_.topic(names[i])), TxnOp::del(keys_.config(names[i])),
                                 TxnOp::del_prefix(keys_.partitions_of(names[i]))};
    auto outcome = co_await commit(std::move(unchanged), std::move(deletions));
    if (!outcome.status.ok()) {
      results[i] = {ErrorCode::kRequestTimedOut, "metadata store: " + outcome.status.message};
    } else if (!outcome.succeeded) {
      results[i] = active_ ? AdminResult{ErrorCode::kUnknownTopicOrPartition, "The topic changed meanwhile."}
                           : kNotController;
    } else {
      wrote = true;
      spdlog::info("controller: deleted topic {}", names[i]);
    }
  }
  guard.release();
  if (wrote) co_await view_.wait_for_revision(last_write_revision_, Clock::now() + std::chrono::seconds(10));
  co_return results;
}

asio::awaitable<AdminResult> Controller::create_partitions(const std::string& name, int32_t total,
                                                           const std::vector<std::vector<int32_t>>& assignments,
                                                           bool validate_only) {
  AsyncMutex::Guard guard;
  const auto image = co_await begin(guard);
  if (!image) co_return kNotController;
  const TopicImage* topic = image->topic(name);
  if (!topic) co_return AdminResult{ErrorCode::kUnknownTopicOrPartition, "This server does not host this topic."};
  const int32_t current = topic->partition_count();
  if (total <= current) {
    co_return AdminResult{ErrorCode::kInvalidPartitions,
                          fmt::format("Topic currently has {} partitions, which is higher than the requested {}.",
                                      current, total)};
  }
  if (total > kMaxPartitionsPerTopic) {
    co_return AdminResult{ErrorCode::kInvalidPartitions,
                          fmt::format("Number of partitions exceeds the limit of {} per topic.", kMaxPartitionsPerTopic)};
  }
  size_t replication_factor = 1;
  if (const PartitionEntry* first = topic->partition(0)) replication_factor = target_replicas(first->state).size();
  if (!assignments.empty()) {
    if (static_cast<int32_t>(assignments.size()) != total - current) {
      co_return AdminResult{ErrorCode::kInvalidReplicaAssignment,
                            fmt::format("Increasing the number of partitions by {} but {} assignments provided.",
                                        total - current, assignments.size())};
    }
    if (auto check = check_explicit_assignment(*image, assignments, replication_factor); !check.ok()) co_return check;
  } else if (static_cast<int32_t>(replication_factor) > eligible_brokers(*image)) {
    co_return AdminResult{ErrorCode::kInvalidReplicationFactor,
                          fmt::format("Replication factor: {} larger than available brokers: {}.", replication_factor,
                                      eligible_brokers(*image))};
  }
  if (validate_only) co_return AdminResult{};
  auto assignment = assignments.empty()
                        ? place(*image, current, total - current, static_cast<int32_t>(replication_factor))
                        : assignments;
  TopicRecord record = *topic->record;
  record.partitions = total;
  const std::string encoded = encode(record);
  std::vector<TxnOp> ops{TxnOp::put(keys_.topic(name), encoded)};
  size_t i = 0;
  for (; i < assignment.size() && i < kPartitionsPerTxn; ++i)
    ops.push_back(TxnOp::put(keys_.partition(name, current + static_cast<int32_t>(i)),
                             encode(initial_state(*image, assignment[i]))));
  std::vector<Compare> unchanged{Compare::mod_revision_is(keys_.topic(name), topic->record_revision)};
  auto outcome = co_await commit(std::move(unchanged), std::move(ops));
  if (!outcome.status.ok()) co_return AdminResult{ErrorCode::kRequestTimedOut, "metadata store: " + outcome.status.message};
  if (!outcome.succeeded) {
    co_return active_ ? AdminResult{ErrorCode::kInvalidPartitions, "The topic changed meanwhile; try again."}
                      : kNotController;
  }
  while (i < assignment.size() && active_) {
    std::vector<TxnOp> chunk;
    for (size_t end = std::min(assignment.size(), i + kPartitionsPerTxn); i < end; ++i)
      chunk.push_back(TxnOp::put(keys_.partition(name, current + static_cast<int32_t>(i)),
                                 encode(initial_state(*image, assignment[i]))));
    std::vector<Compare> same_topic{Compare::value_is(keys_.topic(name), encoded)};
    outcome = co_await commit(std::move(same_topic), std::move(chunk));
    if (!outcome.status.ok() || !outcome.succeeded) break;
  }
  spdlog::info("controller: topic {} now has {} partitions", name, total);
  guard.release();
  co_await view_.wait_for_revision(last_write_revision_, Clock::now() + std::chrono::seconds(10));
  co_return AdminResult{};
}

asio::awaitable<AdminResult> Controller::set_topic_configs(const std::string& name, const ConfigMap& configs) {
  AsyncMutex::Guard guard;
  const auto image = co_await begin(guard);
  if (!image) co_return kNotController;
  const TopicImage* topic = image->topic(name);
  if (!topic) co_return AdminResult{ErrorCode::kUnknownTopicOrPartition, "Topic " + name + " does not exist"};
  const std::string key = keys_.config(name);
  std::vector<Compare> unchanged{
      Compare::mod_revision_is(keys_.topic(name), topic->record_revision),
      topic->configs_revision > 0 ? Compare::mod_revision_is(key, topic->configs_revision) : Compare::absent(key)};
  std::vector<TxnOp> write{configs.empty() ? TxnOp::del(key) : TxnOp::put(key, encode_configs(configs))};
  auto outcome = co_await commit(std::move(unchanged), std::move(write));
  if (!outcome.status.ok()) co_return AdminResult{ErrorCode::kRequestTimedOut, "metadata store: " + outcome.status.message};
  if (!outcome.succeeded) {
    co_return active_ ? AdminResult{ErrorCode::kInvalidRequest, "The topic's configs changed meanwhile; try again."}
                      : kNotController;
  }
  guard.release();
  co_await view_.wait_for_revision(last_write_revision_, Clock::now() + std::chrono::seconds(10));
  co_return AdminResult{};
}

asio::awaitable<std::vector<IsrChangeResult>> Controller::change_isr(const std::vector<IsrChange>& changes) {
  std::vector<IsrChangeResult> results(changes.size());
  AsyncMutex::Guard guard;
  const auto image = co_await begin(guard);
  if (!image) {
    for (auto& r : results) r.error = ErrorCode::kNotController;
    co_return results;
  }
  const auto live = liveness(*image);
  for (size_t i = 0; i < changes.size(); ++i) {
    const auto& change = changes[i];
    const TopicImage* topic =
        change.topic_id.is_zero() ? image->topic(change.partition.topic) : image->topic(change.topic_id);
    const PartitionEntry* entry = topic ? topic->partition(change.partition.partition) : nullptr;
    if (!entry) {
      results[i].error = change.topic_id.is_zero() ? ErrorCode::kUnknownTopicOrPartition : ErrorCode::kUnknownTopicId;
      continue;
    }
    const BrokerRegistration* requester = image->broker(change.request.broker_id);
    if (!requester) {
      results[i].error = ErrorCode::kStaleBrokerEpoch;
      continue;
    }
    auto result = cluster::change_isr(entry->state, change.request, live, requester->epoch);
    if (result.error != ErrorCode::kNone) {
      results[i] = result;
      continue;
    }
    if (!result.state) {
      results[i].state = entry->state;  // already so
      continue;
    }
    std::vector<PartitionWrite> write{{topic->name, change.partition.partition, *result.state, entry->mod_revision}};
    auto outcome = co_await commit_partitions(write);
    if (!outcome.status.ok()) {
      results[i].error = ErrorCode::kRequestTimedOut;
    } else if (!outcome.succeeded) {
      results[i].error = active_ ? ErrorCode::kInvalidUpdateVersion : ErrorCode::kNotController;
    } else {
      results[i] = result;
      spdlog::info("controller: {}-{} ISR {} -> {} (partition epoch {})", topic->name, change.partition.partition,
                   fmt::join(entry->state.isr, ","), fmt::join(result.state->isr, ","), result.state->partition_epoch);
    }
  }
  co_return results;
}

asio::awaitable<std::vector<std::pair<PartitionRef, AdminResult>>> Controller::elect_leaders(
    int8_t type, const std::optional<std::vector<PartitionRef>>& partitions) {
  std::vector<std::pair<PartitionRef, AdminResult>> results;
  AsyncMutex::Guard guard;
  const auto image = co_await begin(guard);
  std::vector<PartitionRef> targets;
  if (partitions) {
    targets = *partitions;
  } else if (image) {
    for (const auto* topic : image->existing_topics())
      for (int32_t p = 0; p < topic->partition_count(); ++p) targets.push_back({topic->name, p});
  }
  if (!image) {
    for (const auto& t : targets) results.push_back({t, kNotController});
    co_return results;
  }
  const auto live = liveness(*image);
  std::vector<PartitionWrite> writes;
  for (const auto& target : targets) {
    const PartitionEntry* entry = image->partition(target.topic, target.partition);
    if (!entry) {
      results.push_back({target, {ErrorCode::kUnknownTopicOrPartition, "This server does not host this topic-partition."}});
      continue;
    }
    ErrorCode error = ErrorCode::kNone;
    auto next = type == 1 ? elect_unclean_leader(entry->state, live, &error) : elect_preferred_leader(entry->state, live, &error);
    if (!next) {
      // Elections of every partition skip those that need none, as Kafka does.
      if (!partitions && error == ErrorCode::kElectionNotNeeded) continue;
      results.push_back({target, {error, std::string(error_name(error))}});
      continue;
    }
    writes.push_back({target.topic, target.partition, std::move(*next), entry->mod_revision});
    results.push_back({target, {}});
  }
  if (!writes.empty()) {
    const auto outcome = co_await commit_partitions(writes);
    if (outcome.status.ok() && outcome.succeeded) leader_elections_ += writes.size();
    if (!outcome.status.ok() || !outcome.succeeded) {
      const AdminResult failed = active_ ? AdminResult{ErrorCode::kRequestTimedOut, "the election could not be written"}
                                         : kNotController;
      for (auto& [ref, result] : results)
        if (result.ok()) result = failed;
    }
    guard.release();
    co_await view_.wait_for_revision(last_write_revision_, Clock::now() + std::chrono::seconds(10));
  }
  co_return results;
}

asio::awaitable<std::vector<AdminResult>> Controller::reassign(const std::vector<Reassignment>& reassignments) {
  std::vector<AdminResult> results(reassignments.size());
  AsyncMutex::Guard guard;
  const auto image = co_await begin(guard);
  if (!image) {
    std::fill(results.begin(), results.end(), kNotController);
    co_return results;
  }
  const auto live = liveness(*image);
  bool wrote = false;
  for (size_t i = 0; i < reassignments.size(); ++i) {
    const auto& r = reassignments[i];
    const PartitionEntry* entry = image->partition(r.partition.topic, r.partition.partition);
    if (!entry) {
      results[i] = {ErrorCode::kUnknownTopicOrPartition, "This server does not host this topic-partition."};
      continue;
    }
    if (r.target && r.target->empty()) {  // null cancels; an empty list is a mistake (as in Kafka)
      results[i] = {ErrorCode::kInvalidReplicaAssignment, "The replica list is empty."};
      continue;
    }
    ErrorCode error = ErrorCode::kNone;
    auto next = start_reassignment(entry->state, r.target.value_or(std::vector<int32_t>{}), live, &error);
    if (!next) {
      if (error != ErrorCode::kNone) results[i] = {error, std::string(error_name(error))};
      continue;  // already there
    }
    std::vector<PartitionWrite> write{{r.partition.topic, r.partition.partition, *next, entry->mod_revision}};
    const auto outcome = co_await commit_partitions(write);
    if (!outcome.status.ok() || !outcome.succeeded) {
      results[i] = active_ ? AdminResult{ErrorCode::kRequestTimedOut, "the reassignment could not be written"}
                           : kNotController;
      continue;
    }
    wrote = true;
    spdlog::info("controller: reassigning {}-{} from {} to {}", r.partition.topic, r.partition.partition,
                 fmt::join(entry->state.replicas, ","), fmt::join(target_replicas(*next), ","));
  }
  guard.release();
  if (wrote) co_await view_.wait_for_revision(last_write_revision_, Clock::now() + std::chrono::seconds(10));
  co_return results;
}

}  // namespace runnel::cluster
