// BrokerClient against scripted fake peers: version negotiation, pipelining,
// and every way a peer or the network can let it down (silence, a close in
// the middle of a response, a wrong correlation id, a huge size prefix, a
// restart), plus close(), source-address binding and connect failures.
#include <gtest/gtest.h>

#include <thread>

#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "fake_peer.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/metadata.h"
#include "replication/broker_client.h"
#include "run_coroutine.h"

namespace runnel::replication::test {
namespace {

using namespace std::chrono_literals;
using protocol::MetadataRequest;
using protocol::MetadataResponse;
using MetadataResult = Result<Decoded<MetadataResponse>>;

constexpr int16_t kMetadataKey = MetadataRequest::kApiKey;

// A Metadata answer the tests can recognise: one broker with this node id.
MetadataResponse metadata_naming(int32_t node_id) {
  MetadataResponse response;
  response.brokers.push_back({node_id, "fake", 9092, std::nullopt});
  return response;
}

// Serves the handshake, then answers every Metadata request with node id =
// the connection index (so a test can tell connections apart).
asio::awaitable<void> answer_metadata(std::shared_ptr<FakeConnection> connection, int index) {
  const bool ok = co_await connection->handshake();
  if (!ok) co_return;
  for (;;) {
    const auto request = co_await connection->read_request();
    if (!request) co_return;
    const bool written = co_await connection->respond(*request, metadata_naming(index));
    if (!written) co_return;
  }
}

class BrokerClientFaults : public ::testing::Test {
 protected:
  void TearDown() override {
    // Let every loop see its socket closed before the io_context goes away.
    for (auto& client : clients_) client->close();
    peers_.clear();
    run_for(io_, 50ms);
  }

  FakePeer& peer(FakePeer::Serve serve) {
    return *peers_.emplace_back(std::make_unique<FakePeer>(io_, std::move(serve)));
  }

  std::shared_ptr<BrokerClient> client_for(uint16_t port, int32_t request_timeout_ms = 10000,
                                           std::string source_address = "") {
    BrokerClient::Options options;
    options.host = "127.0.0.1";
    options.port = port;
    options.source_address = std::move(source_address);
    options.client_id = "test-broker";
    options.connect_timeout_ms = 5000;
    options.request_timeout_ms = request_timeout_ms;
    return clients_.emplace_back(BrokerClient::create(io_.get_executor(), options));
  }

  MetadataResult metadata(const std::shared_ptr<BrokerClient>& client, int16_t version = 12) {
    return run(io_, client->send(MetadataRequest{}, version));
  }

  asio::io_context io_;
  std::vector<std::unique_ptr<FakePeer>> peers_;
  std::vector<std::shared_ptr<BrokerClient>> clients_;
};

TEST_F(BrokerClientFaults, PicksVersionsFromThePeersApiVersions) {
  auto& fake = peer([](std::shared_ptr<FakeConnection> connection, int) -> asio::awaitable<void> {
    // (Locals, not braced lists inside co_await: GCC 12 miscompiles those.)
    const std::vector<ApiRange> ranges{{18, 0, 3}, {kMetadataKey, 1, 5}};
    const bool ok = co_await connection->handshake(ranges);
    if (!ok) co_return;
    for (;;) {
      const auto request = co_await connection->read_request();
      if (!request) co_return;
      co_await connection->respond(*request, metadata_naming(0));
    }
  });
  auto client = client_for(fake.port());
  EXPECT_FALSE(client->pick_version(kMetadataKey, 0, 12));  // not connected yet: nothing known
  ASSERT_TRUE(run(io_, client->connect()));
  EXPECT_TRUE(client->connected());
  EXPECT_EQ(client->peer_max_version(kMetadataKey), 5);
  EXPECT_EQ(client->peer_max_version(1), std::nullopt);  // Fetch not offered
  EXPECT_EQ(client->pick_version(kMetadataKey, 0, 12), 5);
  EXPECT_EQ(client->pick_version(kMetadataKey, 3, 4), 4);
  EXPECT_EQ(client->pick_version(kMetadataKey, 6, 12), std::nullopt);
  EXPECT_EQ(client->pick_version(kMetadataKey, 0, 0), std::nullopt);

  // A version the peer does not serve is refused here, not sent (a broker
  // would drop the connection, and every other request with it).
  auto refused = metadata(client, 12);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ClientError::kUnsupportedVersion);
  EXPECT_EQ(fake.requests_seen(), 1);  // just ApiVersions

