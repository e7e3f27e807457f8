#include "store_test_support.h"

#include <gtest/gtest.h>

namespace runnel::cluster::test {

bool EventLoop::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    io_.run_one_for(std::min<std::chrono::steady_clock::duration>(deadline - now, 20ms));
  }
  return true;
}

GetOutcome get(EventLoop& loop, MetadataStore& store, const std::string& key, bool prefix) {
  auto out = std::make_shared<std::optional<GetOutcome>>();
  store.get(key, prefix, [out](StoreStatus status, GetResult result) {
    *out = GetOutcome{std::move(status), std::move(result)};
  });
  if (!loop.run_until([&] { return out->has_value(); })) {
    ADD_FAILURE() << "get " << key << ": no answer in time";
    return {};
  }
  return **out;
}

TxnOutcome txn(EventLoop& loop, MetadataStore& store, Txn t) {
  auto out = std::make_shared<std::optional<TxnOutcome>>();
  store.txn(std::move(t), [out](StoreStatus status, TxnResult result) {
    *out = TxnOutcome{std::move(status), std::move(result)};
  });
  if (!loop.run_until([&] { return out->has_value(); })) {
    ADD_FAILURE() << "txn: no answer in time";
    return {};
  }
  return **out;
}

int64_t put(EventLoop& loop, MetadataStore& store, const std::string& key, const std::string& value, int64_t lease) {
  auto outcome = txn(loop, store, Txn{{}, {TxnOp::put(key, value, lease)}, {}});
  EXPECT_TRUE(outcome.status.ok()) << "put " << key << ": " << outcome.status.message;
  return outcome.result.revision;
}

int64_t del(EventLoop& loop, MetadataStore& store, const std::string& key) {
  auto outcome = txn(loop, store, Txn{{}, {TxnOp::del(key)}, {}});
  EXPECT_TRUE(outcome.status.ok()) << "delete " << key << ": " << outcome.status.message;
  return outcome.result.revision;
}

SessionOutcome open_session(EventLoop& loop, MetadataStore& store, int64_t ttl_ms, int64_t interval_ms,
                            std::shared_ptr<std::atomic<int>> lost) {
  auto out = std::make_shared<std::optional<SessionOutcome>>();
  store.open_session(
      ttl_ms, interval_ms, [out](StoreStatus status, int64_t lease) { *out = SessionOutcome{std::move(status), lease}; },
      [lost] {
        if (lost) ++*lost;
      });
  if (!loop.run_until([&] { return out->has_value(); })) {
    ADD_FAILURE() << "open_session: no answer in time";
    return {};
  }
  return **out;
}

StoreStatus close_session(EventLoop& loop, MetadataStore& store, int64_t lease) {
  auto out = std::make_shared<std::optional<StoreStatus>>();
  store.close_session(lease, [out](StoreStatus status) { *out = std::move(status); });
  if (!loop.run_until([&] { return out->has_value(); })) {
    ADD_FAILURE() << "close_session: no answer in time";
    return {StoreCode::kUnavailable, "no answer in time"};
  }
  return **out;
}

std::string describe(const WatchEvent& event) {
  if (event.type == WatchEvent::Type::kDelete)
    return "del " + event.kv.key + "@" + std::to_string(event.kv.mod_revision);
  return "put " + event.kv.key + "=" + event.kv.value + "@" + std::to_string(event.kv.mod_revision);
}

void WatchRecorder::start(MetadataStore& store, const std::string& prefix, int64_t from_revision) {
  handle_ = store.watch(
      prefix, from_revision,
      [batches = batches_, violations = violations_, failure = failure_](std::vector<WatchEvent> events,
                                                                         int64_t revision) {
        const int64_t previous = batches->empty() ? 0 : batches->back().revision;
        if (failure->has_value()) violations->push_back("a batch after failed()");
        if (revision < previous)
          violations->push_back("revision " + std::to_string(revision) + " after " + std::to_string(previous));
        int64_t last = previous;
        for (const auto& event : events) {
          if (event.kv.mod_revision <= previous || event.kv.mod_revision > revision || event.kv.mod_revision < last)
            violations->push_back(describe(event) + " out of order (batch " + std::to_string(revision) +
                                  ", previous " + std::to_string(previous) + ")");
          last = event.kv.mod_revision;
        }
        batches->push_back({std::move(events), revision});
      },
      [failure = failure_, violations = violations_](StoreStatus status) {
        if (failure->has_value()) violations->push_back("failed() twice");
        *failure = std::move(status);
      });
}

std::vector<std::string> WatchRecorder::events() const {
  std::vector<std::string> out;
  for (const auto& batch : *batches_) {
    for (const auto& event : batch.events) out.push_back(describe(event));
  }
  return out;
}

size_t WatchRecorder::event_count() const {
  size_t n = 0;
  for (const auto& batch : *batches_) n += batch.events.size();
  return n;
}

int64_t WatchRecorder::last_progress() const {
  for (auto it = batches_->rbegin(); it != batches_->rend(); ++it) {
    if (it->events.empty()) return it->revision;
  }
  return 0;
}

}  // namespace runnel::cluster::test
