#include "test_cluster.h"

#include "cluster_client.h"

#include <gtest/gtest.h>

#include <thread>

#ifdef RUNNEL_FAULT_HARNESS
#include "bind_source.h"
#include "network_namespace.h"
#endif

namespace runnel::it {

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

TestCluster::TestCluster(TestClusterOptions options) : options_(std::move(options)) {
  EtcdProcess::Options etcd;
  if (options_.namespaced) {
    etcd.host = "127.0.0.10";
    etcd.client_port = 2379;
  }
  etcd_ = std::make_unique<EtcdProcess>(etcd);
  for (int id = 1; id <= options_.brokers; ++id) add_broker(id);
}

TestCluster::~TestCluster() {
  // Brokers first (by PID, each reaped), then etcd.
  brokers_.clear();
  etcd_.reset();
}

std::string TestCluster::host_of(int id) const {
  return options_.namespaced ? "127.0.0.1" + std::to_string(id) : std::string("127.0.0.1");
}

std::string TestCluster::metadata_store() const { return "etcd://" + etcd_->endpoint(); }

std::vector<std::string> TestCluster::broker_overrides(int id) const {
  std::vector<std::string> out = {
      "node.id=" + std::to_string(id),
      "metadata.store.prefix=" + options_.prefix,
      "broker.session.timeout.ms=" + std::to_string(options_.session_timeout_ms),
      "broker.heartbeat.interval.ms=" + std::to_string(options_.heartbeat_interval_ms),
      // Tests wait for failovers: a quicker ISR shrink and fetch backoff keep them short.
      "replica.lag.time.max.ms=3000",
      "replica.fetch.backoff.ms=200",
      "group.initial.rebalance.delay.ms=0",
      "group.min.session.timeout.ms=1000",
  };
  if (auto rack = options_.racks.find(id); rack != options_.racks.end()) out.push_back("broker.rack=" + rack->second);
  out.insert(out.end(), options_.overrides.begin(), options_.overrides.end());
  return out;
}

bool TestCluster::known_everywhere(int id, std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        for (const auto& [other, broker] : brokers_) {
          if (other == id || !broker->alive()) continue;
          auto view = ClusterClient(address(other)).view();
          if (!view || !view->brokers.count(id)) return false;
        }
        return true;
      },
      timeout);
}

BrokerProcess& TestCluster::add_broker(int id) {
  BrokerProcessOptions options;
  options.host = host_of(id);
  options.name = "broker-" + std::to_string(id);
  if (options_.namespaced) {
    options.port = 9092;
#ifdef RUNNEL_FAULT_HARNESS
    options.environment = fault::BindSourceEnvironment(options.host);
#endif
  }
  auto overrides = broker_overrides(id);
  if (etcd_->running()) overrides.push_back("metadata.store=" + metadata_store());
  auto& slot = brokers_[id];
  slot = std::make_unique<BrokerProcess>(std::move(overrides), options);
  return *slot;
}

bool TestCluster::start() {
  try {
    etcd_->start();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "etcd did not start: " << e.what();
    return false;
  }
  // The store endpoint is known only now (free port).
  for (auto& [id, broker] : brokers_) {
    auto overrides = broker->overrides();
    overrides.push_back("metadata.store=" + metadata_store());
    broker->set_overrides(std::move(overrides));
  }
  bool ok = true;
  for (auto& [id, broker] : brokers_) ok = broker->start() && ok;
  if (!ok) return false;
  // Up when every broker sees all of them registered and a controller.
  const bool formed = WaitFor(
      [&] {
        for (auto& [id, broker] : brokers_) {
          auto view = ClusterClient(broker->bootstrap()).view();
          if (!view || view->controller < 0 || view->brokers.size() != brokers_.size()) return false;
        }
        return true;
      },
      std::chrono::seconds(30));
  if (!formed) ADD_FAILURE() << "the brokers did not form a cluster within 30 s";
  return formed;
}

std::vector<int> TestCluster::broker_ids() const {
  std::vector<int> ids;
  for (const auto& [id, broker] : brokers_) ids.push_back(id);
  return ids;
}

std::string TestCluster::address(int id) const { return brokers_.at(id)->bootstrap(); }

std::string TestCluster::bootstrap() {
  std::string out;
  for (auto& [id, broker] : brokers_) {
    if (!broker->alive()) continue;
    out += (out.empty() ? "" : ",") + broker->bootstrap();
  }
  return out;
}

}  // namespace runnel::it
