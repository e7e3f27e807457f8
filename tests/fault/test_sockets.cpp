#include "test_sockets.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace runnel::fault::testing {

namespace {

sockaddr_in Address(const std::string& ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  return sa;
}

std::string Text(const sockaddr_in& sa) {
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &sa.sin_addr, text, sizeof text);
  return text;
}

bool PollFor(int fd, short events, milliseconds timeout) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Fd Listen(const std::string& ip, uint16_t* port, std::string* error) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa = Address(ip, 0);
  socklen_t len = sizeof sa;
  if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::listen(fd.get(), 64) != 0 || ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    *error = "listen on " + ip + ": " + std::strerror(errno);
    return Fd();
  }
  *port = ntohs(sa.sin_port);
  return fd;
}

Fd Connect(const std::string& source, const std::string& ip, uint16_t port, milliseconds timeout,
           std::string* error) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    *error = std::string("socket: ") + std::strerror(errno);
    return Fd();
  }
  if (!source.empty()) {
    sockaddr_in local = Address(source, 0);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      *error = "bind " + source + ": " + std::strerror(errno);
      return Fd();
    }
  }
  sockaddr_in remote = Address(ip, port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0 && errno != EINPROGRESS) {
    *error = std::string("connect: ") + std::strerror(errno);
    return Fd();
  }
  if (!PollFor(fd.get(), POLLOUT, timeout)) {
    *error = "timed out";
    return Fd();
  }
  int so_error = 0;
  socklen_t len = sizeof so_error;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len);
  if (so_error != 0) {
    *error = std::string("connect: ") + std::strerror(so_error);
    return Fd();
  }
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  return fd;
}

Fd AcceptWithin(const Fd& listener, milliseconds timeout) {
  if (!PollFor(listener.get(), POLLIN, timeout)) return Fd();
  return Fd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
}

bool SendAll(const Fd& fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd.get(), data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string ReceiveWithin(const Fd& fd, size_t size, milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < size) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !PollFor(fd.get(), POLLIN, left)) break;
    char buf[4096];
    ssize_t n = ::recv(fd.get(), buf, std::min(sizeof buf, size - out.size()), MSG_DONTWAIT);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string LocalAddress(const Fd& fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  return ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len) == 0 ? Text(sa) : "?";
}

std::string PeerAddress(const Fd& fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  return ::getpeername(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len) == 0 ? Text(sa) : "?";
}

AcceptRecorder::AcceptRecorder(const std::string& ip, std::string* error) {
  listener_ = Listen(ip, &port_, error);
  if (!listener_.valid()) return;
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      Fd conn = AcceptWithin(listener_, milliseconds(50));
      if (!conn.valid()) continue;
      std::lock_guard lock(mu_);
      peers_.push_back(PeerAddress(conn));
      accepted_.push_back(std::move(conn));
    }
  });
}

AcceptRecorder::~AcceptRecorder() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> AcceptRecorder::WaitForPeers(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (!peers_.empty() || std::chrono::steady_clock::now() >= deadline) return peers_;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
}

}  // namespace runnel::fault::testing
