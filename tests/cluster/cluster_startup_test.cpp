// Brokers that must not join a cluster refuse to start, with one line on stderr
// and a non-zero exit code: a node id a live broker holds, an etcd that cannot
// be reached, data of another cluster.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "broker_process.h"
#include "file_util.h"
#include "subprocess.h"
#include "test_cluster.h"

namespace runnel::it {
namespace {

using namespace std::chrono_literals;

// Runs `runnel serve` in the foreground, bounded, and returns its result.
ProcessResult Serve(const std::string& data_dir, const std::vector<std::string>& settings,
                    std::chrono::milliseconds timeout = 60s) {
  std::vector<std::string> argv = {RunnelBinaryPath(), "serve",
                                   "--set", "listeners=PLAINTEXT://127.0.0.1:" + std::to_string(PickFreeLoopbackPort()),
                                   "--set", "http.listeners=",
                                   "--set", "log.dirs=" + data_dir};
  for (const auto& s : settings) {
    argv.push_back("--set");
    argv.push_back(s);
  }
  ProcessOptions options;
  options.timeout = timeout;
  return RunProcess(argv, options);
}

// The one "runnel: ..." line the broker printed before exiting.
std::string ErrorLine(const ProcessResult& r) {
  std::string line;
  std::istringstream lines(r.err + r.out);
  std::string l;
  while (std::getline(lines, l))
    if (l.rfind("runnel: ", 0) == 0) line = l;
  return line;
}

TEST(ClusterStartup, ADuplicateNodeIdIsRefused) {
  TestClusterOptions options;
  options.brokers = 1;
  TestCluster cluster(options);
  ASSERT_TRUE(cluster.start());
  const std::string dir = MakeTempDir("runnel-dup-");
  const auto result = Serve(dir, {"node.id=1", "metadata.store=" + cluster.metadata_store(),
                                  "broker.session.timeout.ms=3000", "broker.heartbeat.interval.ms=500"});
  EXPECT_FALSE(result.timed_out);
  EXPECT_NE(result.exit_code, 0);
  const auto line = ErrorLine(result);
  EXPECT_NE(line.find("node.id 1 is already registered by a live broker at " + cluster.address(1)), std::string::npos)
      << result.err;
  std::printf("[startup] %s\n", line.c_str());
  RemoveTree(dir);
  // The live broker is unaffected.
  EXPECT_TRUE(cluster.broker(1).alive());
}

TEST(ClusterStartup, AnUnreachableEtcdIsNamedAfterABoundedRetry) {
  const std::string dir = MakeTempDir("runnel-noetcd-");
  const auto port = PickFreeLoopbackPort();  // nothing listens there
  const std::string endpoints = "127.0.0.1:" + std::to_string(port) + ",127.0.0.1:" + std::to_string(port + 1);
  const auto started = std::chrono::steady_clock::now();
  const auto result = Serve(dir, {"metadata.store=etcd://" + endpoints, "metadata.store.connect.timeout.ms=3000"});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(result.timed_out);
  EXPECT_NE(result.exit_code, 0);
  const auto line = ErrorLine(result);
  EXPECT_NE(line.find("cannot reach the metadata store at etcd://" + endpoints), std::string::npos) << result.err;
  EXPECT_LT(took, 30s);
  std::printf("[startup] %s\n", line.c_str());
  RemoveTree(dir);
}

TEST(ClusterStartup, DataOfAnotherClusterIsRefused) {
  TestClusterOptions options;
  options.brokers = 1;
  TestCluster first(options);
  ASSERT_TRUE(first.start());
  // A data dir that belongs to the first cluster...
  const std::string data = first.broker(1).log_dir();
  ASSERT_EQ(first.broker(1).stop(), 0);
  // ... started against a second cluster (another etcd, already formed by a broker).
  TestCluster second(options);
  ASSERT_TRUE(second.start());
  const auto result = Serve(data, {"node.id=7", "metadata.store=" + second.metadata_store()});
  EXPECT_NE(result.exit_code, 0) << result.err;
  const auto line = ErrorLine(result);
  EXPECT_NE(line.find("cluster id mismatch"), std::string::npos) << result.err;
  std::printf("[startup] %s\n", line.c_str());
  // And against an empty store: refused too, since that store holds no cluster.
  EtcdProcess empty;
  empty.start();
  const auto fresh = Serve(data, {"node.id=1", "metadata.store=etcd://" + empty.endpoint()});
  EXPECT_NE(fresh.exit_code, 0);
  EXPECT_NE(ErrorLine(fresh).find("holds no cluster"), std::string::npos) << fresh.err;
  std::printf("[startup] %s\n", ErrorLine(fresh).c_str());
}

}  // namespace
}  // namespace runnel::it
