#pragma once
// The metadata store of a cluster: etcd v3 over its gRPC API. gRPC stays behind
// the pimpl (etcd_client.h): nothing that includes this header sees it.
//
// Calls are sent one at a time, in issue order, each with a deadline of
// request_timeout_ms; a call that fails or times out reports kUnavailable and is
// not retried (the caller decides). Sessions are etcd leases kept alive on
// LeaseKeepAlive streams; etcd counts lease TTLs in whole seconds, so ttl_ms is
// rounded up to at least 1 s, and etcd raises TTLs below its own minimum
// (1.5 x election timeout, rounded up: 2 s with etcd's default
// --heartbeat-interval=100 --election-timeout=1000; 1 s needs e.g. 50 and 500).
// `lost` still fires after ttl_ms without an answered keep-alive.
// Watches: see etcd_watch.h.
//
// Destroy the store (and watch handles) on the executor's thread: no callback
// runs afterwards, and the destructor only waits for gRPC to cancel what is in
// flight (no network round trip).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>

#include "cluster/metadata_store.h"

namespace runnel::cluster {

struct EtcdOptions {
  std::vector<std::string> endpoints;        // "host:port" or "[v6]:port"; one channel over all of them
  int64_t request_timeout_ms = 2000;         // deadline of each call
  int64_t watch_progress_interval_ms = 1000; // how often watches ask etcd for a progress report
  int64_t watch_stall_timeout_ms = 0;        // silence that makes a watch reconnect; 0: max(4 x progress, 2 x request)
  int64_t retry_backoff_max_ms = 2000;       // watch reconnects back off from 100 ms to this
};

namespace etcd {
class EtcdClient;
}

class EtcdStore final : public MetadataStore {
 public:
  // Throws std::invalid_argument for a malformed endpoint, std::runtime_error
  // when several endpoints are host names and none resolves. Connects lazily.
  EtcdStore(asio::any_io_executor executor, EtcdOptions options);
  ~EtcdStore() override;

  std::string describe() const override;
  void get(const std::string& key, bool prefix, GetCallback done) override;
  void txn(Txn txn, TxnCallback done) override;
  void open_session(int64_t ttl_ms, int64_t keepalive_interval_ms, SessionCallback opened,
                    std::function<void()> lost) override;
  void close_session(int64_t lease, DoneCallback done) override;
  std::unique_ptr<WatchHandle> watch(const std::string& prefix, int64_t from_revision, WatchCallback on_events,
                                     std::function<void(StoreStatus)> failed) override;
  StoreHealth health() const override;

 private:
  std::unique_ptr<etcd::EtcdClient> client_;
};

}  // namespace runnel::cluster
