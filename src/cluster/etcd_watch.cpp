#include "cluster/etcd_watch.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "cluster/etcd_convert.h"

namespace runnel::cluster::etcd {
namespace {
constexpr int64_t kInitialBackoffMs = 100;
}

WatchStream::WatchStream(Runtime& runtime, etcdserverpb::Watch::Stub& stub, HealthTracker& health, Settings settings,
                         LiveFlag live, Deliver deliver, Fail fail)
    : runtime_(runtime),
      stub_(stub),
      health_(health),
      settings_(std::move(settings)),
      range_end_(prefix_range_end(settings_.prefix)),
      live_(std::move(live)),
      deliver_(std::move(deliver)),
      fail_(std::move(fail)),
      tick_timer_(runtime),
      retry_timer_(runtime),
      next_revision_(std::max<int64_t>(0, settings_.from_revision)),
      backoff_ms_(kInitialBackoffMs) {}

void WatchStream::start() {
  open_stream();
  auto self = shared_from_this();
  tick_timer_.start(settings_.progress_interval_ms, [self] { self->tick(); });
}

void WatchStream::stop() {
  stopped_ = true;
  tick_timer_.cancel();
  retry_timer_.cancel();
  if (stream_) {
    stream_->detach();
    stream_->cancel();
    stream_.reset();
  }
}

void WatchStream::open_stream() {
  created_ = false;
  held_progress_ = 0;
  last_heard_ms_ = steady_now_ms();
  std::weak_ptr<WatchStream> weak = shared_from_this();
  Stream::Handlers handlers;
  handlers.on_ready = [weak] {
    if (auto self = weak.lock()) self->on_ready();
  };
  handlers.on_message = [weak](etcdserverpb::WatchResponse& response) {
    if (auto self = weak.lock()) self->on_response(response);
  };
  handlers.on_closed = [weak](const grpc::Status& status) {
    if (auto self = weak.lock()) self->on_closed(status);
  };
  stream_ = Stream::open(
      runtime_,
      [this](grpc::ClientContext* context, grpc::CompletionQueue* cq) { return stub_.PrepareAsyncWatch(context, cq); },
      std::move(handlers),
      // As etcd's own client: a member that has lost its leader refuses the
      // watch instead of serving a stream that may never see another event.
      [](grpc::ClientContext& context) { context.AddMetadata("hasleader", "true"); });
}

void WatchStream::tick() {
  if (stopped_) return;
  if (!live_->load()) {  // the handle is gone
    stop();
    return;
  }
  if (stream_) {
    const int64_t silent = steady_now_ms() - last_heard_ms_;
    if (silent > settings_.stall_timeout_ms) {
      spdlog::warn("etcd watch '{}': nothing heard for {} ms; reconnecting", settings_.prefix, silent);
      health_.failure();
      stream_->cancel();  // on_closed reconnects
    } else if (created_ && !stream_->writing()) {
      etcdserverpb::WatchRequest request;
      request.mutable_progress_request();
      stream_->write(request);
    }
  }
  auto self = shared_from_this();
  tick_timer_.start(settings_.progress_interval_ms, [self] { self->tick(); });
}

void WatchStream::on_ready() {
  etcdserverpb::WatchRequest request;
  auto* create = request.mutable_create_request();
  create->set_key(etcd_key(settings_.prefix, range_end_));
  create->set_range_end(range_end_);
  create->set_start_revision(next_revision_);
  create->set_progress_notify(true);
  stream_->write(request);
}

void WatchStream::on_response(const etcdserverpb::WatchResponse& response) {
  if (stopped_) return;
  last_heard_ms_ = steady_now_ms();
  health_.success(response.header().revision());
  if (!live_->load()) {
    stop();
    return;
  }
  if (response.compact_revision() > 0) {
    StoreStatus status{StoreCode::kCompacted,
                       fmt::format("etcd watch '{}': revision {} is compacted (etcd keeps {} and later)",
                                   settings_.prefix, next_revision_, response.compact_revision())};
    stop();
    fail_(std::move(status));
    return;
  }
  if (response.canceled()) {
    spdlog::warn("etcd watch '{}': canceled by etcd ({}); retrying", settings_.prefix, response.cancel_reason());
    health_.failure();
    stream_->cancel();
    return;
  }
  if (response.created()) {
    created_ = true;
    backoff_ms_ = kInitialBackoffMs;
    if (next_revision_ <= 0) next_revision_ = response.header().revision() + 1;
    return;
  }
  if (response.events_size() == 0) {
    on_progress(response.header().revision());
    return;
  }
  std::vector<WatchEvent> events;
  events.reserve(static_cast<size_t>(response.events_size()));
  for (const auto& event : response.events()) events.push_back(from_proto(event));
  const int64_t revision = events.back().kv.mod_revision;
  if (revision > held_progress_) held_progress_ = 0;  // these events show it was safe; they supersede it
  next_revision_ = std::max(next_revision_, revision + 1);
  deliver_(std::move(events), revision);
}

void WatchStream::on_progress(int64_t revision) {
  // The previous report is confirmed by this later one (see the header).
  if (held_progress_ > 0 && held_progress_ + 1 >= next_revision_) {
    next_revision_ = held_progress_ + 1;
    deliver_({}, held_progress_);
  }
  held_progress_ = revision + 1 >= next_revision_ ? revision : 0;
}

void WatchStream::on_closed(const grpc::Status& status) {
  stream_.reset();
  created_ = false;
  held_progress_ = 0;
  if (stopped_) return;
  health_.failure();
  spdlog::debug("etcd watch '{}': stream ended ({}); retrying in {} ms", settings_.prefix,
                to_store_status("Watch", status).message, backoff_ms_);
  auto self = shared_from_this();
  retry_timer_.start(backoff_ms_, [self] {
    if (!self->stopped_ && !self->stream_) self->open_stream();
  });
  backoff_ms_ = std::min(backoff_ms_ * 2, settings_.backoff_max_ms);
}

}  // namespace runnel::cluster::etcd
