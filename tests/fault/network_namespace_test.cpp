#include "network_namespace.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "namespace_test_main.h"
#include "test_sockets.h"

namespace runnel::fault {
namespace {

using namespace std::chrono_literals;
using testing::Connect;
using testing::Listen;

TEST(NetworkNamespace, AddressLayout) {
  EXPECT_STREQ(kEtcdAddress, "127.0.0.10");
  EXPECT_EQ(BrokerAddress(1), "127.0.0.11");
  EXPECT_EQ(BrokerAddress(3), "127.0.0.13");
}

TEST(NetworkNamespace, OnlyLoopbackIsVisible) {
  RUNNEL_REQUIRE_PRIVATE_NETWORK_NAMESPACE();
  std::vector<std::string> names;
  if (struct if_nameindex* list = ::if_nameindex()) {
    for (struct if_nameindex* i = list; i->if_index != 0; ++i) names.push_back(i->if_name);
    ::if_freenameindex(list);
  }
  EXPECT_EQ(names, std::vector<std::string>{"lo"}) << "the host's interfaces must not be visible";
}

TEST(NetworkNamespace, EnteringAgainIsANoOp) {
  RUNNEL_REQUIRE_PRIVATE_NETWORK_NAMESPACE();
  std::string why;
  EXPECT_TRUE(EnterPrivateNetworkNamespace(&why)) << why;
  EXPECT_TRUE(InPrivateNetworkNamespace());
}

TEST(NetworkNamespace, EveryLoopbackAddressCanListenAndConnect) {
  RUNNEL_REQUIRE_PRIVATE_NETWORK_NAMESPACE();
  for (const std::string server : {kEtcdAddress, "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.200"}) {
    std::string error;
    uint16_t port = 0;
    testing::Fd listener = Listen(server, &port, &error);
    ASSERT_TRUE(listener.valid()) << error;
    testing::Fd client = Connect("127.0.0.11", server, port, 2s, &error);
    ASSERT_TRUE(client.valid()) << server << ": " << error;
    testing::Fd accepted = testing::AcceptWithin(listener, 2s);
    ASSERT_TRUE(accepted.valid());
    EXPECT_EQ(testing::PeerAddress(accepted), "127.0.0.11");
  }
}

TEST(NetworkNamespace, SamePortOnDifferentAddresses) {
  RUNNEL_REQUIRE_PRIVATE_NETWORK_NAMESPACE();
  // Brokers may all use the Kafka port 9092, each on its own address.
  std::string error;
  uint16_t port = 0;
  testing::Fd first = Listen("127.0.0.11", &port, &error);
  ASSERT_TRUE(first.valid()) << error;
  for (const char* other : {"127.0.0.12", "127.0.0.13"}) {
    testing::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    ::inet_pton(AF_INET, other, &sa.sin_addr);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0) << other;
  }
}

}  // namespace
}  // namespace runnel::fault