  auto chosen = run(io_, client->send(MetadataRequest{}));
  ASSERT_TRUE(chosen) << chosen.error().describe();
  EXPECT_EQ(chosen->version, 5);
  EXPECT_TRUE(client->connected());
}

TEST_F(BrokerClientFaults, FallsBackWhenThePeerRejectsApiVersionsV3) {
  std::vector<int16_t> versions_asked;
  auto& fake = peer([&](std::shared_ptr<FakeConnection> connection, int) -> asio::awaitable<void> {
    auto first = co_await connection->read_request();
    if (!first) co_return;
    versions_asked.push_back(first->api_version);
    // As Kafka answers a too-new ApiVersions: v0 layout, UNSUPPORTED_VERSION, its own range.
    protocol::ApiVersionsResponse rejection;
    rejection.error_code = 35;
    rejection.api_keys.push_back({18, 0, 2});
    std::vector<uint8_t> body;
    protocol::Writer w(body);
    rejection.encode(w, 0);
    const bool written = co_await connection->respond(*first, body);
    if (!written) co_return;
    auto second = co_await connection->read_request();
    if (!second) co_return;
    versions_asked.push_back(second->api_version);
    protocol::ApiVersionsResponse accepted;
    accepted.api_keys = {{18, 0, 2}, {kMetadataKey, 0, 7}};
    co_await connection->respond(*second, accepted);
    co_await connection->drain_until_closed();
  });
  auto client = client_for(fake.port());
  auto connected = run(io_, client->connect());
  ASSERT_TRUE(connected) << connected.error().describe();
  EXPECT_EQ(versions_asked, (std::vector<int16_t>{3, 2}));
  EXPECT_EQ(client->peer_max_version(18), 2);
  EXPECT_EQ(client->pick_version<MetadataRequest>(), 7);
}

TEST_F(BrokerClientFaults, PipelinedRequestsAreMatchedInOrder) {
  constexpr int kRequests = 10;
  auto& fake = peer([](std::shared_ptr<FakeConnection> connection, int) -> asio::awaitable<void> {
    const bool ok = co_await connection->handshake();
    if (!ok) co_return;
    // Read them all before answering any: they must all be on the wire at once.
    std::vector<FakeRequest> requests;
    while (requests.size() < kRequests) {
      auto request = co_await connection->read_request();
      if (!request) co_return;
      requests.push_back(*request);
    }
    for (size_t i = 0; i < requests.size(); ++i) {
      co_await connection->respond(requests[i], metadata_naming(static_cast<int32_t>(i)));
    }
    co_await connection->drain_until_closed();
  });
  auto client = client_for(fake.port());
  std::vector<asio::awaitable<MetadataResult>> tasks;
  for (int i = 0; i < kRequests; ++i) tasks.push_back(client->send(MetadataRequest{}, 12));
  auto results = run_concurrently(io_, std::move(tasks));
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(results[i]) << "request " << i << " never finished";
    ASSERT_TRUE(*results[i]) << results[i]->error().describe();
    EXPECT_EQ((*results[i])->message.brokers.at(0).node_id, i);
  }
  EXPECT_EQ(fake.accepted(), 1);
}

TEST_F(BrokerClientFaults, UnansweredRequestTimesOutAndFailsTheOthersInFlight) {
  bool client_closed_first_connection = false;
  auto& fake = peer([&](std::shared_ptr<FakeConnection> connection, int index) -> asio::awaitable<void> {
    if (index > 0) {
      co_await answer_metadata(connection, index);
      co_return;
    }
    const bool ok = co_await connection->handshake();
    if (!ok) co_return;
    client_closed_first_connection = co_await connection->drain_until_closed();  // never answers
  });
  auto client = client_for(fake.port(), /*request_timeout_ms=*/300);
  ASSERT_TRUE(run(io_, client->connect()));
  const auto started = std::chrono::steady_clock::now();
  std::vector<asio::awaitable<MetadataResult>> tasks;
  for (int i = 0; i < 3; ++i) tasks.push_back(client->send(MetadataRequest{}, 12));
  auto results = run_concurrently(io_, std::move(tasks));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  int timed_out = 0;
  int disconnected = 0;
  for (auto& result : results) {
    ASSERT_TRUE(result && !*result);
    timed_out += result->error().code == ClientError::kTimedOut;
    disconnected += result->error().code == ClientError::kDisconnected;
  }
  // The first to time out closes the connection; the rest fail with it.
  EXPECT_EQ(timed_out, 1);
  EXPECT_EQ(disconnected, 2);
  EXPECT_FALSE(client->connected());
  EXPECT_TRUE(run_until(io_, [&] { return client_closed_first_connection; }, 5s));

  // The next call connects again.
  auto again = metadata(client);
  ASSERT_TRUE(again) << again.error().describe();
  EXPECT_EQ(again->message.brokers.at(0).node_id, 1);
  EXPECT_EQ(fake.accepted(), 2);
}

