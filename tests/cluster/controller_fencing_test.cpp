// Two controllers must never both act. A controller paused past its session is
// replaced; when it resumes it must not change anything: every write of a
// controller is a transaction conditioned on its own controller record.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "cluster/controller.h"
#include "cluster/etcd_store.h"
#include "cluster/membership.h"
#include "cluster/metadata_view.h"
#include "cluster/store_await.h"
#include "cluster_client.h"
#include "file_util.h"
#include "http_client.h"
#include "run_coroutine.h"
#include "test_cluster.h"

namespace runnel::it {
namespace {

using namespace std::chrono_literals;
using replication::test::run;
using replication::test::run_until;

// A controller of an in-process broker-to-be, on a real etcd, whose event loop
// the test runs by hand, so that what it sees and when it writes is ordered.
struct InProcessController {
  InProcessController(asio::io_context& io, const std::string& endpoint, int32_t node_id, const TopicConfigResolver& r)
      : store(io.get_executor(), cluster::EtcdOptions{{endpoint}}),
        keys("/fencing"),
        view(io.get_executor(), store, keys),
        membership(io.get_executor(), store, keys, view, config(node_id)),
        controller(io.get_executor(), store, keys, view, membership, r, controller_config(node_id)) {}

  static cluster::ControllerConfig controller_config(int32_t node_id) {
    cluster::ControllerConfig c;
    c.node_id = node_id;
    return c;
  }

  static cluster::MembershipConfig config(int32_t node_id) {
    cluster::MembershipConfig c;
    c.registration.id = node_id;
    c.registration.incarnation = "test-" + std::to_string(node_id);
    c.registration.endpoints = {{"PLAINTEXT", "127.0.0.1", 9000 + node_id}};
    c.session_timeout_ms = 2000;
    c.heartbeat_interval_ms = 300;
    return c;
  }

  cluster::EtcdStore store;
  cluster::MetadataKeys keys;
  cluster::MetadataView view;
  cluster::Membership membership;
  cluster::Controller controller;
};

TEST(ControllerFencing, ADeposedControllersWriteIsRejectedByTheStore) {
  EtcdProcess etcd;
  etcd.start();
  asio::io_context io;
  TopicConfigResolver resolver({});
  InProcessController a(io, etcd.endpoint(), 1, resolver);
  ASSERT_TRUE(run(io, a.view.load(std::chrono::steady_clock::now() + 10s)).ok());
  a.view.start();
  auto registered = [](cluster::Membership& m) -> asio::awaitable<bool> {
    co_await m.register_broker(std::chrono::steady_clock::now() + 10s);
    co_return true;
  };
  ASSERT_TRUE(run(io, registered(a.membership)));
  a.membership.start();
  a.controller.start();
  ASSERT_TRUE(run_until(io, [&] { return a.controller.active(); }, 15s)) << "A never became controller";
  const int64_t a_epoch = a.controller.epoch();

  // A stops hearing from the store (its watch ends, as for a paused process),
  // and meanwhile another broker takes over: A's record is replaced by B's.
  a.view.stop();
  const auto record = etcd.etcdctl({"get", "/fencing/controller", "--print-value-only"});
  ASSERT_NE(record.find("\"broker_id\":1"), std::string::npos) << record;
  etcd.etcdctl({"del", "/fencing/controller"});
  etcd.etcdctl({"put", "/fencing/controller", R"({"broker_id":2,"epoch":)" + std::to_string(a_epoch + 1) + "}"});
  ASSERT_TRUE(a.controller.active()) << "A cannot know yet";

  // A, unaware, decides to create a topic: the store refuses the transaction.
  std::vector<cluster::NewTopic> topics(1);
  topics[0].name = "written-by-a-deposed-controller";
  topics[0].partitions = 1;
  topics[0].replication_factor = 1;
  const auto results = run(io, a.controller.create_topics(topics, false), 20s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].result.error, ErrorCode::kNotController) << results[0].result.message;
  EXPECT_FALSE(a.controller.active()) << "A stepped down when its write was refused";
  const auto keys = etcd.etcdctl({"get", "--prefix", "--keys-only", "/fencing/topics/"});
  EXPECT_EQ(keys.find("written-by-a-deposed-controller"), std::string::npos) << keys;
  EXPECT_NE(etcd.etcdctl({"get", "/fencing/controller", "--print-value-only"}).find("\"broker_id\":2"),
            std::string::npos);
}

std::string MetricLine(const std::string& page, const std::string& name) {
  std::istringstream lines(page);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(name + " ", 0) == 0) return line;
  return "";
}

TEST(ControllerFencing, APausedControllerIsReplacedAndDoesNotActWhenItResumes) {
  TestClusterOptions options;
  options.overrides = {"default.replication.factor=3"};
  TestCluster cluster(options);
  ASSERT_TRUE(cluster.start());
  auto view = ClusterClient(cluster.address(1)).view();
  ASSERT_TRUE(view);
  const int32_t old = view->controller;
  ASSERT_GE(old, 1);
  const int survivor = old == 1 ? 2 : 1;
  const std::string before = cluster.etcd().etcdctl({"get", "/runnel/controller", "--print-value-only"});

  ASSERT_EQ(::kill(cluster.broker(old).pid(), SIGSTOP), 0);
  int32_t successor = -1;
  const bool replaced = WaitFor(
      [&] {
        auto v = ClusterClient(cluster.address(survivor)).view();
        if (v && v->controller >= 1 && v->controller != old) successor = v->controller;
        return successor >= 1;
      },
      std::chrono::milliseconds(options.session_timeout_ms) + 10s);
  // While the old controller is paused, a client asks it to create a topic: the
  // request waits in its socket.
  int16_t answer = -2;
  std::thread client([&] { answer = ClusterClient(cluster.address(old)).create_topic("asked-of-the-paused", 2, 2); });
  std::this_thread::sleep_for(300ms);
  // The new controller changes the cluster meanwhile.
  const int16_t created = ClusterClient(cluster.address(survivor)).create_topic("made-by-the-successor", 2, 2);
  ASSERT_EQ(::kill(cluster.broker(old).pid(), SIGCONT), 0);
  client.join();
  ASSERT_TRUE(replaced) << "no other broker became controller while " << old << " was paused";
  EXPECT_EQ(created, 0);
  // The resumed broker either forwarded the request to the new controller (it
  // learned it was deposed first) or was refused by the store (NOT_CONTROLLER):
  // never did it write as controller.
  EXPECT_TRUE(answer == 0 || answer == 41) << "answer " << answer;
  const std::string after = cluster.etcd().etcdctl({"get", "/runnel/controller", "--print-value-only"});
  EXPECT_NE(after, before);
  EXPECT_NE(after.find("\"broker_id\":" + std::to_string(successor)), std::string::npos) << after;
  ASSERT_TRUE(WaitFor(
      [&] {
        const auto page = HttpGet(cluster.broker(old).http_port(), "/metrics");
        return MetricLine(page.body, "runnel_cluster_is_controller") == "runnel_cluster_is_controller 0";
      },
      15s));
  const auto log = ReadWholeFile(cluster.broker(old).stderr_path());
  EXPECT_NE(log.find("no longer the controller"), std::string::npos);
  std::printf("[fencing] paused controller %d replaced by %d; its queued CreateTopics answered %d; it says: %s\n", old,
              successor, answer,
              log.find("deposed") != std::string::npos ? "deposed (a write was refused)" : "stepped down on news");
}

}  // namespace
}  // namespace runnel::it
