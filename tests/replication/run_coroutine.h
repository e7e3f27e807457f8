#pragma once
// Drives coroutines on a test's io_context from the test thread, bounded in
// time, so a hung client fails the test instead of hanging it.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

namespace runnel::replication::test {

// Runs the io_context until `done()` or `limit` passes; true if done.
inline bool run_until(asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::min<std::chrono::steady_clock::duration>(deadline - now, std::chrono::milliseconds(50)));
  }
  return true;
}

// Lets pending handlers run for a moment (connections closing, loops ending).
inline void run_for(asio::io_context& io, std::chrono::milliseconds duration) {
  run_until(io, [] { return false; }, duration);
}

// Runs `task` to completion; throws if it throws or does not finish in time.
// (State is shared with the coroutine, which may outlive a timed-out call.)
template <typename T>
T run(asio::io_context& io, asio::awaitable<T> task, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  struct State {
    std::optional<T> result;
    std::exception_ptr error;
    bool done = false;
  };
  auto state = std::make_shared<State>();
  asio::co_spawn(
      io, [state, task = std::move(task)]() mutable -> asio::awaitable<void> {
        auto result = co_await std::move(task);
        state->result.emplace(std::move(result));
      },
      [state](std::exception_ptr e) {
        state->error = e;
        state->done = true;
      });
  if (!run_until(io, [&] { return state->done; }, limit)) throw std::runtime_error("coroutine did not finish in time");
  if (state->error) std::rethrow_exception(state->error);
  return std::move(*state->result);
}

// Starts every task at once (so they are in flight together) and collects
// their results in order; a task not finished within `limit` stays nullopt.
template <typename T>
std::vector<std::optional<T>> run_concurrently(asio::io_context& io, std::vector<asio::awaitable<T>> tasks,
                                               std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  struct State {
    std::vector<std::optional<T>> results;
    size_t finished = 0;
  };
  auto state = std::make_shared<State>();
  state->results.resize(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    asio::co_spawn(
        io,
        [state, i, task = std::move(tasks[i])]() mutable -> asio::awaitable<void> {
          auto result = co_await std::move(task);
          state->results[i].emplace(std::move(result));
        },
        [state](std::exception_ptr) { ++state->finished; });
  }
  run_until(io, [&] { return state->finished == state->results.size(); }, limit);
  return state->results;
}

}  // namespace runnel::replication::test
