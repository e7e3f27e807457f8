#include "idle_connections.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace runnel::bench {
namespace {

// ApiVersions v0, correlation id 1, client id "idle": a complete Kafka request.
const unsigned char kApiVersions[] = {0, 0, 0, 14, 0, 18, 0, 0, 0, 0, 0, 1, 0, 4, 'i', 'd', 'l', 'e'};

void send_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void drain(int fd, int timeout_ms) {
  pollfd pfd{fd, POLLIN, 0};
  char buf[4096];
  if (::poll(&pfd, 1, timeout_ms) > 0) (void)!::recv(fd, buf, sizeof buf, 0);
}

}  // namespace

std::vector<int> open_idle_connections(const std::string& address, int count, const std::string& protocol) {
  const auto colon = address.rfind(':');
  const std::string host = address.substr(0, colon);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  if (::inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &sa.sin_addr) != 1) {
    throw std::runtime_error("bad address " + address);
  }
  std::vector<int> fds;
  fds.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      const std::string error = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      close_connections(fds);
      throw std::runtime_error("connection " + std::to_string(i) + " to " + address + ": " + error);
    }
    fds.push_back(fd);
    if (protocol == "nats") {
      drain(fd, 1000);  // INFO
      const char connect[] = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";
      send_all(fd, connect, sizeof connect - 1);
    } else if (protocol == "kafka") {
      send_all(fd, kApiVersions, sizeof kApiVersions);
      drain(fd, 1000);
    }
  }
  return fds;
}

void close_connections(std::vector<int>& fds) {
  for (int fd : fds) ::close(fd);
  fds.clear();
}

}  // namespace runnel::bench
