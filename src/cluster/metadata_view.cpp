#include "cluster/metadata_view.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "cluster/store_await.h"

namespace runnel::cluster {

MetadataView::MetadataView(asio::any_io_executor executor, MetadataStore& store, const MetadataKeys& keys)
    : executor_(std::move(executor)), store_(store), keys_(keys), image_(std::make_shared<MetadataImage>()) {}

MetadataView::~MetadataView() {
  *alive_ = false;
  stop();
}

asio::awaitable<StoreStatus> MetadataView::load(std::chrono::steady_clock::time_point deadline) {
  asio::steady_timer pause(executor_);
  StoreStatus status;
  for (;;) {
    auto [get_status, everything] = co_await co_get(store_, keys_.prefix(), true);
    status = get_status;
    if (status.ok()) {
      std::vector<std::string> problems;
      auto image = build_image(keys_, everything, &problems);
      for (const auto& problem : problems) spdlog::warn("metadata: ignoring {}", problem);
      watched_revision_ = everything.revision;
      publish(std::move(image));
      co_return status;
    }
    if (status.code != StoreCode::kUnavailable || std::chrono::steady_clock::now() >= deadline) co_return status;
    pause.expires_after(std::chrono::milliseconds(500));
    asio::error_code ec;
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void MetadataView::start() {
  stopped_ = false;
  watch_ = store_.watch(
      keys_.prefix(), image_->revision + 1,
      [this, alive = alive_](std::vector<WatchEvent> events, int64_t revision) {
        if (*alive) on_events(std::move(events), revision);
      },
      [this, alive = alive_](StoreStatus status) {
        if (*alive) on_watch_failed(std::move(status));
      });
}

void MetadataView::stop() {
  stopped_ = true;
  watch_.reset();
  for (AsyncEvent* e : waiters_) e->notify();
}

void MetadataView::on_events(std::vector<WatchEvent> events, int64_t revision) {
  watched_revision_ = std::max(watched_revision_, revision);
  if (events.empty()) {
    for (AsyncEvent* e : waiters_) e->notify();  // wait_for_revision may be satisfied by progress
    return;
  }
  MetadataImageBuilder builder(keys_, image_);
  for (const auto& event : events) builder.apply(event);
  for (const auto& problem : builder.problems()) spdlog::warn("metadata: ignoring {}", problem);
  publish(builder.build(revision));
}

void MetadataView::on_watch_failed(StoreStatus status) {
  spdlog::warn("metadata watch ended ({}): reading the whole image again", status.message);
  asio::co_spawn(executor_, reload(), asio::detached);
}

asio::awaitable<void> MetadataView::reload() {
  auto alive = alive_;
  watch_.reset();
  ++reloads_;
  // Until it works: a broker whose image stopped following the store would
  // serve a frozen view for good.
  for (;;) {
    const auto status = co_await load(std::chrono::steady_clock::time_point::max());
    if (!*alive || stopped_) co_return;
    if (status.ok()) break;
    spdlog::error("metadata: cannot read the image again ({}); retrying in 1 s", status.message);
    asio::steady_timer pause(executor_, std::chrono::seconds(1));
    co_await pause.async_wait(asio::use_awaitable);
    if (!*alive || stopped_) co_return;
  }
  start();
}

void MetadataView::publish(ImagePtr next) {
  auto previous = std::move(image_);
  image_ = std::move(next);
  for (const auto& listener : listeners_) listener(previous, image_);
  for (AsyncEvent* e : waiters_) e->notify();
}

asio::awaitable<bool> MetadataView::wait_until(const std::function<bool(const MetadataImage&)>& pred,
                                               std::chrono::steady_clock::time_point deadline) {
  AsyncEvent changed(executor_);
  auto it = waiters_.insert(waiters_.end(), &changed);
  bool result = pred(*image_);
  while (!result && !stopped_ && std::chrono::steady_clock::now() < deadline) {
    co_await changed.wait_until(deadline);
    result = pred(*image_);
  }
  waiters_.erase(it);
  co_return result;
}

asio::awaitable<bool> MetadataView::wait_for_revision(int64_t revision, std::chrono::steady_clock::time_point deadline) {
  const std::function<bool(const MetadataImage&)> reached = [this, revision](const MetadataImage& image) {
    return image.revision >= revision || watched_revision_ >= revision;
  };
  const bool ok = co_await wait_until(reached, deadline);
  co_return ok;
}

int64_t MetadataView::lag_revisions() const {
  const int64_t seen = store_.health().revision;
  return seen > watched_revision_ ? seen - watched_revision_ : 0;
}

}  // namespace runnel::cluster
