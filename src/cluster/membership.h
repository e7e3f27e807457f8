#pragma once
// This broker's membership: its registration {node.id, listeners, rack} under a
// session of broker.session.timeout.ms, kept alive every
// broker.heartbeat.interval.ms. A dead broker's registration vanishes when its
// session expires. When this broker's session is lost (it was cut off or paused
// longer than the timeout), it opens a new one and registers again as soon as
// the store answers; meanwhile the controller has moved its leaderships away.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "cluster/metadata_records.h"
#include "cluster/metadata_store.h"
#include "cluster/metadata_view.h"
#include "common/async_event.h"

namespace runnel::cluster {

struct MembershipConfig {
  BrokerRegistration registration;  // id, endpoints, rack, incarnation, inter-broker listener
  int64_t session_timeout_ms = 9000;    // broker.session.timeout.ms
  int64_t heartbeat_interval_ms = 2000;  // broker.heartbeat.interval.ms
};

// A startup failure with the one-line message the broker prints before exiting.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Membership {
 public:
  Membership(asio::any_io_executor executor, MetadataStore& store, const MetadataKeys& keys, MetadataView& view,
             MembershipConfig config);
  ~Membership();

  // Opens the session and registers. Throws StartupError when another live broker
  // holds this node id (after waiting up to one session timeout for a dead one's
  // registration to expire) or when the store does not answer by the deadline.
  asio::awaitable<void> register_broker(std::chrono::steady_clock::time_point deadline);
  // From now on, a lost session is replaced and the broker registered again.
  void start();
  // Controlled shutdown: marks the registration so the controller moves
  // leadership away and elects this broker nowhere.
  asio::awaitable<bool> announce_shutdown();
  // Clean stop: revokes the session (the registration goes at once).
  asio::awaitable<void> deregister();

  bool registered() const { return lease_ != 0 && !session_lost_; }
  int64_t lease() const { return lease_; }
  // Changes every time this broker registers (Kafka's broker epoch).
  int64_t broker_epoch() const { return broker_epoch_; }
  uint64_t sessions_lost() const { return sessions_lost_; }
  // Runs when a session is lost and when a new registration is in place.
  void on_session_change(std::function<void(bool registered)> listener) { listeners_.push_back(std::move(listener)); }

 private:
  // One attempt: kOk, or kDuplicate with the holder's description, or a store error.
  enum class Outcome { kRegistered, kDuplicate, kStoreError };
  asio::awaitable<Outcome> try_register(std::string* detail);
  asio::awaitable<bool> open_session();
  asio::awaitable<void> keep_registered();
  void session_lost();
  void notify(bool registered);

  asio::any_io_executor executor_;
  MetadataStore& store_;
  const MetadataKeys& keys_;
  MetadataView& view_;
  MembershipConfig config_;
  int64_t lease_ = 0;
  int64_t broker_epoch_ = 0;
  bool session_lost_ = false;
  bool stopping_ = false;
  bool shutting_down_ = false;
  uint64_t sessions_lost_ = 0;
  AsyncEvent lost_event_;
  std::vector<std::function<void(bool)>> listeners_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace runnel::cluster
