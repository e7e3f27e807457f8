// AdminConnection: a blocking Kafka client on the project's own protocol code,
// for the admin APIs librdkafka 2.0.2 does not offer (partition reassignment,
// leader election, racks in Metadata). Talks to the first bootstrap broker that
// answers; the broker forwards controller-only requests itself. Plaintext only:
// the -X client properties apply to the librdkafka-based commands.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include "cli/common_options.h"
#include "cli/exit_codes.h"
#include "common/run_to_completion.h"
#include "replication/broker_client.h"

namespace runnel::cli {

class AdminConnection {
 public:
  // Connects to the first of `options.brokers` that answers within --timeout;
  // throws CliError(kExitUnreachable) naming the brokers when none does.
  explicit AdminConnection(const ClientOptions& options);
  ~AdminConnection();
  AdminConnection(const AdminConnection&) = delete;
  AdminConnection& operator=(const AdminConnection&) = delete;

  // Sends `request` in the highest version both sides support and returns the
  // response; throws CliError when there is no answer within `timeout`
  // (default: --timeout).
  template <typename Request>
  typename Request::Response call(Request request, std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  int timeout_ms() const { return timeout_ms_; }

 private:
  [[noreturn]] void unreachable(const std::string& reason) const;

  asio::io_context io_;
  std::shared_ptr<replication::BrokerClient> client_;
  std::string brokers_;
  int timeout_ms_ = 5000;
};

template <typename Request>
typename Request::Response AdminConnection::call(Request request, std::optional<std::chrono::milliseconds> timeout) {
  using Response = typename Request::Response;
  auto task = [](std::shared_ptr<replication::BrokerClient> client,
                 Request request) -> asio::awaitable<replication::Result<replication::Decoded<Response>>> {
    co_return co_await client->send(std::move(request));
  };
  const auto limit = timeout.value_or(std::chrono::milliseconds(timeout_ms_));
  auto result = run_to_completion(io_, task(client_, std::move(request)), limit);
  if (!result) {
    client_->close();
    fail(std::string(Request::kName) + " got no answer from " + client_->options().host + ":" +
         std::to_string(client_->options().port) + " within " + std::to_string(limit.count()) + " ms");
  }
  if (!*result) fail(std::string(Request::kName) + " failed: " + result->error().describe());
  return std::move(result->value().message);
}

}  // namespace runnel::cli
