// A loopback TCP proxy for fault tests: forwards every accepted connection to a
// target port and, while cutting is on, drops each connection after a random
// number of bytes (either direction) — in the middle of a request, or of a
// response to a request the broker already appended, so clients must retry.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace runnel::it {

class TcpProxy {
 public:
  // Listens on 127.0.0.1:listen_port (0 = any free port) and forwards to target_port.
  TcpProxy(std::uint16_t listen_port, std::uint16_t target_port);
  ~TcpProxy();  // stop()
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  bool ok() const { return listen_fd_ >= 0; }
  std::uint16_t port() const { return port_; }
  // Cut each connection after 1..max_bytes more forwarded bytes (0 = stop cutting).
  void set_cut_after(std::uint32_t max_bytes) { cut_after_ = max_bytes; }
  std::uint64_t cuts() const { return cuts_; }
  void stop();

 private:
  void accept_loop();
  void pump(int client, int server);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::uint16_t target_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint32_t> cut_after_{0};
  std::atomic<std::uint64_t> cuts_{0};
  std::atomic<std::uint64_t> seed_{1};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
};

}  // namespace runnel::it
