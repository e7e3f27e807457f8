// The controller's election, its fenced writes, and the duties it performs on
// its own: leader elections as brokers come and go, partitions whose state was
// never written, completed reassignments, preferred-leader rebalancing.
#include "cluster/controller.h"

#include <algorithm>
#include <map>
#include <set>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "cluster/replica_placement.h"
#include "cluster/store_await.h"

namespace runnel::cluster {
namespace {

using Clock = std::chrono::steady_clock;

// etcd refuses transactions with more than --max-txn-ops (128 by default)
// operations or compares: partition states go in chunks below that.
constexpr size_t kMaxOpsPerTxn = 64;

bool brokers_differ(const MetadataImage& a, const MetadataImage& b) {
  if (a.brokers.size() != b.brokers.size()) return true;
  for (auto ia = a.brokers.begin(), ib = b.brokers.begin(); ia != a.brokers.end(); ++ia, ++ib) {
    if (ia->first != ib->first || ia->second.epoch != ib->second.epoch ||
        ia->second.shutting_down != ib->second.shutting_down)
      return true;
  }
  return false;
}

}  // namespace

Controller::Controller(asio::any_io_executor executor, MetadataStore& store, const MetadataKeys& keys,
                       MetadataView& view, Membership& membership, const TopicConfigResolver& resolver,
                       ControllerConfig config)
    : executor_(std::move(executor)),
      store_(store),
      keys_(keys),
      view_(view),
      membership_(membership),
      resolver_(resolver),
      config_(std::move(config)),
      image_changed_(executor_),
      duty_needed_(executor_),
      rebalance_timer_(executor_) {
  view_.subscribe([this, alive = alive_](const ImagePtr& previous, const ImagePtr& current) {
    if (*alive) on_image(previous, current);
  });
  membership_.on_session_change([this, alive = alive_](bool registered) {
    if (!*alive) return;
    if (!registered) step_down("this broker's session was lost");
    image_changed_.notify();
  });
}

Controller::~Controller() {
  *alive_ = false;
  stopping_ = true;
}

void Controller::start() {
  asio::co_spawn(executor_, campaign_loop(), asio::detached);
  asio::co_spawn(executor_, duty_loop(), asio::detached);
}

void Controller::step_down(const char* why) {
  if (!active_) return;
  active_ = false;
  spdlog::warn("no longer the controller (epoch {}): {}", epoch_, why);
}

void Controller::on_image(const ImagePtr& previous, const ImagePtr& current) {
  if (active_ && current->revision >= record_revision_ &&
      (!current->controller || current->controller->mod_revision != record_revision_)) {
    step_down(current->controller ? "another broker is the controller" : "the controller record is gone");
  }
  if (!active_) {
    // Whoever becomes controller looks at everything first.
  } else if (!previous || brokers_differ(*previous, *current)) {
    reconcile_all_ = true;
  } else {
    for (const auto& [name, topic] : current->topics) {
      auto it = previous->topics.find(name);
      if (it == previous->topics.end() || it->second != topic) changed_topics_.push_back(name);
    }
  }
  image_changed_.notify();
  if (active_) duty_needed_.notify();
}

asio::awaitable<void> Controller::campaign_loop() {
  auto alive = alive_;
  while (*alive && !stopping_) {
    const auto& image = view_.image();
    if (!active_ && membership_.registered() && !image->controller) {
      if (co_await campaign()) continue;
    }
    // Also wake periodically: a failed attempt is retried even without news.
    co_await image_changed_.wait_until(Clock::now() + std::chrono::seconds(1));
  }
}

asio::awaitable<bool> Controller::campaign() {
  const auto image = view_.image();
  const int64_t epoch = image->controller_epoch + 1;
  Txn txn;
  txn.compares = {Compare::absent(keys_.controller()),
                  image->controller_epoch_revision > 0
                      ? Compare::mod_revision_is(keys_.controller_epoch(), image->controller_epoch_revision)
                      : Compare::absent(keys_.controller_epoch())};
  txn.success = {TxnOp::put(keys_.controller(), encode(ControllerRecord{config_.node_id, epoch, 0}), membership_.lease()),
                 TxnOp::put(keys_.controller_epoch(), std::to_string(epoch)), TxnOp::get(keys_.controller())};
  auto [status, result] = co_await co_txn(store_, txn);
  if (!status.ok() || !result.succeeded || result.gets.empty() || result.gets[0].empty()) co_return false;
  record_revision_ = result.gets[0][0].mod_revision;
  last_write_revision_ = result.revision;
  epoch_ = epoch;
  active_ = true;
  reconcile_all_ = true;
  ++elections_won_;
  spdlog::info("broker {} is now the controller (epoch {})", config_.node_id, epoch_);
  duty_needed_.notify();
  co_return true;
}

asio::awaitable<void> Controller::resign() {
  stopping_ = true;
  if (!active_) co_return;
  active_ = false;
  Txn txn;
  txn.compares = {Compare::mod_revision_is(keys_.controller(), record_revision_)};
  txn.success = {TxnOp::del(keys_.controller())};
  co_await co_txn(store_, txn);
  spdlog::info("resigned as controller (epoch {})", epoch_);
}

asio::awaitable<ImagePtr> Controller::begin(AsyncMutex::Guard& guard) {
  guard = co_await mutex_.lock();
  if (!active_) co_return nullptr;
  // Decide only on an image that holds every write this controller made.
  const bool caught_up = co_await view_.wait_for_revision(last_write_revision_, Clock::now() + std::chrono::seconds(10));
  if (!caught_up) {
    spdlog::warn("controller: the metadata image is not catching up with revision {}; not deciding",
                 last_write_revision_);
    co_return nullptr;
  }
  if (!active_) co_return nullptr;
  co_return view_.image();
}

asio::awaitable<Controller::WriteOutcome> Controller::commit(std::vector<Compare> compares, std::vector<TxnOp> ops) {
  WriteOutcome outcome;
  if (!active_) {
    outcome.status = {StoreCode::kInvalid, "not the controller"};
    co_return outcome;
  }
  Txn txn;
  txn.compares.push_back(Compare::mod_revision_is(keys_.controller(), record_revision_));
  for (auto& c : compares) txn.compares.push_back(std::move(c));
  txn.success = std::move(ops);
  txn.failure = {TxnOp::get(keys_.controller())};
  auto [status, result] = co_await co_txn(store_, std::move(txn));
  outcome.status = status;
  if (!status.ok()) {
    // The outcome is unknown: make the next decision wait for whatever the store has now.
    last_write_revision_ = std::max(last_write_revision_, store_.health().revision);
    co_return outcome;
  }
  outcome.revision = result.revision;
  outcome.succeeded = result.succeeded;
  if (result.succeeded) {
    last_write_revision_ = std::max(last_write_revision_, result.revision);
  } else {
    const bool still_ours = !result.gets.empty() && !result.gets[0].empty() &&
                            result.gets[0][0].mod_revision == record_revision_;
    if (!still_ours) step_down("its record changed (deposed while it was away)");
    // A compare on a partition failed: our image was behind; wait for the news.
    last_write_revision_ = std::max(last_write_revision_, result.revision);
  }
  co_return outcome;
}

asio::awaitable<Controller::WriteOutcome> Controller::commit_partitions(const std::vector<PartitionWrite>& writes) {
  WriteOutcome last;
  last.succeeded = true;
  for (size_t begin = 0; begin < writes.size(); begin += kMaxOpsPerTxn) {
    std::vector<Compare> compares;
    std::vector<TxnOp> ops;
    for (size_t i = begin; i < std::min(writes.size(), begin + kMaxOpsPerTxn); ++i) {
      const auto& w = writes[i];
      const std::string key = keys_.partition(w.topic, w.partition);
      compares.push_back(w.expected_revision > 0 ? Compare::mod_revision_is(key, w.expected_revision)
                                                 : Compare::absent(key));
      ops.push_back(TxnOp::put(key, encode(w.state)));
    }
    last = co_await commit(std::move(compares), std::move(ops));
    if (!last.status.ok() || !last.succeeded) co_return last;
  }
  co_return last;
}

BrokerLiveness Controller::liveness(const MetadataImage& image) const {
  auto brokers = std::make_shared<std::map<int32_t, std::pair<bool, int64_t>>>();
  for (const auto& [id, b] : image.brokers) (*brokers)[id] = {b.shutting_down, b.epoch};
  return BrokerLiveness{[brokers](int32_t id) { return brokers->count(id) > 0; },
                        [brokers](int32_t id) {
                          auto it = brokers->find(id);
                          return it != brokers->end() && it->second.first;
                        },
                        [brokers](int32_t id) -> int64_t {
                          auto it = brokers->find(id);
                          return it == brokers->end() ? 0 : it->second.second;
                        }};
}

bool Controller::unclean_allowed(const TopicImage& topic) const {
  return resolver_.value(topic.configs, "unclean.leader.election.enable") == "true";
}

std::vector<std::vector<int32_t>> Controller::place(const MetadataImage& image, int32_t first, int32_t count,
                                                    int32_t replication_factor) const {
  std::map<int32_t, int32_t> preferred;
  for (const auto* topic : image.existing_topics()) {
    for (const auto& entry : topic->partitions) {
      if (!entry) continue;
      const auto target = target_replicas(entry->state);
      if (!target.empty()) ++preferred[target.front()];
    }
  }
  std::vector<PlacementBroker> brokers;
  for (const auto& [id, b] : image.brokers) {
    if (b.shutting_down) continue;
    brokers.push_back({id, b.rack, preferred[id]});
  }
  return place_replicas(std::move(brokers), first, count, replication_factor);
}

PartitionState Controller::initial_state(const MetadataImage& image, std::vector<int32_t> replicas) const {
  PartitionState state;
  state.replicas = std::move(replicas);
  const auto live = liveness(image);
  for (int32_t r : state.replicas)
    if (live.eligible(r)) state.isr.push_back(r);
  if (state.isr.empty()) {
    state.isr = state.replicas;  // nobody is up: whoever comes first may lead
  } else {
    state.leader = state.isr.front();
    state.leader_broker_epoch = live.epoch(state.leader);
  }
  return state;
}

asio::awaitable<void> Controller::duty_loop() {
  auto alive = alive_;
  auto next_rebalance = Clock::now() + std::chrono::milliseconds(config_.leader_imbalance_check_interval_ms);
  while (*alive && !stopping_) {
    co_await duty_needed_.wait_until(next_rebalance);
    if (!*alive || stopping_) break;
    if (!active_) continue;
    AsyncMutex::Guard guard;
    const auto image = co_await begin(guard);
    if (!image) continue;
    const bool all = std::exchange(reconcile_all_, false);
    co_await reconcile(*image, all);
    if (Clock::now() >= next_rebalance) {
      next_rebalance = Clock::now() + std::chrono::milliseconds(config_.leader_imbalance_check_interval_ms);
      // On an image that holds what reconcile just wrote: its compares would fail otherwise.
      const bool caught_up =
          co_await view_.wait_for_revision(last_write_revision_, Clock::now() + std::chrono::seconds(10));
      if (active_ && caught_up) co_await rebalance_leaders(*view_.image());
    }
  }
}

asio::awaitable<void> Controller::reconcile(const MetadataImage& image, bool all_topics) {
  std::vector<std::string> names;
  if (all_topics) {
    changed_topics_.clear();
    for (const auto* t : image.existing_topics()) names.push_back(t->name);
  } else {
    names.swap(changed_topics_);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
  }
  const auto live = liveness(image);
  std::vector<PartitionWrite> writes;
  uint64_t elections = 0;
  for (const auto& name : names) {
    const TopicImage* topic = image.topic(name);
    if (!topic) continue;
    const bool unclean = unclean_allowed(*topic);
    int32_t replication_factor = config_.default_replication_factor;
    for (const auto& entry : topic->partitions) {
      if (entry) {
        replication_factor = static_cast<int32_t>(target_replicas(entry->state).size());
        break;
      }
    }
    for (int32_t p = 0; p < topic->partition_count(); ++p) {
      const PartitionEntry* entry = topic->partition(p);
      if (!entry) {
        // Left unwritten by a controller that stopped half-way through a creation.
        auto replicas = place(image, p, 1, std::min<int32_t>(replication_factor, static_cast<int32_t>(image.brokers.size())));
        if (replicas.empty()) continue;
        writes.push_back({name, p, initial_state(image, replicas.front()), 0});
        continue;
      }
      auto next = reconcile_partition(entry->state, live, unclean);
      if (!next) next = complete_reassignment(entry->state, live);
      if (!next) continue;
      if (next->leader != entry->state.leader) {
        if (next->leader >= 0) ++elections;  // going offline is no election
        spdlog::info("controller: {}-{} leader {} -> {} (epoch {}, ISR {})", name, p, entry->state.leader, next->leader,
                     next->leader_epoch, fmt::join(next->isr, ","));
      }
      writes.push_back({name, p, std::move(*next), entry->mod_revision});
    }
  }
  if (writes.empty()) co_return;
  const auto outcome = co_await commit_partitions(writes);
  if (outcome.status.ok() && outcome.succeeded) leader_elections_ += elections;  // only what was written
  if (!outcome.status.ok()) {
    spdlog::warn("controller: writing {} partition changes failed: {}", writes.size(), outcome.status.message);
    reconcile_all_ = true;
    duty_needed_.notify();
  } else if (!outcome.succeeded) {
    reconcile_all_ = true;  // something moved under us: look again on the newer image
    duty_needed_.notify();
  }
}

asio::awaitable<void> Controller::rebalance_leaders(const MetadataImage& image) {
  if (!config_.auto_leader_rebalance_enable) co_return;
  const auto live = liveness(image);
  // Per broker: partitions it should lead, and those it does not.
  std::map<int32_t, std::pair<int32_t, int32_t>> counts;
  for (const auto* topic : image.existing_topics()) {
    for (const auto& entry : topic->partitions) {
      if (!entry) continue;
      const auto target = target_replicas(entry->state);
      if (target.empty()) continue;
      auto& [preferred, elsewhere] = counts[target.front()];
      ++preferred;
      if (entry->state.leader != target.front()) ++elsewhere;
    }
  }
  std::set<int32_t> imbalanced;
  for (const auto& [broker, c] : counts) {
    if (c.first > 0 && c.second * 100 > c.first * config_.leader_imbalance_per_broker_percentage) imbalanced.insert(broker);
  }
  if (imbalanced.empty()) co_return;
  std::vector<PartitionWrite> writes;
  for (const auto* topic : image.existing_topics()) {
    for (int32_t p = 0; p < topic->partition_count(); ++p) {
      const PartitionEntry* entry = topic->partition(p);
      if (!entry) continue;
      const auto target = target_replicas(entry->state);
      if (target.empty() || !imbalanced.count(target.front())) continue;
      if (auto next = elect_preferred_leader(entry->state, live)) {
        writes.push_back({topic->name, p, std::move(*next), entry->mod_revision});
      }
    }
  }
  if (writes.empty()) co_return;
  spdlog::info("controller: moving {} leaderships back to their preferred replicas", writes.size());
  const auto outcome = co_await commit_partitions(writes);
  if (outcome.status.ok() && outcome.succeeded) leader_elections_ += writes.size();
}

}  // namespace runnel::cluster
