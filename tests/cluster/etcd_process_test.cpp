// The EtcdProcess harness itself.
#include "etcd_process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

namespace runnel::it {
namespace {

using ::testing::HasSubstr;

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0; }

TEST(EtcdProcess, StartsAnswersRestartsOnItsDataAndStops) {
  std::string dir;
  pid_t first = -1;
  {
    EtcdProcess etcd;
    etcd.start();
    dir = etcd.dir();
    first = etcd.pid();
    EXPECT_THAT(etcd.endpoint(), HasSubstr("127.0.0.1:"));
    etcd.etcdctl({"put", "/harness", "kept"});
    const auto port = etcd.client_port();
    etcd.restart();
    EXPECT_EQ(etcd.client_port(), port);
    EXPECT_FALSE(process_exists(first));
    EXPECT_THAT(etcd.etcdctl({"get", "/harness", "--print-value-only"}), HasSubstr("kept"));
    etcd.kill9();
    EXPECT_FALSE(etcd.running());
    etcd.start();
    EXPECT_THAT(etcd.etcdctl({"get", "/harness", "--print-value-only"}), HasSubstr("kept"));
    first = etcd.pid();
  }
  EXPECT_FALSE(process_exists(first));           // the destructor stopped and reaped it
  EXPECT_FALSE(std::filesystem::exists(dir));  // and removed its directory
}

TEST(EtcdProcess, PausedEtcdDoesNotAnswer) {
  EtcdProcess etcd;
  etcd.start();
  etcd.pause();
  EXPECT_THROW(etcd.etcdctl({"get", "/x"}, std::chrono::milliseconds(500)), std::runtime_error);
  etcd.resume();
  EXPECT_NO_THROW(etcd.etcdctl({"get", "/x"}));
}

TEST(EtcdProcess, OtherLoopbackHostAndFixedPort) {
  EtcdProcess::Options options;
  options.host = "127.0.0.10";
  // A port no other etcd of this run uses: the first one picked for 127.0.0.10 (then released).
  {
    EtcdProcess probe(options);
    probe.start();
    options.client_port = probe.client_port();
  }
  EtcdProcess etcd(options);
  etcd.start();
  EXPECT_EQ(etcd.endpoint(), "127.0.0.10:" + std::to_string(options.client_port));
  EXPECT_NO_THROW(etcd.etcdctl({"put", "/a", "b"}));
}

TEST(EtcdProcess, OneSecondLeasesWithTheHarnessTimings) {
  EtcdProcess etcd;
  etcd.start();
  EXPECT_THAT(etcd.etcdctl({"lease", "grant", "1"}), HasSubstr("TTL(1s)"));
}

TEST(EtcdProcess, EtcdDefaultsRaiseShortLeasesToTwoSeconds) {
  EtcdProcess::Options options;
  options.heartbeat_ms = 100;  // etcd's defaults
  options.election_ms = 1000;
  EtcdProcess etcd(options);
  etcd.start();
  EXPECT_THAT(etcd.etcdctl({"lease", "grant", "1"}), HasSubstr("TTL(2s)"));
}

}  // namespace
}  // namespace runnel::it
