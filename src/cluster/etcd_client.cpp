#include "cluster/etcd_client.h"

#include <chrono>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <spdlog/spdlog.h>

#include "cluster/etcd_convert.h"
#include "cluster/etcd_endpoints.h"

namespace runnel::cluster::etcd {
namespace {

std::shared_ptr<grpc::Channel> make_channel(const std::string& target) {
  grpc::ChannelArguments args;
  // Every member gets a connection and calls go to the ready ones, so a dead or
  // black-holed member is skipped without waiting for its connect timeout.
  args.SetLoadBalancingPolicyName("round_robin");
  // Notice a silently dead member. etcd refuses pings more often than every 5 s
  // (--grpc-keepalive-min-time) and pings without an active call.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  // Reconnect within about a second once a member is back.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetMaxReceiveMessageSize(-1);  // a large range answer is the caller's business
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

template <class Response>
struct UnaryCall {
  grpc::ClientContext context;
  Response response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
};

}  // namespace

EtcdClient::EtcdClient(asio::any_io_executor executor, EtcdOptions options)
    : options_(std::move(options)), gate_(std::move(executor)) {
  std::vector<EtcdEndpoint> endpoints;
  for (const auto& text : options_.endpoints) endpoints.push_back(parse_etcd_endpoint(text));
  const std::string target = etcd_grpc_target(endpoints);
  description_ = "etcd://";
  for (size_t i = 0; i < endpoints.size(); ++i) description_ += (i ? "," : "") + endpoints[i].to_string();
  channel_ = make_channel(target);
  kv_ = etcdserverpb::KV::NewStub(channel_);
  lease_ = etcdserverpb::Lease::NewStub(channel_);
  watch_ = etcdserverpb::Watch::NewStub(channel_);
  spdlog::debug("{}: gRPC target {}", description_, target);
}

EtcdClient::~EtcdClient() {
  gate_.close();
  runtime_.stop([this] {
    stopping_ = true;
    calls_.clear();
    if (call_context_ != nullptr) call_context_->TryCancel();
    for (auto& [lease, session] : sessions_) session->stop();
    for (auto& watch : watches_) watch->stop();
  });
  sessions_.clear();
  watches_.clear();
}

template <class Response>
void EtcdClient::call(std::string name, Starter<Response> start, Finisher<Response> finish) {
  runtime_.submit([this, name = std::move(name), start = std::move(start), finish = std::move(finish)]() mutable {
    calls_.push_back([this, name = std::move(name), start = std::move(start), finish = std::move(finish)]() mutable {
      auto call = std::make_shared<UnaryCall<Response>>();
      call->context.set_deadline(std::chrono::system_clock::now() +
                                 std::chrono::milliseconds(options_.request_timeout_ms));
      call->reader = start(&call->context, runtime_.cq());
      call->reader->StartCall();
      call_context_ = &call->context;
      auto* tag = runtime_.tag([this, call, name = std::move(name), finish = std::move(finish)](bool) {
        call_context_ = nullptr;
        call_in_flight_ = false;
        StoreStatus status = to_store_status(name, call->status);
        if (status.ok()) {
          health_.success(call->response.header().revision());
        } else if (status.code == StoreCode::kUnavailable) {
          health_.failure();
        } else {
          health_.success(0);  // etcd answered, with a refusal
        }
        if (!stopping_) finish(status, call->response);
        start_next_call();
      });
      call->reader->Finish(&call->response, &call->status, tag);
    });
    start_next_call();
  });
}

void EtcdClient::start_next_call() {
  if (call_in_flight_ || stopping_ || calls_.empty()) return;
  call_in_flight_ = true;
  auto next = std::move(calls_.front());
  calls_.pop_front();
  next();
}

void EtcdClient::get(const std::string& key, bool prefix, MetadataStore::GetCallback done) {
  auto request = range_request(key, prefix ? prefix_range_end(key) : std::string());
  call<etcdserverpb::RangeResponse>(
      "Range",
      [this, request](grpc::ClientContext* context, grpc::CompletionQueue* cq) {
        return kv_->PrepareAsyncRange(context, request, cq);
      },
      [gate = gate_, done = std::move(done)](StoreStatus status, etcdserverpb::RangeResponse& response) {
        GetResult result = status.ok() ? get_result(response) : GetResult{};
        gate.post([done, status, result = std::move(result)] { done(status, result); });
      });
}

void EtcdClient::txn(const Txn& txn, MetadataStore::TxnCallback done) {
  auto request = txn_request(txn);
  call<etcdserverpb::TxnResponse>(
      "Txn",
      [this, request](grpc::ClientContext* context, grpc::CompletionQueue* cq) {
        return kv_->PrepareAsyncTxn(context, request, cq);
      },
      [gate = gate_, done = std::move(done)](StoreStatus status, etcdserverpb::TxnResponse& response) {
        TxnResult result = status.ok() ? txn_result(response) : TxnResult{};
        gate.post([done, status, result = std::move(result)] { done(status, result); });
      });
}

void EtcdClient::open_session(int64_t ttl_ms, int64_t keepalive_interval_ms, MetadataStore::SessionCallback opened,
                              std::function<void()> lost) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(lease_seconds(ttl_ms));
  const int64_t issued_at = steady_now_ms();  // the lease's clock starts no earlier than this
  call<etcdserverpb::LeaseGrantResponse>(
      "LeaseGrant",
      [this, request](grpc::ClientContext* context, grpc::CompletionQueue* cq) {
        return lease_->PrepareAsyncLeaseGrant(context, request, cq);
      },
      [this, ttl_ms, keepalive_interval_ms, issued_at, opened = std::move(opened), lost = std::move(lost)](
          StoreStatus status, etcdserverpb::LeaseGrantResponse& response) {
        if (status.ok() && !response.error().empty())
          status = {StoreCode::kInvalid, "etcd LeaseGrant: " + response.error()};
        const int64_t lease = status.ok() ? response.id() : 0;
        if (status.ok()) start_session(lease, ttl_ms, keepalive_interval_ms, issued_at, lost);
        gate_.post([opened, status, lease] { opened(status, lease); });
      });
}

void EtcdClient::start_session(int64_t lease, int64_t ttl_ms, int64_t interval_ms, int64_t granted_at_ms,
                               std::function<void()> lost) {
  LiveFlag live = make_live_flag();
  {
    std::lock_guard lock(sessions_mu_);
    session_live_[lease] = live;
  }
  SessionKeeper::Settings settings{lease, ttl_ms, std::max<int64_t>(1, interval_ms), granted_at_ms};
  auto on_lost = [this, lease, live, lost = std::move(lost)] {
    sessions_.erase(lease);
    {
      std::lock_guard lock(sessions_mu_);
      session_live_.erase(lease);
    }
    gate_.post([live, lost] {
      if (live->exchange(false)) lost();
    });
  };
  auto keeper = std::make_shared<SessionKeeper>(runtime_, *lease_, health_, settings, std::move(on_lost));
  sessions_[lease] = keeper;
  keeper->start();
}

void EtcdClient::close_session(int64_t lease, MetadataStore::DoneCallback done) {
  {
    std::lock_guard lock(sessions_mu_);
    auto it = session_live_.find(lease);
    if (it != session_live_.end()) {
      it->second->store(false);  // no `lost` after this call
      session_live_.erase(it);
    }
  }
  runtime_.submit([this, lease] {
    auto it = sessions_.find(lease);
    if (it == sessions_.end()) return;
    it->second->stop();
    sessions_.erase(it);
  });
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease);
  call<etcdserverpb::LeaseRevokeResponse>(
      "LeaseRevoke",
      [this, request](grpc::ClientContext* context, grpc::CompletionQueue* cq) {
        return lease_->PrepareAsyncLeaseRevoke(context, request, cq);
      },
      [gate = gate_, done = std::move(done)](StoreStatus status, etcdserverpb::LeaseRevokeResponse&) {
        gate.post([done, status] { done(status); });
      });
}

