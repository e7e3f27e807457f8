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

#include "common/run_to_completion.h"

namespace runnel::replication::test {

// Runs the io_context until `done()` or `limit` passes; true if done.
inline bool run_until(asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  return runnel::run_until(io, done, limit);
}

// Lets pending handlers run for a moment (connections closing, loops ending).
inline void run_for(asio::io_context& io, std::chrono::milliseconds duration) {
  run_until(io, [] { return false; }, duration);
}

// Runs `task` to completion; throws if it throws or does not finish in time.
template <typename T>
T run(asio::io_context& io, asio::awaitable<T> task, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto result = run_to_completion(io, std::move(task), limit);
  if (!result) throw std::runtime_error("coroutine did not finish in time");
  return std::move(*result);
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
