#include "cluster/membership.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cluster/store_await.h"

namespace runnel::cluster {
namespace {

using Clock = std::chrono::steady_clock;

asio::awaitable<void> sleep_for(const asio::any_io_executor& executor, std::chrono::milliseconds duration) {
  asio::steady_timer timer(executor, duration);
  asio::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

std::string describe(const BrokerRegistration& broker) {
  std::string where;
  for (const auto& e : broker.endpoints) where += (where.empty() ? "" : ",") + fmt::format("{}:{}", e.host, e.port);
  return where.empty() ? std::string("an unknown address") : where;
}

}  // namespace

Membership::Membership(asio::any_io_executor executor, MetadataStore& store, const MetadataKeys& keys,
                       MetadataView& view, MembershipConfig config)
    : executor_(std::move(executor)),
      store_(store),
      keys_(keys),
      view_(view),
      config_(std::move(config)),
      lost_event_(executor_) {}

Membership::~Membership() {
  *alive_ = false;
  stopping_ = true;
  lost_event_.notify();
}

asio::awaitable<bool> Membership::open_session() {
  auto alive = alive_;
  // A local, not a temporary in the co_await expression: GCC 12 destroys such
  // temporaries twice.
  std::function<void()> lost = [this, alive] {
    if (*alive) session_lost();
  };
  auto [status, lease] =
      co_await co_open_session(store_, config_.session_timeout_ms, config_.heartbeat_interval_ms, std::move(lost));
  if (!status.ok()) co_return false;
  lease_ = lease;
  session_lost_ = false;
  co_return true;
}

asio::awaitable<Membership::Outcome> Membership::try_register(std::string* detail) {
  const std::string key = keys_.broker(config_.registration.id);
  BrokerRegistration mine = config_.registration;
  mine.shutting_down = shutting_down_;
  Txn txn;
  txn.compares = {Compare::absent(key)};
  txn.success = {TxnOp::put(key, encode(mine), lease_), TxnOp::get(key)};
  txn.failure = {TxnOp::get(key)};
  auto [status, result] = co_await co_txn(store_, txn);
  if (!status.ok()) {
    *detail = status.message;
    co_return Outcome::kStoreError;
  }
  if (result.succeeded) {
    broker_epoch_ = result.gets.empty() || result.gets[0].empty() ? result.revision : result.gets[0][0].create_revision;
    co_return Outcome::kRegistered;
  }
  if (result.gets.empty() || result.gets[0].empty()) co_return Outcome::kStoreError;  // gone meanwhile: try again
  const KeyValue& existing = result.gets[0][0];
  auto holder = decode_broker(existing.value);
  if (holder && holder->incarnation == config_.registration.incarnation && existing.lease != lease_) {
    // Our own registration from before a restart (same data dir) whose session has
    // not expired yet: remove it; the next attempt registers afresh, with a new epoch.
    Txn takeover;
    takeover.compares = {Compare::mod_revision_is(key, existing.mod_revision)};
    takeover.success = {TxnOp::del(key)};
    auto [takeover_status, takeover_result] = co_await co_txn(store_, takeover);
    if (!takeover_status.ok()) {
      *detail = takeover_status.message;
      co_return Outcome::kStoreError;
    }
    spdlog::info("replaced this broker's registration from before its restart");
    co_return Outcome::kStoreError;  // not an error: retry at once
  }
  *detail = holder ? describe(*holder) : std::string("an unreadable registration");
  co_return Outcome::kDuplicate;
}

asio::awaitable<void> Membership::register_broker(Clock::time_point deadline) {
  // A registration of another process keeps the node id for at most one session
  // timeout after that process died: wait that long before calling it a duplicate.
  std::optional<Clock::time_point> duplicate_deadline;
  std::string last_problem = "no answer";
  while (!stopping_) {
    if (lease_ == 0 || session_lost_) {
      const bool opened = co_await open_session();
      if (!opened) {
        last_problem = "cannot open a session";
        if (Clock::now() >= deadline) throw StartupError(last_problem);
        co_await sleep_for(executor_, std::chrono::milliseconds(500));
        continue;
      }
    }
    std::string detail;
    const Outcome outcome = co_await try_register(&detail);
    if (outcome == Outcome::kRegistered) {
      spdlog::info("registered as broker {} (broker epoch {}, session {:x})", config_.registration.id, broker_epoch_,
                   lease_);
      co_return;
    }
    if (outcome == Outcome::kDuplicate) {
      if (!duplicate_deadline)
        duplicate_deadline = Clock::now() + std::chrono::milliseconds(config_.session_timeout_ms + 1000);
      if (Clock::now() >= *duplicate_deadline) {
        throw StartupError(fmt::format(
            "node.id {} is already registered by a live broker at {}; give each broker its own node.id",
            config_.registration.id, detail));
      }
    } else {
      last_problem = detail;
      if (Clock::now() >= deadline) throw StartupError(last_problem);
    }
    co_await sleep_for(executor_, std::chrono::milliseconds(outcome == Outcome::kStoreError && detail.empty() ? 0 : 300));
  }
}

void Membership::start() {
  asio::co_spawn(executor_, keep_registered(), asio::detached);
}

void Membership::session_lost() {
  if (stopping_ || session_lost_) return;
  session_lost_ = true;
  ++sessions_lost_;
  spdlog::warn("broker {}: metadata store session lost (no keep-alive for {} ms); registering again when it answers",
               config_.registration.id, config_.session_timeout_ms);
  notify(false);
  lost_event_.notify();
}

asio::awaitable<void> Membership::keep_registered() {
  auto alive = alive_;
  while (*alive && !stopping_) {
    if (!session_lost_) {
      co_await lost_event_.wait();
      continue;
    }
    const bool opened = co_await open_session();
    if (!opened) {
      co_await sleep_for(executor_, std::chrono::milliseconds(500));
      continue;
    }
    std::string detail;
    Outcome outcome = Outcome::kStoreError;
    while (*alive && !stopping_ && !session_lost_) {
      outcome = co_await try_register(&detail);
      if (outcome == Outcome::kRegistered) break;
      if (outcome == Outcome::kDuplicate) {
        spdlog::error("broker {}: cannot register again: node id held by {}", config_.registration.id, detail);
      }
      co_await sleep_for(executor_, std::chrono::milliseconds(500));
    }
    if (outcome == Outcome::kRegistered && !session_lost_) {
      spdlog::info("broker {}: registered again (broker epoch {})", config_.registration.id, broker_epoch_);
      notify(true);
    }
  }
}

asio::awaitable<bool> Membership::announce_shutdown() {
  shutting_down_ = true;
  if (!registered()) co_return false;
  const std::string key = keys_.broker(config_.registration.id);
  BrokerRegistration mine = config_.registration;
  mine.shutting_down = true;
  Txn txn;
  txn.compares = {Compare{key, Compare::Target::kLease, Compare::Result::kEqual, lease_, {}}};
  txn.success = {TxnOp::put(key, encode(mine), lease_)};
  auto [status, result] = co_await co_txn(store_, txn);
  co_return status.ok() && result.succeeded;
}

asio::awaitable<void> Membership::deregister() {
  stopping_ = true;
  lost_event_.notify();
  if (lease_ != 0) co_await co_close_session(store_, lease_);
  lease_ = 0;
}

void Membership::notify(bool registered) {
  for (const auto& listener : listeners_) listener(registered);
}

}  // namespace runnel::cluster
