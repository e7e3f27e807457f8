#include "cluster/local_store.h"

#include <chrono>

#include <spdlog/spdlog.h>

namespace runnel::cluster {
LocalStore::LocalStore(asio::any_io_executor executor, LocalStoreOptions options)
    : options_(std::move(options)), gate_(std::move(executor)) {
  journal_.open(options_.dir, state_);
  // Nothing from before this run is in memory, unless nothing ever happened
  // (revision 1 is the empty store, as in etcd).
  history_start_ = state_.revision() == 1 ? 1 : state_.revision() + 1;
  health_.success(state_.revision());
  // Lease ids from the wall clock, so that ids of an earlier run are not reused.
  next_lease_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  worker_ = std::thread([this] { run(); });
}

LocalStore::~LocalStore() {
  gate_.close();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;  // queued operations are dropped: their callbacks would not run anyway
  }
  cv_.notify_one();
  worker_.join();
}

void LocalStore::submit(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void LocalStore::run() {
  auto next_progress = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.progress_interval_ms);
  for (;;) {
    std::deque<std::function<void()>> jobs;
    {
      std::unique_lock lock(mu_);
      cv_.wait_until(lock, next_progress, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      jobs.swap(queue_);
    }
    run_batch(std::move(jobs));
    if (std::chrono::steady_clock::now() >= next_progress) {
      report_progress();
      next_progress = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.progress_interval_ms);
    }
  }
}

void LocalStore::run_batch(std::deque<std::function<void()>> jobs) {
  for (auto& job : jobs) job();
  StoreStatus error;
  if (failure_.empty()) {
    try {
      journal_.sync();
      if (journal_.size() > options_.journal_roll_bytes) journal_.roll(state_);
    } catch (const std::exception& e) {
      failure_ = std::string("metadata store write failed: ") + e.what();
      spdlog::error("{}: {}; refusing every further operation", describe(), failure_);
      health_.failure();
      error = failed_status();
    }
  }
  if (failure_.empty()) health_.success(state_.revision());
  if (completions_.empty()) return;
  std::vector<std::function<void()>> posted;
  posted.reserve(completions_.size());
  for (auto& completion : completions_) posted.push_back([completion = std::move(completion), error] { completion(error); });
  completions_.clear();
  gate_.post_all(std::move(posted));
}

void LocalStore::commit(std::vector<WatchEvent> events) {
  if (events.empty()) return;
  const int64_t revision = state_.revision();
  journal_.append(revision, events);
  for (const auto& event : events) history_.emplace_back(revision, event);
  while (history_.size() > options_.history_limit) {
    history_start_ = history_.front().first + 1;
    history_.pop_front();
  }
  std::erase_if(watchers_, [](const Watcher& w) { return !w.live->load(); });
  for (const auto& watcher : watchers_) {
    if (revision < watcher.start) continue;
    std::vector<WatchEvent> mine;
    for (const auto& event : events) {
      if (key_in_range(event.kv.key, watcher.prefix, watcher.range_end)) mine.push_back(event);
    }
    if (mine.empty()) continue;
    complete([live = watcher.live, cb = watcher.on_events, mine = std::move(mine), revision](const StoreStatus& error) {
      if (error.ok() && live->load()) cb(mine, revision);
    });
  }
}

void LocalStore::report_progress() {
  if (!failure_.empty()) return;
  std::erase_if(watchers_, [](const Watcher& w) { return !w.live->load(); });
  std::vector<std::function<void()>> posted;
  const int64_t revision = state_.revision();
  for (const auto& watcher : watchers_) {
    if (revision + 1 < watcher.start) continue;  // a watch from a future revision has no progress yet
    posted.push_back([live = watcher.live, cb = watcher.on_events, revision] {
      if (live->load()) cb({}, revision);
    });
  }
  gate_.post_all(std::move(posted));
}

