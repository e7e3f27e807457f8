#include "bind_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "child_process.h"
#include "firewall.h"
#include "namespace_test_main.h"
#include "network_namespace.h"
#include "test_sockets.h"

namespace runnel::fault {
namespace {

using namespace std::chrono_literals;

constexpr const char* kProbe = BIND_SOURCE_PROBE;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Runs the probe against ip:port; returns the local address it printed.
ChildResult Probe(const std::string& ip, uint16_t port, const std::vector<std::string>& env) {
  return RunChild({kProbe, ip, std::to_string(port), "1000"}, env, 20s);
}

// Sets an environment variable for the scope of a test, restoring it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_.empty()) {
      ::unsetenv(name_);
    } else {
      ::setenv(name_, old_.c_str(), 1);
    }
  }

 private:
  const char* name_;
  std::string old_;
};

TEST(BindSource, EnvironmentNamesThePreloadTheAddressAndTheAsanOption) {
  ScopedEnv asan("ASAN_OPTIONS", "detect_leaks=1");
  const std::vector<std::string> env = BindSourceEnvironment("127.0.0.12");
  ASSERT_EQ(env.size(), 3u);
  EXPECT_EQ(env[0], "LD_PRELOAD=" + BindSourcePreloadPath());
  EXPECT_EQ(env[1], "RUNNEL_BIND_SOURCE=127.0.0.12");
  EXPECT_EQ(env[2], "ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0");
  EXPECT_EQ(::access(BindSourcePreloadPath().c_str(), R_OK), 0) << BindSourcePreloadPath();
}

TEST(BindSource, KeepsAnExistingPreload) {
  ScopedEnv preload("LD_PRELOAD", "/some/other.so");
  EXPECT_EQ(BindSourceEnvironment("127.0.0.12")[0], "LD_PRELOAD=/some/other.so:" + BindSourcePreloadPath());
}

class BindSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RUNNEL_REQUIRE_PRIVATE_NETWORK_NAMESPACE();
    std::string error;
    recorder_ = std::make_unique<testing::AcceptRecorder>("127.0.0.12", &error);
    ASSERT_NE(recorder_->port(), 0) << error;
  }
  std::unique_ptr<testing::AcceptRecorder> recorder_;
};

TEST_F(BindSourceTest, ProbeConnectsFromTheConfiguredAddress) {
  ChildResult plain = Probe("127.0.0.12", recorder_->port(), {});
  ASSERT_TRUE(plain.ok()) << plain.err;
  EXPECT_EQ(Trim(plain.out), "127.0.0.1") << "without the preload the kernel picks 127.0.0.1";

  ChildResult bound = Probe("127.0.0.12", recorder_->port(), BindSourceEnvironment(BrokerAddress(1)));
  ASSERT_TRUE(bound.ok()) << bound.err;
  EXPECT_EQ(Trim(bound.out), "127.0.0.11");
  const auto peers = recorder_->WaitForPeers(5s);
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[1], "127.0.0.11");
}

TEST_F(BindSourceTest, DualStackSocketConnectingToAMappedAddressIsBoundToo) {
  ChildResult bound = Probe("::ffff:127.0.0.12", recorder_->port(), BindSourceEnvironment("127.0.0.11"));
  if (bound.err.find("Address family not supported") != std::string::npos) GTEST_SKIP() << "no IPv6: " << bound.err;
  ASSERT_TRUE(bound.ok()) << bound.err;
  EXPECT_EQ(Trim(bound.out), "::ffff:127.0.0.11");
  const auto peers = recorder_->WaitForPeers(5s);
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0], "127.0.0.11");
}

// What the broker's etcd client does: a gRPC channel to an IPv4 address.
TEST_F(BindSourceTest, GrpcClientConnectsFromTheConfiguredAddress) {
#ifndef BIND_SOURCE_GRPC_PROBE
  GTEST_SKIP() << "grpc++ not found by pkg-config at configure time (Debian: libgrpc++-dev)";
#else
  ChildResult r = RunChild({BIND_SOURCE_GRPC_PROBE, "127.0.0.12:" + std::to_string(recorder_->port())},
                           BindSourceEnvironment("127.0.0.13"), 20s);
  ASSERT_TRUE(r.ok()) << r.out << r.err;
  const auto peers = recorder_->WaitForPeers(5s);
  ASSERT_FALSE(peers.empty()) << "the gRPC client never connected";
  for (const auto& peer : peers) EXPECT_EQ(peer, "127.0.0.13");
#endif
}

