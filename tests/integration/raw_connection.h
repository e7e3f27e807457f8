// A plain blocking-with-deadline TCP client for writing hand-made frames to
// the broker and reading size-prefixed responses.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "wire_codec.h"

namespace runnel::it {

class RawConnection {
 public:
  RawConnection() = default;
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connect(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends all bytes; false if the peer closed/reset the connection.
  bool send(const Bytes& bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads one size-prefixed frame and returns its payload (without the size).
  // nullopt on close, error, or timeout (see last_error()).
  std::optional<Bytes> read_frame(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits until the peer closes the connection (EOF or reset), discarding
  // anything it sends. True if closed within the timeout.
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Half-close our sending side (the peer sees EOF).
  void shutdown_write();
  void close();
  const std::string& last_error() const { return last_error_; }

 private:
  // Reads exactly n bytes; false on EOF/error/timeout.
  bool read_exact(std::uint8_t* out, std::size_t n, std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string last_error_;
};

}  // namespace runnel::it