void LocalStore::add_watcher(Watcher watcher, std::function<void(StoreStatus)> failed) {
  if (!failure_.empty()) return;  // the store is dead; a watch has no way to report that but kCompacted
  const int64_t revision = state_.revision();
  if (watcher.start <= 0) watcher.start = revision + 1;
  if (watcher.start < history_start_) {
    StoreStatus status{StoreCode::kCompacted,
                       "revision " + std::to_string(watcher.start) + " is no longer in the history (oldest " +
                           std::to_string(history_start_) + ")"};
    complete([live = watcher.live, failed = std::move(failed), status](const StoreStatus&) {
      if (live->load()) failed(status);
    });
    return;
  }
  std::vector<WatchEvent> past;
  for (const auto& [rev, event] : history_) {
    if (rev >= watcher.start && key_in_range(event.kv.key, watcher.prefix, watcher.range_end)) past.push_back(event);
  }
  if (!past.empty()) {
    complete([live = watcher.live, cb = watcher.on_events, past = std::move(past), revision](const StoreStatus& error) {
      if (error.ok() && live->load()) cb(past, revision);
    });
  }
  watchers_.push_back(std::move(watcher));
}

void LocalStore::get(const std::string& key, bool prefix, GetCallback done) {
  submit([this, key, prefix, done = std::move(done)]() mutable {
    if (!failure_.empty()) {
      complete([done = std::move(done), status = failed_status()](const StoreStatus&) { done(status, {}); });
      return;
    }
    if (key.empty() && !prefix) {
      complete([done = std::move(done)](const StoreStatus&) {
        done({StoreCode::kInvalid, "key is not provided"}, {});
      });
      return;
    }
    GetResult result{state_.range(key, prefix ? prefix_range_end(key) : std::string()), state_.revision()};
    complete([done = std::move(done), result = std::move(result)](const StoreStatus& error) {
      done(error, error.ok() ? result : GetResult{});
    });
  });
}

void LocalStore::txn(Txn txn, TxnCallback done) {
  submit([this, txn = std::move(txn), done = std::move(done)]() mutable {
    if (!failure_.empty()) {
      complete([done = std::move(done), status = failed_status()](const StoreStatus&) { done(status, {}); });
      return;
    }
    TxnResult result;
    std::vector<WatchEvent> events;
    StoreStatus status = state_.apply(txn, result, events);
    commit(std::move(events));
    complete([done = std::move(done), status, result = std::move(result)](const StoreStatus& error) {
      if (!error.ok()) return done(error, {});
      done(status, status.ok() ? result : TxnResult{});
    });
  });
}

void LocalStore::open_session(int64_t /*ttl_ms*/, int64_t /*keepalive_interval_ms*/, SessionCallback opened,
                              std::function<void()> /*lost*/) {
  // A local session cannot be lost: it lives as long as the process (and the store).
  submit([this, opened = std::move(opened)]() mutable {
    if (!failure_.empty()) {
      complete([opened = std::move(opened), status = failed_status()](const StoreStatus&) { opened(status, 0); });
      return;
    }
    const int64_t lease = next_lease_++;
    state_.grant_lease(lease);
    complete([opened = std::move(opened), lease](const StoreStatus& error) { opened(error, error.ok() ? lease : 0); });
  });
}

void LocalStore::close_session(int64_t lease, DoneCallback done) {
  submit([this, lease, done = std::move(done)]() mutable {
    if (!failure_.empty()) {
      complete([done = std::move(done), status = failed_status()](const StoreStatus&) { done(status); });
      return;
    }
    std::vector<WatchEvent> events;
    StoreStatus status;
    if (!state_.revoke_lease(lease, events)) status = {StoreCode::kLeaseNotFound, "requested lease not found"};
    commit(std::move(events));
    complete([done = std::move(done), status](const StoreStatus& error) { done(error.ok() ? status : error); });
  });
}

std::unique_ptr<WatchHandle> LocalStore::watch(const std::string& prefix, int64_t from_revision,
                                               WatchCallback on_events, std::function<void(StoreStatus)> failed) {
  LiveFlag live = make_live_flag();
  Watcher watcher{prefix, prefix_range_end(prefix), from_revision, std::move(on_events), live};
  submit([this, watcher = std::move(watcher), failed = std::move(failed)]() mutable {
    add_watcher(std::move(watcher), std::move(failed));
  });
  return std::make_unique<FlagWatchHandle>(std::move(live));
}

StoreHealth LocalStore::health() const { return health_.snapshot(); }

}  // namespace runnel::cluster
