#pragma once
// Keeps one etcd lease alive: a LeaseKeepAlive stream (reopened when it breaks)
// carrying a keep-alive every interval. The session is lost, once, when etcd
// answers TTL <= 0 (the lease is gone) or when no keep-alive has been answered
// for ttl_ms, counted from when the answered request was sent, so that the
// broker never believes in a lease etcd may already have expired.
// Runs on the Runtime's thread.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "cluster/etcd_runtime.h"
#include "cluster/etcd_stream.h"
#include "cluster/health_tracker.h"
#include "rpc.grpc.pb.h"

namespace runnel::cluster::etcd {

class SessionKeeper : public std::enable_shared_from_this<SessionKeeper> {
 public:
  struct Settings {
    int64_t lease = 0;
    int64_t ttl_ms = 0;
    int64_t interval_ms = 0;
    int64_t granted_at_ms = 0;  // steady clock, when the LeaseGrant was sent
  };
  SessionKeeper(Runtime& runtime, etcdserverpb::Lease::Stub& stub, HealthTracker& health, Settings settings,
                std::function<void()> on_lost);

  void start();
  // No keep-alives, no on_lost any more.
  void stop();

 private:
  using Stream = BidiStream<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>;
  void tick();
  void open_stream();
  void send();
  void on_answer(const etcdserverpb::LeaseKeepAliveResponse& response);
  void on_closed(const grpc::Status& status);
  void lose(const std::string& why);

  Runtime& runtime_;
  etcdserverpb::Lease::Stub& stub_;
  HealthTracker& health_;
  const Settings settings_;
  std::function<void()> on_lost_;
  Timer timer_;
  std::shared_ptr<Stream> stream_;
  std::deque<int64_t> sent_at_ms_;  // keep-alives awaiting an answer, oldest first
  int64_t alive_at_ms_ = 0;         // send time of the newest answered keep-alive
  int64_t next_send_ms_ = 0;
  bool stopped_ = false;
};

}  // namespace runnel::cluster::etcd
