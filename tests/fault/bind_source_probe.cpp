// bind_source_probe IP PORT [TIMEOUT_MS]: connects (unbound, as any client
// would) to IP:PORT and prints the local address the connection left from.
// An IP with a ':' (e.g. ::ffff:127.0.0.12) is connected from an AF_INET6
// socket, as gRPC does. A test helper for librunnel_bind_source.so; built like
// the project (sanitizers included in a RUNNEL_SANITIZE build), so it also
// shows the ASan caveat.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s IP PORT [TIMEOUT_MS]\n", argv[0]);
    return 2;
  }
  const bool v6 = std::string(argv[1]).find(':') != std::string::npos;
  const auto port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  sockaddr_storage server{};
  socklen_t server_len = 0;
  int parsed = 0;
  if (v6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&server);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = port;
    parsed = ::inet_pton(AF_INET6, argv[1], &sa->sin6_addr);
    server_len = sizeof *sa;
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&server);
    sa->sin_family = AF_INET;
    sa->sin_port = port;
    parsed = ::inet_pton(AF_INET, argv[1], &sa->sin_addr);
    server_len = sizeof *sa;
  }
  if (parsed != 1) {
    std::fprintf(stderr, "bad address %s\n", argv[1]);
    return 2;
  }
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  const long timeout_ms = argc == 4 ? std::atol(argv[3]) : 5000;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};  // bounds the connect
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&server), server_len) != 0) {
    std::fprintf(stderr, "connect: %s\n", std::strerror(errno));
    return 1;
  }
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  char text[INET6_ADDRSTRLEN] = {};
  if (v6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr, text, sizeof text);
  } else {
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&local)->sin_addr, text, sizeof text);
  }
  std::printf("%s\n", text);
  ::close(fd);
  return 0;
}
