#include "firewall.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "child_process.h"
#include "namespace_test_main.h"
#include "test_sockets.h"

namespace runnel::fault {
namespace {

using namespace std::chrono_literals;
using testing::Fd;

constexpr const char* kA = "127.0.0.11";
constexpr const char* kB = "127.0.0.12";
constexpr const char* kC = "127.0.0.13";

// A listener on each of kB and kC, and helpers to connect to them from kA.
class FirewallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RUNNEL_REQUIRE_PRIVATE_NETWORK_NAMESPACE();
    if (::access(Firewall::kNftPath, X_OK) != 0) GTEST_SKIP() << Firewall::kNftPath << " missing (Debian: nftables)";
    std::string error;
    listener_b_ = testing::Listen(kB, &port_b_, &error);
    ASSERT_TRUE(listener_b_.valid()) << error;
    listener_c_ = testing::Listen(kC, &port_c_, &error);
    ASSERT_TRUE(listener_c_.valid()) << error;
  }

  // Connects from `from` to the listener on `to` and accepts: the pair of ends.
  std::pair<Fd, Fd> Open(const char* from, const char* to, std::chrono::milliseconds timeout, std::string* error) {
    const bool b = std::string(to) == kB;
    Fd client = testing::Connect(from, to, b ? port_b_ : port_c_, timeout, error);
    if (!client.valid()) return {};
    Fd server = testing::AcceptWithin(b ? listener_b_ : listener_c_, 2s);
    if (!server.valid()) *error = "not accepted";
    return {std::move(client), std::move(server)};
  }

  // True if a connection from->to opens and carries a message both ways.
  bool Reachable(const char* from, const char* to, std::string* error) {
    auto [client, server] = Open(from, to, 1s, error);
    if (!server.valid()) return false;
    if (!testing::SendAll(client, "ping") || testing::ReceiveWithin(server, 4, 2s) != "ping" ||
        !testing::SendAll(server, "pong") || testing::ReceiveWithin(client, 4, 2s) != "pong") {
      *error = "no echo";
      return false;
    }
    return true;
  }

  Firewall firewall_;
  Fd listener_b_, listener_c_;
  uint16_t port_b_ = 0, port_c_ = 0;
};

TEST_F(FirewallTest, CutStopsNewAndEstablishedConnectionsUntilHealed) {
  std::string error;
  ASSERT_TRUE(Reachable(kA, kB, &error)) << error;
  auto [client, server] = Open(kA, kB, 1s, &error);
  ASSERT_TRUE(server.valid()) << error;

  ASSERT_TRUE(firewall_.Cut(kA, kB, &error)) << error;
  // New connections time out (the SYN vanishes), in both directions.
  EXPECT_FALSE(testing::Connect(kA, kB, port_b_, 700ms, &error).valid());
  EXPECT_EQ(error, "timed out");
  uint16_t port_a = 0;
  Fd listener_a = testing::Listen(kA, &port_a, &error);
  ASSERT_TRUE(listener_a.valid()) << error;
  EXPECT_FALSE(testing::Connect(kB, kA, port_a, 700ms, &error).valid());
  EXPECT_EQ(error, "timed out");
  // The established connection stalls silently: the write succeeds locally
  // (it is buffered), nothing arrives.
  ASSERT_TRUE(testing::SendAll(client, "lost?"));
  EXPECT_EQ(testing::ReceiveWithin(server, 5, 700ms), "");
  ASSERT_TRUE(testing::SendAll(server, "back?"));
  EXPECT_EQ(testing::ReceiveWithin(client, 5, 700ms), "");
  // Other pairs are untouched.
  EXPECT_TRUE(Reachable(kA, kC, &error)) << error;
  EXPECT_TRUE(Reachable(kB, kC, &error)) << error;

  ASSERT_TRUE(firewall_.Heal(kA, kB, &error)) << error;
  EXPECT_TRUE(Reachable(kA, kB, &error)) << error;
  // The stalled connection recovers by retransmission (RTO backoff: allow a few seconds).
  EXPECT_EQ(testing::ReceiveWithin(server, 5, 15s), "lost?");
  EXPECT_EQ(testing::ReceiveWithin(client, 5, 15s), "back?");
}