TEST_F(BindSourceTest, CutsApplyToTheBoundProcess) {
  if (::access(Firewall::kNftPath, X_OK) != 0) GTEST_SKIP() << Firewall::kNftPath << " missing (Debian: nftables)";
  Firewall firewall;
  std::string error;
  ASSERT_TRUE(firewall.Cut("127.0.0.11", "127.0.0.12", &error)) << error;
  ChildResult bound = Probe("127.0.0.12", recorder_->port(), BindSourceEnvironment("127.0.0.11"));
  EXPECT_EQ(bound.exit_code, 1) << "connect from 127.0.0.11 must time out: " << bound.out << bound.err;
  ChildResult other = Probe("127.0.0.12", recorder_->port(), BindSourceEnvironment("127.0.0.13"));
  ASSERT_TRUE(other.ok()) << other.err;
  EXPECT_EQ(Trim(other.out), "127.0.0.13");
}

TEST_F(BindSourceTest, LeavesConnectsItCannotHelpAlone) {
  // Not a usable address: no bind, connect as usual.
  for (const char* source : {"garbage", "10.1.2.3"}) {
    ChildResult r = Probe("127.0.0.12", recorder_->port(),
                          {"LD_PRELOAD=" + BindSourcePreloadPath(), std::string("RUNNEL_BIND_SOURCE=") + source,
                           "ASAN_OPTIONS=verify_asan_link_order=0"});
    ASSERT_TRUE(r.ok()) << source << ": " << r.err;
    EXPECT_EQ(Trim(r.out), "127.0.0.1") << source;
  }
  // A destination outside 127/8 (unreachable in the namespace): the same error as without the preload.
  ChildResult plain = Probe("192.0.2.1", 9, {});
  ChildResult bound = Probe("192.0.2.1", 9, BindSourceEnvironment("127.0.0.11"));
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_EQ(bound.exit_code, plain.exit_code);
  EXPECT_EQ(bound.err, plain.err);
}

TEST_F(BindSourceTest, CurlConnectsFromTheConfiguredAddress) {
  if (::access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "/usr/bin/curl not installed";
  const std::string url = "http://127.0.0.12:" + std::to_string(recorder_->port()) + "/";
  // The recorder never answers; curl gives up after --max-time.
  RunChild({"/usr/bin/curl", "-s", "--max-time", "1", url}, BindSourceEnvironment("127.0.0.13"), 20s);
  const auto peers = recorder_->WaitForPeers(5s);
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0], "127.0.0.13");
}

// Go programs make the connect system call themselves, so the preload cannot
// reach them (whether or not they are linked against libc, as Debian's
// etcdctl is). This documents it: if it ever changes, the README should too.
TEST_F(BindSourceTest, EtcdctlIsNotCoveredBecauseGoBypassesLibcConnect) {
  if (::access("/usr/bin/etcdctl", X_OK) != 0) GTEST_SKIP() << "/usr/bin/etcdctl not installed";
  RunChild({"/usr/bin/etcdctl", "--endpoints=http://127.0.0.12:" + std::to_string(recorder_->port()),
            "--dial-timeout=1s", "--command-timeout=2s", "get", "some-key"},
           BindSourceEnvironment("127.0.0.13"), 20s);
  const auto peers = recorder_->WaitForPeers(5s);
  ASSERT_FALSE(peers.empty()) << "etcdctl never connected";
  EXPECT_EQ(peers[0], "127.0.0.1") << "etcdctl now honours the preload; update bind_source.h and README.md";
}

// A sanitizer-built child refuses a preload that precedes the ASan runtime
// unless ASAN_OPTIONS has verify_asan_link_order=0, which BindSourceEnvironment adds.
TEST_F(BindSourceTest, AsanChildNeedsVerifyAsanLinkOrderOff) {
#ifndef RUNNEL_SANITIZE_BUILD
  GTEST_SKIP() << "the probe is sanitizer-built only with -DRUNNEL_SANITIZE=ON";
#else
  ScopedEnv asan("ASAN_OPTIONS", "");
  ChildResult refused = Probe("127.0.0.12", recorder_->port(),
                              {"LD_PRELOAD=" + BindSourcePreloadPath(), "RUNNEL_BIND_SOURCE=127.0.0.11"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("ASan runtime does not come first"), std::string::npos) << refused.err;
  ChildResult ok = Probe("127.0.0.12", recorder_->port(), BindSourceEnvironment("127.0.0.11"));
  ASSERT_TRUE(ok.ok()) << ok.err;
  EXPECT_EQ(Trim(ok.out), "127.0.0.11");
#endif
}

}  // namespace
}  // namespace runnel::fault
