#pragma once
// Bridges the coordinator's callbacks to C++20 coroutines: a handler does
//   auto result = co_await await_callback<JoinResult>([&](auto done) { coordinator.join_group(..., done); });
// The result is posted back to the coroutine's executor, so the coordinator never
// resumes a handler from inside its own code.
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace runnel {

template <typename Result, typename Start>
asio::awaitable<Result> await_callback(Start start) {
  auto executor = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Result)>(
      [executor](auto handler, Start start) {
        // The handler is move-only and the callback must be copyable (std::function);
        // a second call of the callback is ignored.
        using Handler = decltype(handler);
        auto shared = std::make_shared<std::optional<Handler>>(std::move(handler));
        start(std::function<void(Result)>([executor, shared](Result result) {
          if (!shared->has_value()) return;
          auto once = std::make_shared<Handler>(std::move(**shared));
          shared->reset();
          asio::post(executor, [once, result = std::move(result)]() mutable { (*once)(std::move(result)); });
        }));
      },
      asio::use_awaitable, std::move(start));
}

}  // namespace runnel::coordinator