TEST_F(FirewallTest, OperationsAreIdempotent) {
  std::string error;
  ASSERT_TRUE(firewall_.Install(&error)) << error;
  ASSERT_TRUE(firewall_.Install(&error)) << error;
  ASSERT_TRUE(firewall_.Cut(kA, kB, &error)) << error;
  ASSERT_TRUE(firewall_.Cut(kA, kB, &error)) << error;
  ASSERT_TRUE(firewall_.Cut(kB, kA, &error)) << error;  // the same cut, named the other way round
  EXPECT_FALSE(Reachable(kA, kB, &error));
  ASSERT_TRUE(firewall_.Heal(kB, kA, &error)) << error;
  ASSERT_TRUE(firewall_.Heal(kA, kB, &error)) << error;
  ASSERT_TRUE(firewall_.Heal(kA, kC, &error)) << error;  // never cut
  EXPECT_TRUE(Reachable(kA, kB, &error)) << error;
  ASSERT_TRUE(firewall_.HealAll(&error)) << error;
  ASSERT_TRUE(firewall_.HealAll(&error)) << error;
  EXPECT_TRUE(Reachable(kA, kB, &error)) << error;
}

TEST_F(FirewallTest, IsolateCutsEveryListedPeerAndHealAllUndoesIt) {
  std::string error;
  ASSERT_TRUE(firewall_.Isolate(kA, {kB, kC}, &error)) << error;
  EXPECT_FALSE(Reachable(kA, kB, &error));
  EXPECT_FALSE(Reachable(kA, kC, &error));
  EXPECT_TRUE(Reachable(kB, kC, &error)) << error;
  EXPECT_TRUE(Reachable("127.0.0.1", kB, &error)) << "127.0.0.1 was not listed: " << error;
  const std::string listing = firewall_.Describe();
  EXPECT_NE(listing.find("127.0.0.11 . 127.0.0.13"), std::string::npos) << listing;

  ASSERT_TRUE(firewall_.HealAll(&error)) << error;
  EXPECT_TRUE(Reachable(kA, kB, &error)) << error;
  EXPECT_TRUE(Reachable(kA, kC, &error)) << error;
}

TEST_F(FirewallTest, RejectsAddressesThatAreNotIpv4) {
  std::string error;
  EXPECT_FALSE(firewall_.Cut(kA, "127.0.0.12; flush ruleset", &error));
  EXPECT_NE(error.find("not an IPv4 address"), std::string::npos) << error;
  EXPECT_FALSE(firewall_.Isolate("localhost", {kB}, &error));
  EXPECT_NE(error.find("'localhost'"), std::string::npos) << error;
}

TEST_F(FirewallTest, ReportsNftErrorsWithItsStderr) {
  std::string error;
  ASSERT_TRUE(firewall_.Install(&error)) << error;
  // Pull the table away behind the Firewall's back: its next command fails in nft.
  ChildResult r = RunChild({Firewall::kNftPath, "delete", "table", "ip", Firewall::kTable}, {}, 10s);
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_FALSE(firewall_.Cut(kA, kB, &error));
  EXPECT_NE(error.find("/usr/sbin/nft"), std::string::npos) << error;
  EXPECT_NE(error.find("Error:"), std::string::npos) << "nft's stderr missing: " << error;
}

TEST_F(FirewallTest, DestructorRemovesTheTable) {
  std::string error;
  {
    Firewall scoped;
    ASSERT_TRUE(scoped.Cut(kA, kB, &error)) << error;
  }
  ChildResult r = RunChild({Firewall::kNftPath, "list", "tables"}, {}, 10s);
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.out.find(Firewall::kTable), std::string::npos) << r.out;
  EXPECT_TRUE(Reachable(kA, kB, &error)) << error;
}

// The guard that keeps nft away from the host's firewall. Inside the namespace
// this test runs itself again as a child that stays outside it.
TEST(FirewallOutsideNamespace, RefusesToRun) {
  if (InPrivateNetworkNamespace()) {
    char self[4096] = {};
    ASSERT_GT(::readlink("/proc/self/exe", self, sizeof self - 1), 0);
    ChildResult r = RunChild({self, "--gtest_filter=FirewallOutsideNamespace.RefusesToRun"},
                             {std::string(kNamespaceVariable) + "=off"}, 30s);
    EXPECT_TRUE(r.ok()) << r.out << r.err;
    EXPECT_NE(r.out.find("[  PASSED  ] 1 test"), std::string::npos) << r.out;
    return;
  }
  Firewall firewall;
  std::string error;
  EXPECT_FALSE(firewall.Install(&error));
  EXPECT_FALSE(firewall.Cut(kA, kB, &error));
  EXPECT_NE(error.find("refusing to run nft outside a private network namespace"), std::string::npos) << error;
}

}  // namespace
}  // namespace runnel::fault