std::unique_ptr<WatchHandle> EtcdClient::watch(const std::string& prefix, int64_t from_revision,
                                               MetadataStore::WatchCallback on_events,
                                               std::function<void(StoreStatus)> failed) {
  LiveFlag live = make_live_flag();
  WatchStream::Settings settings;
  settings.prefix = prefix;
  settings.from_revision = from_revision;
  settings.progress_interval_ms = std::max<int64_t>(10, options_.watch_progress_interval_ms);
  settings.stall_timeout_ms = options_.watch_stall_timeout_ms > 0
                                  ? options_.watch_stall_timeout_ms
                                  : std::max(4 * settings.progress_interval_ms, 2 * options_.request_timeout_ms);
  settings.backoff_max_ms = std::max<int64_t>(100, options_.retry_backoff_max_ms);
  WatchStream::Deliver deliver = [gate = gate_, live, on_events = std::move(on_events)](
                                     std::vector<WatchEvent> events, int64_t revision) {
    gate.post([live, on_events, events = std::move(events), revision] {
      if (live->load()) on_events(events, revision);
    });
  };
  WatchStream::Fail fail = [gate = gate_, live, failed = std::move(failed)](StoreStatus status) {
    gate.post([live, failed, status = std::move(status)] {
      if (live->exchange(false)) failed(status);
    });
  };
  runtime_.submit([this, settings = std::move(settings), live, deliver = std::move(deliver),
                   fail = std::move(fail)]() mutable {
    if (stopping_) return;
    std::erase_if(watches_, [](const auto& w) { return w->ended(); });
    auto stream = std::make_shared<WatchStream>(runtime_, *watch_, health_, std::move(settings), live,
                                                std::move(deliver), std::move(fail));
    watches_.push_back(stream);
    stream->start();
  });
  return std::make_unique<FlagWatchHandle>(std::move(live));
}

}  // namespace runnel::cluster::etcd
