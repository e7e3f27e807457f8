#include "cli/admin_connection.h"

#include <sstream>

#include "cli/kafka_client.h"

namespace runnel::cli {
namespace {

std::vector<std::pair<std::string, uint16_t>> parse_brokers(const std::string& list) {
  std::vector<std::pair<std::string, uint16_t>> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    const auto colon = item.rfind(':');
    int port = 9092;
    std::string host = item;
    if (colon != std::string::npos) {
      host = item.substr(0, colon);
      try {
        port = std::stoi(item.substr(colon + 1));
      } catch (const std::exception&) {
        port = -1;
      }
    }
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty() || port <= 0 || port > 65535) usage_error("invalid broker address '" + item + "'");
    out.emplace_back(host, static_cast<uint16_t>(port));
  }
  if (out.empty()) usage_error("no broker address given");
  return out;
}

}  // namespace

AdminConnection::AdminConnection(const ClientOptions& options)
    : brokers_(options.brokers), timeout_ms_(options.timeout_ms()) {
  const auto addresses = parse_brokers(options.brokers);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  std::string reason = "no answer";
  // Round-robin over the bootstrap list until one connects or time runs out.
  for (size_t attempt = 0; std::chrono::steady_clock::now() < deadline; ++attempt) {
    const auto& [host, port] = addresses[attempt % addresses.size()];
    replication::BrokerClient::Options o;
    o.host = host;
    o.port = port;
    o.client_id = "runnel-cli";
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    o.connect_timeout_ms = static_cast<int32_t>(std::max<int64_t>(left.count(), 1));
    o.request_timeout_ms = timeout_ms_;
    auto client = replication::BrokerClient::create(io_.get_executor(), o);
    auto task = [](std::shared_ptr<replication::BrokerClient> c) -> asio::awaitable<replication::Result<void>> {
      co_return co_await c->connect();
    };
    auto connected = run_to_completion(io_, task(client), left + std::chrono::milliseconds(100));
    if (connected && *connected) {
      client_ = std::move(client);
      return;
    }
    client->close();
    if (connected) {
      reason = connected->error().message;
      // "connect to 127.0.0.1:1: Connection refused" -> the cause a person needs.
      if (const auto pos = reason.rfind(": "); pos != std::string::npos) reason = reason.substr(pos + 2);
    }
    // Refused at once: pause briefly instead of spinning until the deadline.
    if (attempt % addresses.size() == addresses.size() - 1) io_.run_for(std::chrono::milliseconds(200));
  }
  unreachable(reason);
}

AdminConnection::~AdminConnection() {
  if (client_) client_->close();
  io_.restart();
  io_.run_for(std::chrono::milliseconds(10));
}

void AdminConnection::unreachable(const std::string& reason) const {
  throw CliError(kExitUnreachable,
                 "cannot reach broker at " + brokers_ + " within " + seconds_text(timeout_ms_) + ": " + reason);
}

}  // namespace runnel::cli
