// Test helpers: small, bounded TCP operations between loopback addresses of the
// private namespace (firewall and bind-source tests).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace runnel::fault::testing {

using std::chrono::milliseconds;

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

// Listens on ip, port chosen by the kernel (returned in *port).
Fd Listen(const std::string& ip, uint16_t* port, std::string* error);

// Connects to ip:port, from `source` unless it is empty; -1 fd with *error
// ("timed out" after `timeout`, or the errno text).
Fd Connect(const std::string& source, const std::string& ip, uint16_t port, milliseconds timeout, std::string* error);

// Accepts one connection within `timeout` (invalid Fd otherwise).
Fd AcceptWithin(const Fd& listener, milliseconds timeout);

bool SendAll(const Fd& fd, const std::string& data);
// Up to `size` bytes received within `timeout` (fewer if the time runs out).
std::string ReceiveWithin(const Fd& fd, size_t size, milliseconds timeout);

std::string LocalAddress(const Fd& fd);  // "127.0.0.11" (no port)
std::string PeerAddress(const Fd& fd);

// A listener whose thread accepts connections and records each peer address
// (for clients such as curl or etcdctl that the test runs to completion).
class AcceptRecorder {
 public:
  AcceptRecorder(const std::string& ip, std::string* error);
  ~AcceptRecorder();
  uint16_t port() const { return port_; }
  // Waits until at least one connection arrived (bounded) and returns the peers seen.
  std::vector<std::string> WaitForPeers(milliseconds timeout);

 private:
  Fd listener_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> peers_;
  std::vector<Fd> accepted_;  // kept open until the end, so clients see no reset
  std::thread thread_;
};

}  // namespace runnel::fault::testing