TEST_F(BrokerClientFaults, PeerClosingMidResponseFailsWithDisconnected) {
  auto& fake = peer([](std::shared_ptr<FakeConnection> connection, int index) -> asio::awaitable<void> {
    if (index > 0) {
      co_await answer_metadata(connection, index);
      co_return;
    }
    const bool ok = co_await connection->handshake();
    if (!ok) co_return;
    auto request = co_await connection->read_request();
    if (!request) co_return;
    // Promise 100 bytes, send the correlation id and a few more, then hang up.
    std::vector<uint8_t> partial{0, 0, 0, 100};
    for (int shift = 24; shift >= 0; shift -= 8) {
      partial.push_back(static_cast<uint8_t>(request->correlation_id >> shift));
    }
    partial.insert(partial.end(), 6, 0);
    co_await connection->write(partial);
  });
  auto client = client_for(fake.port());
  auto result = metadata(client);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ClientError::kDisconnected) << result.error().describe();
  auto again = metadata(client);
  ASSERT_TRUE(again) << again.error().describe();
  EXPECT_EQ(fake.accepted(), 2);
}

TEST_F(BrokerClientFaults, WrongCorrelationIdIsAProtocolErrorThatClosesTheConnection) {
  bool closed_by_client = false;
  auto& fake = peer([&](std::shared_ptr<FakeConnection> connection, int) -> asio::awaitable<void> {
    const bool ok = co_await connection->handshake();
    if (!ok) co_return;
    auto first = co_await connection->read_request();
    auto second = co_await connection->read_request();
    if (!first || !second) co_return;
    FakeRequest wrong = *first;
    wrong.correlation_id += 1000;
    co_await connection->respond(wrong, metadata_naming(0));
    closed_by_client = co_await connection->drain_until_closed();
  });
  auto client = client_for(fake.port());
  ASSERT_TRUE(run(io_, client->connect()));
  std::vector<asio::awaitable<MetadataResult>> tasks;
  tasks.push_back(client->send(MetadataRequest{}, 12));
  tasks.push_back(client->send(MetadataRequest{}, 12));
  auto results = run_concurrently(io_, std::move(tasks));
  for (auto& result : results) {
    ASSERT_TRUE(result && !*result);
    EXPECT_EQ(result->error().code, ClientError::kProtocolError) << result->error().describe();
  }
  EXPECT_NE(results[0]->error().message.find("correlation id"), std::string::npos) << results[0]->error().message;
  EXPECT_TRUE(run_until(io_, [&] { return closed_by_client; }, 5s));
  EXPECT_FALSE(client->connected());
}

TEST_F(BrokerClientFaults, OversizedOrNegativeSizePrefixIsRefusedWithoutWaitingForTheBytes) {
  const std::vector<std::vector<uint8_t>> prefixes = {{0x7f, 0xff, 0xff, 0xff}, {0xff, 0xff, 0xff, 0xff}, {0, 0, 0, 2}};
  auto& fake = peer([&](std::shared_ptr<FakeConnection> connection, int index) -> asio::awaitable<void> {
    const bool ok = co_await connection->handshake();
    if (!ok) co_return;
    const auto request = co_await connection->read_request();
    if (!request) co_return;
    co_await connection->write(prefixes.at(static_cast<size_t>(index) % prefixes.size()));
    co_await connection->drain_until_closed();  // and then nothing: the client must not wait for more
  });
  auto client = client_for(fake.port(), /*request_timeout_ms=*/30000);
  for (size_t i = 0; i < prefixes.size(); ++i) {
    const auto started = std::chrono::steady_clock::now();
    auto result = metadata(client);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ClientError::kProtocolError) << result.error().describe();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);  // well before the request timeout
  }
  EXPECT_EQ(fake.accepted(), 3);
}

