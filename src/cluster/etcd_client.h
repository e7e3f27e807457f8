#pragma once
// EtcdStore's implementation: the channel and stubs, the queue that sends calls
// one at a time in issue order, the sessions and the watches. Everything that
// talks to gRPC runs on the Runtime's thread; results reach the caller through
// the CallbackGate on its executor.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/async_unary_call.h>

#include "cluster/callback_gate.h"
#include "cluster/etcd_runtime.h"
#include "cluster/etcd_session.h"
#include "cluster/etcd_store.h"
#include "cluster/etcd_watch.h"
#include "cluster/health_tracker.h"
#include "rpc.grpc.pb.h"

namespace runnel::cluster::etcd {

class EtcdClient {
 public:
  EtcdClient(asio::any_io_executor executor, EtcdOptions options);
  ~EtcdClient();

  std::string describe() const { return description_; }
  void get(const std::string& key, bool prefix, MetadataStore::GetCallback done);
  void txn(const Txn& txn, MetadataStore::TxnCallback done);
  void open_session(int64_t ttl_ms, int64_t keepalive_interval_ms, MetadataStore::SessionCallback opened,
                    std::function<void()> lost);
  void close_session(int64_t lease, MetadataStore::DoneCallback done);
  std::unique_ptr<WatchHandle> watch(const std::string& prefix, int64_t from_revision,
                                     MetadataStore::WatchCallback on_events, std::function<void(StoreStatus)> failed);
  StoreHealth health() const { return health_.snapshot(); }

 private:
  template <class Response>
  using Starter = std::function<std::unique_ptr<grpc::ClientAsyncResponseReader<Response>>(grpc::ClientContext*,
                                                                                          grpc::CompletionQueue*)>;
  template <class Response>
  using Finisher = std::function<void(StoreStatus status, Response& response)>;

  // Any thread: queues one call; `finish` runs on the runtime thread.
  template <class Response>
  void call(std::string name, Starter<Response> start, Finisher<Response> finish);
  void start_next_call();  // runtime thread
  void start_session(int64_t lease, int64_t ttl_ms, int64_t interval_ms, int64_t granted_at_ms,
                     std::function<void()> lost);

  const EtcdOptions options_;
  std::string description_;
  CallbackGate gate_;
  HealthTracker health_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;

  // Any thread: cleared by close_session at once, so `lost` cannot follow it.
  std::mutex sessions_mu_;
  std::map<int64_t, LiveFlag> session_live_;

  // Runtime thread only.
  std::deque<std::function<void()>> calls_;
  bool call_in_flight_ = false;
  grpc::ClientContext* call_context_ = nullptr;
  bool stopping_ = false;
  std::map<int64_t, std::shared_ptr<SessionKeeper>> sessions_;
  std::vector<std::shared_ptr<WatchStream>> watches_;

  Runtime runtime_;  // last: its thread starts after, and is stopped (in ~EtcdClient) before, the rest
};

}  // namespace runnel::cluster::etcd
