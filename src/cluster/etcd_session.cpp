#include "cluster/etcd_session.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "cluster/etcd_convert.h"

namespace runnel::cluster::etcd {

SessionKeeper::SessionKeeper(Runtime& runtime, etcdserverpb::Lease::Stub& stub, HealthTracker& health,
                             Settings settings, std::function<void()> on_lost)
    : runtime_(runtime),
      stub_(stub),
      health_(health),
      settings_(settings),
      on_lost_(std::move(on_lost)),
      timer_(runtime),
      alive_at_ms_(settings.granted_at_ms) {}

void SessionKeeper::start() {
  next_send_ms_ = steady_now_ms() + settings_.interval_ms;
  open_stream();
  tick();
}

void SessionKeeper::stop() {
  stopped_ = true;
  timer_.cancel();
  if (stream_) {
    stream_->detach();
    stream_->cancel();
    stream_.reset();
  }
}

void SessionKeeper::tick() {
  if (stopped_) return;
  const int64_t now = steady_now_ms();
  if (now - alive_at_ms_ >= settings_.ttl_ms) {
    lose(fmt::format("no keep-alive answered for {} ms", now - alive_at_ms_));
    return;
  }
  if (now >= next_send_ms_) {
    next_send_ms_ = now + settings_.interval_ms;
    if (!stream_) {
      open_stream();  // sends once it is up
    } else {
      send();
    }
  }
  // Wake for the next keep-alive, or in time to notice the ttl running out.
  const int64_t wake = std::min(next_send_ms_, alive_at_ms_ + settings_.ttl_ms);
  auto self = shared_from_this();
  timer_.start(std::max<int64_t>(1, wake - now), [self] { self->tick(); });
}

void SessionKeeper::open_stream() {
  std::weak_ptr<SessionKeeper> weak = shared_from_this();
  Stream::Handlers handlers;
  handlers.on_ready = [weak] {
    if (auto self = weak.lock()) self->send();
  };
  handlers.on_message = [weak](etcdserverpb::LeaseKeepAliveResponse& response) {
    if (auto self = weak.lock()) self->on_answer(response);
  };
  handlers.on_closed = [weak](const grpc::Status& status) {
    if (auto self = weak.lock()) self->on_closed(status);
  };
  sent_at_ms_.clear();
  stream_ = Stream::open(
      runtime_,
      [this](grpc::ClientContext* context, grpc::CompletionQueue* cq) { return stub_.PrepareAsyncLeaseKeepAlive(context, cq); },
      std::move(handlers));
}

void SessionKeeper::send() {
  if (!stream_) return;
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(settings_.lease);
  if (stream_->write(request)) sent_at_ms_.push_back(steady_now_ms());
}

void SessionKeeper::on_answer(const etcdserverpb::LeaseKeepAliveResponse& response) {
  if (stopped_) return;
  health_.success(response.header().revision());
  int64_t sent = steady_now_ms();
  if (!sent_at_ms_.empty()) {
    sent = sent_at_ms_.front();
    sent_at_ms_.pop_front();
  }
  if (response.ttl() <= 0) {
    lose("etcd says the lease is gone");
    return;
  }
  alive_at_ms_ = std::max(alive_at_ms_, sent);
}

void SessionKeeper::on_closed(const grpc::Status& status) {
  stream_.reset();
  sent_at_ms_.clear();
  if (stopped_) return;
  health_.failure();
  spdlog::debug("etcd session {:x}: keep-alive stream ended ({}); reopening", settings_.lease,
                to_store_status("LeaseKeepAlive", status).message);
}

void SessionKeeper::lose(const std::string& why) {
  if (stopped_) return;
  auto self = shared_from_this();  // on_lost_ may drop the owner's reference
  stop();
  spdlog::warn("etcd session {:x} lost: {}", settings_.lease, why);
  on_lost_();
}

}  // namespace runnel::cluster::etcd
