#pragma once
// Time for the coordinator: the wall clock (commit and state timestamps) and
// one-shot timers (session, rebalance, initial-delay and sync timeouts). An
// interface so the state machine's unit tests can drive time by hand; the broker
// uses AsioTimerService on its event loop.
#include <cstdint>
#include <functional>

namespace runnel::coordinator {

using TimerId = uint64_t;  // 0 is never a live timer

class TimerService {
 public:
  virtual ~TimerService() = default;
  virtual int64_t wall_clock_ms() = 0;
  // Runs fn once, after delay_ms, on the coordinator's thread.
  virtual TimerId schedule(int64_t delay_ms, std::function<void()> fn) = 0;
  // After cancel() returns, fn will not run. Unknown or fired ids are ignored.
  virtual void cancel(TimerId id) = 0;
  virtual void cancel_all() = 0;
};

}  // namespace runnel::coordinator
