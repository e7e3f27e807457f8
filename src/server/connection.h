#pragma once
// One client connection: reads size-prefixed Kafka frames, runs each request's
// handler concurrently (requests may be pipelined), and writes the responses
// strictly in request order. The number of requests in flight is bounded, so a
// client that never reads its responses stops being read from (back-pressure).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "common/async_event.h"
#include "server/broker_context.h"
#include "server/frame_buffer.h"
#include "server/request_memory_pool.h"
#include "server/response_frame.h"

namespace runnel::server {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `listener`: the name of the listener it came in on (addresses in answers use it).
  Connection(asio::ip::tcp::socket socket, BrokerContext& broker, std::string listener,
             std::function<void(Connection*)> on_closed);
  ~Connection();

  void start();
  void close();
  // Stops reading requests; the ones already read are answered, then it closes.
  void stop_reading();
  bool closed() const { return closed_; }

 private:
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  asio::awaitable<void> idle_watchdog();
  asio::awaitable<void> process(uint64_t sequence, FrameBuffer frame, PoolShare share);
  void complete(uint64_t sequence, std::optional<ResponseFrame> response);
  asio::awaitable<void> write_frames(std::vector<ResponseFrame>& frames);
  asio::awaitable<void> send_file(const storage::FileSlice& slice);

  asio::ip::tcp::socket socket_;
  BrokerContext& broker_;
  const std::string listener_;
  std::function<void(Connection*)> on_closed_;
  std::string peer_;
  bool closed_ = false;
  bool reading_done_ = false;

  uint64_t next_sequence_ = 0;
  uint64_t next_to_write_ = 0;
  int inflight_ = 0;
  std::map<uint64_t, std::optional<ResponseFrame>> ready_;  // nullopt: no response (acks=0)
  AsyncEvent response_ready_;
  AsyncEvent slot_free_;
  AsyncEvent memory_freed_;  // the request memory pool had bytes released
  // Response bytes (wire size) ready but not yet written. Above the limit the connection is not
  // read from, so a client that never reads cannot make the broker buffer more.
  size_t queued_response_bytes_ = 0;
  bool waiting_for_memory_ = false;
  int consumed_unwritten_ = 0;  // answered requests whose responses are being written
  static constexpr size_t kMaxQueuedResponseBytes = 4u << 20;
  static constexpr size_t kReadChunkBytes = 64u << 10;
  static constexpr size_t kInitialFrameBytes = 1u << 20;
  asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point last_activity_;
};

}  // namespace runnel::server
