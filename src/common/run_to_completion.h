#pragma once
// Drives a coroutine on an io_context from the calling thread, bounded in time:
// for blocking callers of asynchronous code (the CLI's admin connection, tests).
#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

namespace runnel {

// Runs `io` until `done()` or `limit` passes; true if done.
inline bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::min<std::chrono::steady_clock::duration>(deadline - now, std::chrono::milliseconds(50)));
  }
  return true;
}

// Runs `task` to completion: its result, or nullopt when it did not finish
// within `limit`; rethrows what it threw. (State is shared with the coroutine,
// which may outlive a call that gave up on it.)
template <typename T>
std::optional<T> run_to_completion(asio::io_context& io, asio::awaitable<T> task, std::chrono::milliseconds limit) {
  struct State {
    std::optional<T> result;
    std::exception_ptr error;
    bool done = false;
  };
  auto state = std::make_shared<State>();
  asio::co_spawn(
      io,
      [state, task = std::move(task)]() mutable -> asio::awaitable<void> {
        auto result = co_await std::move(task);
        state->result.emplace(std::move(result));
      },
      [state](std::exception_ptr e) {
        state->error = e;
        state->done = true;
      });
  if (!run_until(io, [&] { return state->done; }, limit)) return std::nullopt;
  if (state->error) std::rethrow_exception(state->error);
  return std::move(state->result);
}

}  // namespace runnel
