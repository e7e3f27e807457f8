// Helpers for metadata-store tests: an event loop the test thread drives with
// deadlines, synchronous wrappers around the asynchronous store calls (each
// bounded; a timeout is a test failure), and a watch recorder that checks the
// ordering contract on every batch.
#pragma once

// Standard headers first: asio decides how it allocates (aligned_alloc or
// operator new) from macros they define, and every file must agree.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include "cluster/metadata_store.h"

namespace runnel::cluster::test {

using namespace std::chrono_literals;

class EventLoop {
 public:
  EventLoop() : guard_(asio::make_work_guard(io_)) {}
  asio::any_io_executor executor() { return io_.get_executor(); }
  // Runs handlers on this thread until done() or the timeout; true if done.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 15s);
  void run_for(std::chrono::milliseconds duration) { run_until([] { return false; }, duration); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
};

struct GetOutcome {
  StoreStatus status{StoreCode::kUnavailable, "no answer in time"};
  GetResult result;
};
struct TxnOutcome {
  StoreStatus status{StoreCode::kUnavailable, "no answer in time"};
  TxnResult result;
};
struct SessionOutcome {
  StoreStatus status{StoreCode::kUnavailable, "no answer in time"};
  int64_t lease = 0;
};

GetOutcome get(EventLoop& loop, MetadataStore& store, const std::string& key, bool prefix = false);
TxnOutcome txn(EventLoop& loop, MetadataStore& store, Txn txn);
// A plain put or delete that must succeed; returns the store revision after it.
int64_t put(EventLoop& loop, MetadataStore& store, const std::string& key, const std::string& value,
            int64_t lease = 0);
int64_t del(EventLoop& loop, MetadataStore& store, const std::string& key);
// `lost` (optional) counts calls of the session's lost callback.
SessionOutcome open_session(EventLoop& loop, MetadataStore& store, int64_t ttl_ms, int64_t interval_ms,
                            std::shared_ptr<std::atomic<int>> lost = nullptr);
StoreStatus close_session(EventLoop& loop, MetadataStore& store, int64_t lease);

// "put KEY=VALUE@MOD" or "del KEY@MOD".
std::string describe(const WatchEvent& event);

struct WatchBatch {
  std::vector<WatchEvent> events;
  int64_t revision = 0;
};

// Records one watch. Every batch is checked against the contract: revisions
// never go backwards, events come after the previous batch and no later than
// their batch's revision, in revision order.
class WatchRecorder {
 public:
  void start(MetadataStore& store, const std::string& prefix, int64_t from_revision);
  void stop() { handle_.reset(); }

  const std::vector<WatchBatch>& batches() const { return *batches_; }
  std::vector<std::string> events() const;  // described, flattened
  size_t event_count() const;
  const std::optional<StoreStatus>& failure() const { return *failure_; }
  const std::vector<std::string>& violations() const { return *violations_; }
  // The newest empty batch's revision, 0 if none yet.
  int64_t last_progress() const;

 private:
  std::shared_ptr<std::vector<WatchBatch>> batches_ = std::make_shared<std::vector<WatchBatch>>();
  std::shared_ptr<std::optional<StoreStatus>> failure_ = std::make_shared<std::optional<StoreStatus>>();
  std::shared_ptr<std::vector<std::string>> violations_ = std::make_shared<std::vector<std::string>>();
  std::unique_ptr<WatchHandle> handle_;
};

}  // namespace runnel::cluster::test
