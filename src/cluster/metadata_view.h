#pragma once
// This broker's current metadata image: read whole from the store at startup,
// then kept current by a watch on the cluster's prefix. Subscribers see every new
// image with the one it replaces, in order, on the event loop. When the store is
// unreachable the last image stays valid (the broker keeps serving what it
// leads); when the watch cannot resume (the store compacted past it) the image is
// read whole again.
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "cluster/metadata_image.h"
#include "cluster/metadata_store.h"
#include "common/async_event.h"

namespace runnel::cluster {

using ImagePtr = std::shared_ptr<const MetadataImage>;

class MetadataView {
 public:
  using Listener = std::function<void(const ImagePtr& previous, const ImagePtr& current)>;

  MetadataView(asio::any_io_executor executor, MetadataStore& store, const MetadataKeys& keys);
  ~MetadataView();

  // Reads everything under the prefix, retrying while the store is unreachable,
  // until `deadline`. The first image is published to subscribers.
  asio::awaitable<StoreStatus> load(std::chrono::steady_clock::time_point deadline);
  // Watches from the loaded revision on.
  void start();
  void stop();

  const ImagePtr& image() const { return image_; }
  void subscribe(Listener listener) { listeners_.push_back(std::move(listener)); }

  // True as soon as pred(image) holds; false if it does not by the deadline.
  asio::awaitable<bool> wait_until(const std::function<bool(const MetadataImage&)>& pred,
                                   std::chrono::steady_clock::time_point deadline);
  // Waits until the image reflects at least `revision` (e.g. a write of ours).
  asio::awaitable<bool> wait_for_revision(int64_t revision, std::chrono::steady_clock::time_point deadline);

  // The newest revision the watch confirmed (events or progress).
  int64_t watched_revision() const { return watched_revision_; }
  // How far the image is behind the newest revision the store reported anywhere.
  int64_t lag_revisions() const;
  uint64_t reloads() const { return reloads_; }

 private:
  void on_events(std::vector<WatchEvent> events, int64_t revision);
  void on_watch_failed(StoreStatus status);
  asio::awaitable<void> reload();
  void publish(ImagePtr next);

  asio::any_io_executor executor_;
  MetadataStore& store_;
  const MetadataKeys& keys_;
  ImagePtr image_;
  std::unique_ptr<WatchHandle> watch_;
  std::vector<Listener> listeners_;
  std::list<AsyncEvent*> waiters_;
  int64_t watched_revision_ = 0;
  uint64_t reloads_ = 0;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace runnel::cluster
