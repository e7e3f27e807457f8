#include "coordinator/asio_timer_service.h"

#include <chrono>

namespace runnel::coordinator {

AsioTimerService::AsioTimerService(asio::any_io_executor executor)
    : executor_(std::move(executor)), state_(std::make_shared<State>()) {}

AsioTimerService::~AsioTimerService() { cancel_all(); }

int64_t AsioTimerService::wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TimerId AsioTimerService::schedule(int64_t delay_ms, std::function<void()> fn) {
  const TimerId id = state_->next_id++;
  auto timer =
      std::make_unique<asio::steady_timer>(executor_, std::chrono::milliseconds(std::max<int64_t>(delay_ms, 0)));
  std::weak_ptr<State> weak = state_;
  timer->async_wait([weak, id, fn = std::move(fn)](const asio::error_code&) {
    auto state = weak.lock();
    if (!state) return;
    auto it = state->timers.find(id);
    if (it == state->timers.end()) return;  // cancelled meanwhile
    state->timers.erase(it);
    fn();
  });
  state_->timers.emplace(id, std::move(timer));
  return id;
}

void AsioTimerService::cancel(TimerId id) {
  if (id != 0) state_->timers.erase(id);
}

void AsioTimerService::cancel_all() { state_->timers.clear(); }

}  // namespace runnel::coordinator
