#pragma once
// One etcd watch on its own Watch stream. It asks for a progress report every
// progress interval, reconnects with backoff when the stream breaks or stalls
// (etcd stopped, paused, restarted), resuming at the revision after the last one
// delivered, and ends only when etcd no longer has that revision (kCompacted).
//
// etcd before 3.4.24/3.5.8 may answer a progress request before it has sent
// every event up to the reported revision (etcd issue #15220). So a progress
// report is held back until the next response shows it was not early: the next
// progress report, or events past it. Reports reach the watcher one interval
// late, but never ahead of an event, and resuming never skips one.
// Runs on the Runtime's thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cluster/callback_gate.h"
#include "cluster/etcd_runtime.h"
#include "cluster/etcd_stream.h"
#include "cluster/health_tracker.h"
#include "rpc.grpc.pb.h"

namespace runnel::cluster::etcd {

class WatchStream : public std::enable_shared_from_this<WatchStream> {
 public:
  struct Settings {
    std::string prefix;
    int64_t from_revision = 0;  // <= 0: from now
    int64_t progress_interval_ms = 1000;
    int64_t stall_timeout_ms = 4000;  // nothing heard for this long: reconnect
    int64_t backoff_max_ms = 2000;
  };
  // Both run on the runtime thread and only post to the executor.
  using Deliver = std::function<void(std::vector<WatchEvent> events, int64_t revision)>;
  using Fail = std::function<void(StoreStatus status)>;

  WatchStream(Runtime& runtime, etcdserverpb::Watch::Stub& stub, HealthTracker& health, Settings settings,
              LiveFlag live, Deliver deliver, Fail fail);

  void start();
  void stop();
  bool ended() const { return stopped_; }

 private:
  using Stream = BidiStream<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>;
  void open_stream();
  void tick();
  void on_ready();
  void on_response(const etcdserverpb::WatchResponse& response);
  void on_progress(int64_t revision);
  void on_closed(const grpc::Status& status);

  Runtime& runtime_;
  etcdserverpb::Watch::Stub& stub_;
  HealthTracker& health_;
  const Settings settings_;
  const std::string range_end_;
  LiveFlag live_;
  Deliver deliver_;
  Fail fail_;
  Timer tick_timer_;
  Timer retry_timer_;
  std::shared_ptr<Stream> stream_;
  bool created_ = false;
  int64_t next_revision_ = 0;    // where a new stream starts: after the last revision delivered
  int64_t held_progress_ = 0;    // a progress report not yet known to be safe to deliver
  int64_t last_heard_ms_ = 0;
  int64_t backoff_ms_ = 0;
  bool stopped_ = false;
};

}  // namespace runnel::cluster::etcd
