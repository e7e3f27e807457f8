#pragma once
// Test doubles for the coordinator: hand-driven time and a store whose writes
// complete only when the test says so.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/group_coordinator.h"

namespace runnel::coordinator::testing {

class FakeTimers final : public TimerService {
 public:
  int64_t now = 1'700'000'000'000;  // a plausible wall clock

  int64_t wall_clock_ms() override { return now; }
  TimerId schedule(int64_t delay_ms, std::function<void()> fn) override {
    const TimerId id = next_++;
    timers_[id] = {now + std::max<int64_t>(delay_ms, 0), std::move(fn)};
    return id;
  }
  void cancel(TimerId id) override { timers_.erase(id); }
  void cancel_all() override { timers_.clear(); }

  // Moves time forward, firing due timers in deadline order (ties: creation order).
  void advance(int64_t ms) {
    const int64_t target = now + ms;
    for (int guard = 0; guard < 100000; ++guard) {
      auto due = timers_.end();
      for (auto it = timers_.begin(); it != timers_.end(); ++it) {
        if (it->second.deadline <= target && (due == timers_.end() || it->second.deadline < due->second.deadline)) due = it;
      }
      if (due == timers_.end()) break;
      now = std::max(now, due->second.deadline);
      auto fn = std::move(due->second.fn);
      timers_.erase(due);
      fn();
    }
    now = target;
  }
  size_t pending() const { return timers_.size(); }

 private:
  struct Timer {
    int64_t deadline;
    std::function<void()> fn;
  };
  std::map<TimerId, Timer> timers_;
  TimerId next_ = 1;
};

class FakeStore final : public GroupStore {
 public:
  explicit FakeStore(int32_t partitions) : partitions_(partitions) {}

  struct Write {
    int32_t partition;
    std::vector<LogRecord> records;
  };

  int32_t partition_count() const override { return partitions_; }
  void append(int32_t partition, std::vector<LogRecord> records, std::function<void(ErrorCode)> done) override {
    pending_.push_back({Write{partition, std::move(records)}, std::move(done)});
  }

  // Completes every queued write (and any queued by their callbacks) with `error`.
  // Successful writes are kept, in order, in written().
  size_t complete_all(ErrorCode error = ErrorCode::kNone) {
    size_t count = 0;
    while (!pending_.empty()) {
      auto [write, done] = std::move(pending_.front());
      pending_.erase(pending_.begin());
      if (error == ErrorCode::kNone) written_.push_back(std::move(write));
      done(error);
      ++count;
    }
    return count;
  }
  size_t pending() const { return pending_.size(); }
  const std::vector<Write>& written() const { return written_; }

 private:
  int32_t partitions_;
  std::vector<std::pair<Write, std::function<void(ErrorCode)>>> pending_;
  std::vector<Write> written_;
};

// Captures one callback result (the last, if called again; calls() counts them).
template <typename Result>
struct Capture {
  std::shared_ptr<std::optional<Result>> value = std::make_shared<std::optional<Result>>();
  std::shared_ptr<int> count = std::make_shared<int>(0);
  std::function<void(Result)> callback() {
    auto v = value;
    auto n = count;
    return [v, n](Result r) {
      *v = std::move(r);
      ++*n;
    };
  }
  bool done() const { return value->has_value(); }
  int calls() const { return *count; }
  const Result& operator*() const { return **value; }
  const Result* operator->() const { return &**value; }
};

inline Bytes to_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// A ConsumerProtocolSubscription v0: int16 0, [string topics], nullable bytes user data.
inline Bytes subscription(const std::vector<std::string>& topics) {
  Bytes out{0, 0};
  auto put32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
  };
  put32(static_cast<uint32_t>(topics.size()));
  for (const auto& t : topics) {
    out.push_back(static_cast<uint8_t>(t.size() >> 8));
    out.push_back(static_cast<uint8_t>(t.size()));
    out.insert(out.end(), t.begin(), t.end());
  }
  put32(0xFFFFFFFF);  // null user data
  return out;
}

}  // namespace runnel::coordinator::testing