TEST_F(BrokerClientFaults, MalformedBodyFailsOnlyThatRequest) {
  auto& fake = peer([](std::shared_ptr<FakeConnection> connection, int) -> asio::awaitable<void> {
    const bool ok = co_await connection->handshake();
    if (!ok) co_return;
    auto bad = co_await connection->read_request();
    const std::vector<uint8_t> garbage{0xff, 0xff, 0xff};
    if (!bad) co_return;
    co_await connection->respond(*bad, garbage);
    auto good = co_await connection->read_request();
    if (!good) co_return;
    co_await connection->respond(*good, metadata_naming(7));
    co_await connection->drain_until_closed();
  });
  auto client = client_for(fake.port());
  auto bad = metadata(client);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ClientError::kProtocolError);
  // The framing was intact: the connection carries on.
  EXPECT_TRUE(client->connected());
  auto good = metadata(client);
  ASSERT_TRUE(good) << good.error().describe();
  EXPECT_EQ(good->message.brokers.at(0).node_id, 7);
  EXPECT_EQ(fake.accepted(), 1);
}

TEST_F(BrokerClientFaults, BindsTheLocalEndToTheSourceAddress) {
  auto& fake = peer(answer_metadata);
  auto explicit_loopback = client_for(fake.port(), 10000, "127.0.0.1");
  ASSERT_TRUE(metadata(explicit_loopback));
  ASSERT_EQ(fake.client_addresses().size(), 1u);
  EXPECT_EQ(fake.client_addresses()[0], "127.0.0.1");

  // Another loopback address shows the choice is really ours, not the kernel's
  // default (Linux routes all of 127/8 to lo).
  asio::ip::tcp::socket probe(io_);
  asio::error_code ec;
  probe.open(asio::ip::tcp::v4());
  probe.bind({asio::ip::make_address("127.0.0.2"), 0}, ec);
  probe.close();
  if (!ec) {
    auto other = client_for(fake.port(), 10000, "127.0.0.2");
    auto result = metadata(other);
    ASSERT_TRUE(result) << result.error().describe();
    ASSERT_EQ(fake.client_addresses().size(), 2u);
    EXPECT_EQ(fake.client_addresses()[1], "127.0.0.2");
  }

  auto invalid = client_for(fake.port(), 10000, "not-an-address");
  auto refused = metadata(invalid);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ClientError::kConnectFailed);
  auto wrong_family = client_for(fake.port(), 10000, "::1");
  auto unusable = metadata(wrong_family);
  ASSERT_FALSE(unusable);
  EXPECT_EQ(unusable.error().code, ClientError::kConnectFailed);
}

TEST_F(BrokerClientFaults, CloseFailsEverythingInFlightPromptlyAndTheNextCallReconnects) {
  auto& fake = peer([](std::shared_ptr<FakeConnection> connection, int index) -> asio::awaitable<void> {
    if (index > 0) {
      co_await answer_metadata(connection, index);
      co_return;
    }
    const bool ok = co_await connection->handshake();
    if (!ok) co_return;
    co_await connection->drain_until_closed();  // never answers
  });
  auto client = client_for(fake.port(), /*request_timeout_ms=*/60000);
  ASSERT_TRUE(run(io_, client->connect()));

  auto results = std::make_shared<std::vector<MetadataResult>>();
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(
        io_,
        [client, results]() -> asio::awaitable<void> {
          auto result = co_await client->send(MetadataRequest{}, 12);
          results->push_back(std::move(result));
        },
        asio::detached);
  }
  ASSERT_TRUE(run_until(io_, [&] { return fake.requests_seen() == 4; }, 5s));  // ApiVersions + 3
  const auto closed_at = std::chrono::steady_clock::now();
  client->close();
  ASSERT_TRUE(run_until(io_, [&] { return results->size() == 3; }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - closed_at, 5s);
  for (const auto& result : *results) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ClientError::kClosed);
  }
  EXPECT_FALSE(client->connected());

  auto again = metadata(client);
  ASSERT_TRUE(again) << again.error().describe();
  EXPECT_EQ(again->message.brokers.at(0).node_id, 1);
}

