// bind_source_grpc_probe HOST:PORT: opens a gRPC channel to HOST:PORT and waits
// (up to 2 s) for it to connect. A test helper showing that a gRPC client (the
// broker's etcd client) is covered by librunnel_bind_source.so: gRPC connects
// to an IPv4 address from a dual-stack AF_INET6 socket (::ffff:127.x.y.z).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s HOST:PORT\n", argv[0]);
    return 2;
  }
  auto channel = grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials());
  // The test's listener accepts but speaks no HTTP/2, so this ends "not
  // connected"; the TCP connection it made is what the test looks at.
  const bool connected = channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(2));
  std::printf("connected=%d\n", connected ? 1 : 0);
  return 0;
}
