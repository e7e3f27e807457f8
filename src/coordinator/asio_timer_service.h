#pragma once
// TimerService on an asio event loop. A timer whose completion was already
// queued when it was cancelled still does not run: each handler first checks
// that its id is still registered.
#include <memory>
#include <unordered_map>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

#include "coordinator/timer_service.h"

namespace runnel::coordinator {

class AsioTimerService final : public TimerService {
 public:
  explicit AsioTimerService(asio::any_io_executor executor);
  ~AsioTimerService() override;

  int64_t wall_clock_ms() override;
  TimerId schedule(int64_t delay_ms, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  void cancel_all() override;

 private:
  struct State {
    std::unordered_map<TimerId, std::unique_ptr<asio::steady_timer>> timers;
    TimerId next_id = 1;
  };
  asio::any_io_executor executor_;
  // Handlers hold a weak reference, so a timer firing after this service is gone is a no-op.
  std::shared_ptr<State> state_;
};

}  // namespace runnel::coordinator