TEST_F(BrokerClientFaults, DroppingTheClientClosesItsIdleConnection) {
  bool closed_by_client = false;
  auto& fake = peer([&](std::shared_ptr<FakeConnection> connection, int) -> asio::awaitable<void> {
    const bool ok = co_await connection->handshake();
    if (!ok) co_return;
    closed_by_client = co_await connection->drain_until_closed();
  });
  std::weak_ptr<BrokerClient> weak;
  {
    BrokerClient::Options options;
    options.host = "127.0.0.1";
    options.port = fake.port();
    auto client = BrokerClient::create(io_.get_executor(), options);
    weak = client;
    ASSERT_TRUE(run(io_, client->connect()));
  }
  // Its read loop holds the connection, not the client.
  EXPECT_TRUE(weak.expired());
  EXPECT_TRUE(run_until(io_, [&] { return closed_by_client; }, 5s));
}

TEST_F(BrokerClientFaults, ReconnectsAfterThePeerRestarts) {
  auto& fake = peer(answer_metadata);
  auto client = client_for(fake.port());
  ASSERT_TRUE(metadata(client));

  fake.stop();
  auto down = metadata(client);
  ASSERT_FALSE(down);
  EXPECT_TRUE(down.error().code == ClientError::kDisconnected || down.error().code == ClientError::kConnectFailed)
      << down.error().describe();
  auto refused = metadata(client);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ClientError::kConnectFailed) << refused.error().describe();

  fake.start();
  auto back = metadata(client);
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(back->message.brokers.at(0).node_id, 1);
  EXPECT_EQ(fake.accepted(), 2);
}

TEST_F(BrokerClientFaults, ConnectionRefusedFailsFast) {
  uint16_t port = 0;
  {
    asio::ip::tcp::acceptor free_port(io_, {asio::ip::make_address("127.0.0.1"), 0});
    port = free_port.local_endpoint().port();
  }
  auto client = client_for(port);
  const auto started = std::chrono::steady_clock::now();
  auto result = metadata(client);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ClientError::kConnectFailed);
  EXPECT_NE(result.error().message.find("refused"), std::string::npos) << result.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

// A listener whose accept queue is full drops new SYNs (Linux), so a connect
// to it hangs: the connect timeout, and close() during a connect.
class HangingListener {
 public:
  explicit HangingListener(asio::io_context& io) : acceptor_(io), filler_(io) {
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen(0);
    port_ = acceptor_.local_endpoint().port();
    // Fills the queue (never accepted). Non-blocking, so this can never hang.
    asio::error_code ec;
    filler_.open(endpoint.protocol());
    filler_.non_blocking(true);
    filler_.connect({endpoint.address(), port_}, ec);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  uint16_t port() const { return port_; }

 private:
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::socket filler_;
  uint16_t port_ = 0;
};

TEST_F(BrokerClientFaults, ConnectTimesOutAndCloseAbortsAConnectInProgress) {
  HangingListener listener(io_);
  BrokerClient::Options options;
  options.host = "127.0.0.1";
  options.port = listener.port();
  options.connect_timeout_ms = 300;
  auto client = clients_.emplace_back(BrokerClient::create(io_.get_executor(), options));
  const auto started = std::chrono::steady_clock::now();
  auto result = run(io_, client->connect());
  if (result) GTEST_SKIP() << "this kernel accepted a connection past a full backlog";
  EXPECT_EQ(result.error().code, ClientError::kConnectTimedOut) << result.error().describe();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);

  // A connect with a long timeout, cut short by close(); everyone waiting on it fails.
  auto patient = client_for(listener.port());
  auto outcomes = std::make_shared<std::vector<MetadataResult>>();
  for (int i = 0; i < 2; ++i) {
    asio::co_spawn(
        io_,
        [patient, outcomes]() -> asio::awaitable<void> {
          auto outcome = co_await patient->send(MetadataRequest{}, 12);
          outcomes->push_back(std::move(outcome));
        },
        asio::detached);
  }
  run_for(io_, 100ms);
  EXPECT_TRUE(outcomes->empty());
  patient->close();
  ASSERT_TRUE(run_until(io_, [&] { return outcomes->size() == 2; }, 5s));
  for (const auto& outcome : *outcomes) {
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, ClientError::kClosed) << outcome.error().describe();
  }
}

}  // namespace
}  // namespace runnel::replication::test
