// TestCluster: a real etcd and N real `runnel serve` brokers for one test.
//
// Outside a private network namespace everything listens on 127.0.0.1 with free
// ports. Inside one (tests/fault: the test binary entered it in main()), etcd
// listens on 127.0.0.10 and broker i on 127.0.0.1i, each broker's outbound
// connections leaving from its own address (LD_PRELOAD bind shim), so that nft
// rules between two addresses cut exactly that link.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker_process.h"
#include "etcd_process.h"

namespace runnel::it {

struct TestClusterOptions {
  int brokers = 3;
  bool namespaced = false;
  // `--set` for every broker (after the harness's own, so they win).
  std::vector<std::string> overrides;
  int64_t session_timeout_ms = 3000;
  int64_t heartbeat_interval_ms = 500;
  std::string prefix = "/runnel";
  // broker.rack per node id (none when absent).
  std::map<int, std::string> racks;
};

class TestCluster {
 public:
  explicit TestCluster(TestClusterOptions options = {});
  ~TestCluster();
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  // Starts etcd, then every broker (together). Reports a gtest failure and
  // returns false when something does not come up.
  [[nodiscard]] bool start();
  // Adds broker `id` (not started): e.g. a fourth broker for a reassignment.
  BrokerProcess& add_broker(int id);
  // Waits until every other running broker lists broker `id` in Metadata (so the
  // controller, wherever it is, knows it before a request names it).
  [[nodiscard]] bool known_everywhere(int id, std::chrono::milliseconds timeout);

  EtcdProcess& etcd() { return *etcd_; }
  BrokerProcess& broker(int id) { return *brokers_.at(id); }
  std::vector<int> broker_ids() const;
  const TestClusterOptions& options() const { return options_; }
  // "host:port" of broker `id`, and of every broker that runs now.
  std::string address(int id) const;
  std::string bootstrap();
  // The address broker `id` listens on (127.0.0.1, or 127.0.0.1<id> namespaced).
  std::string host_of(int id) const;
  std::string metadata_store() const;

 private:
  std::vector<std::string> broker_overrides(int id) const;

  TestClusterOptions options_;
  std::unique_ptr<EtcdProcess> etcd_;
  std::map<int, std::unique_ptr<BrokerProcess>> brokers_;
};

// Waits until `pred` holds, polling every 50 ms, for at most `timeout`.
bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

}  // namespace runnel::it
