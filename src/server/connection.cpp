#include "server/connection.h"

#include <sys/sendfile.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <spdlog/spdlog.h>

#include "protocol/api_info.h"
#include "protocol/messages/headers.h"
#include "server/api_handlers.h"
#include "server/response_frame.h"

namespace runnel::server {
namespace {

constexpr int16_t kApiVersionsKey = 18;

int32_t read_be32(const uint8_t* p) {
  return static_cast<int32_t>((uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]));
}
int16_t read_be16(const uint8_t* p) { return static_cast<int16_t>((uint16_t(p[0]) << 8) | uint16_t(p[1])); }

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, BrokerContext& broker, std::string listener,
                       std::function<void(Connection*)> on_closed)
    : socket_(std::move(socket)),
      broker_(broker),
      listener_(std::move(listener)),
      on_closed_(std::move(on_closed)),
      response_ready_(socket_.get_executor()),
      slot_free_(socket_.get_executor()),
      memory_freed_(socket_.get_executor()),
      idle_timer_(socket_.get_executor()) {
  asio::error_code ec;
  const auto endpoint = socket_.remote_endpoint(ec);
  peer_ = ec ? "unknown" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.native_non_blocking(true, ec);  // sendfile (send_file) must not block the event loop
  last_activity_ = std::chrono::steady_clock::now();
  broker_.metrics.connection_opened();
}

Connection::~Connection() = default;

void Connection::start() {
  auto self = shared_from_this();
  asio::co_spawn(socket_.get_executor(), [self]() { return self->read_loop(); }, asio::detached);
  asio::co_spawn(socket_.get_executor(), [self]() { return self->write_loop(); }, asio::detached);
  asio::co_spawn(socket_.get_executor(), [self]() { return self->idle_watchdog(); }, asio::detached);
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  broker_.metrics.connection_closed();
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  idle_timer_.cancel();
  response_ready_.notify();
  slot_free_.notify();
  memory_freed_.notify();
  if (on_closed_) on_closed_(this);
}

asio::awaitable<void> Connection::read_loop() {
  auto self = shared_from_this();
  const int32_t max_request = broker_.config.socket_request_max_bytes;
  const int max_inflight = broker_.config.max_inflight_requests_per_connection;
  RequestMemoryPool& pool = broker_.request_memory;
  try {
    while (!closed_) {
      // Back-pressure: a client with many requests in flight, or with many
      // response bytes it does not read, is not read from until that drains.
      while ((inflight_ >= max_inflight || queued_response_bytes_ > kMaxQueuedResponseBytes) && !closed_)
        co_await slot_free_.wait();
      if (closed_) break;
      uint8_t size_bytes[4];
      co_await asio::async_read(socket_, asio::buffer(size_bytes), asio::use_awaitable);
      last_activity_ = std::chrono::steady_clock::now();
      const int32_t size = read_be32(size_bytes);
      // Smallest valid request: api key, version and correlation id.
      if (size < 8 || size > max_request) {
        spdlog::debug("closing {}: request size {} outside [8, {}]", peer_, size, max_request);
        break;
      }
      // The body is read as it arrives, each piece first taken from the
      // broker-wide queued.max.request.bytes pool: memory follows the bytes
      // that really arrived (a size claim, or a header and a stall, holds next
      // to nothing), and when the pool is exhausted this connection waits
      // instead of allocating.
      PoolShare share(&pool);
      FrameBuffer frame = broker_.frame_buffers.take();
      const auto total = static_cast<size_t>(size);
      const bool small = total <= kReadChunkBytes;
      while (frame.size() < total && !closed_) {
        asio::error_code ec;
        size_t available = socket_.available(ec);
        if (!ec && available == 0) {
          co_await socket_.async_wait(asio::socket_base::wait_read, asio::use_awaitable);
          available = socket_.available(ec);
        }
        if (ec) throw asio::system_error(ec);
        // Nothing available after readability means EOF: the 1-byte read reports it.
        const size_t chunk = std::min({total - frame.size(), kReadChunkBytes, std::max<size_t>(available, 1)});
        while (!closed_ && !pool.try_acquire(static_cast<int64_t>(chunk), small)) {
          waiting_for_memory_ = true;  // waiting on the broker is not client idleness
          pool.wait_for_release(&memory_freed_);
          co_await memory_freed_.wait();
          pool.forget(&memory_freed_);
          waiting_for_memory_ = false;
          last_activity_ = std::chrono::steady_clock::now();
        }
        if (closed_) break;
        share.add(static_cast<int64_t>(chunk));
        // Room for the whole request up to 1 MiB at the first chunk (one
        // allocation for a typical produce); a larger claim grows as bytes come.
        uint8_t* into = frame.extend(chunk, std::min(total, kInitialFrameBytes));
        co_await asio::async_read(socket_, asio::buffer(into, chunk), asio::use_awaitable);
        last_activity_ = std::chrono::steady_clock::now();
      }
      if (closed_) break;
      ++inflight_;
      asio::co_spawn(socket_.get_executor(), process(next_sequence_++, std::move(frame), std::move(share)),
                     asio::detached);
    }
  } catch (const std::exception& e) {
    spdlog::debug("connection {} read ended: {}", peer_, e.what());
  }
  // The client half-closed, or the broker is draining: answer what was already
  // read, then close (write_loop does it once nothing is in flight).
  reading_done_ = true;
  if (inflight_ == 0) close();
  response_ready_.notify();
}

void Connection::stop_reading() {
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
  if (ec) close();
}

asio::awaitable<void> Connection::process(uint64_t sequence, FrameBuffer frame, PoolShare share) {
  auto self = shared_from_this();
  const int16_t api_key = read_be16(frame.data());
  const int16_t api_version = read_be16(frame.data() + 2);
  const int32_t correlation_id = read_be32(frame.data() + 4);
  const ApiHandler* handler = find_api_handler(api_key);
  if (handler == nullptr) {
    spdlog::debug("closing {}: unknown api key {}", peer_, api_key);
    broker_.metrics.record_unknown_api();
    close();
    co_return;
  }
  // Every request with a known key is counted once, with its latency when answered.
  const auto started = std::chrono::steady_clock::now();
  auto record = [&](bool failed) {
    broker_.metrics.record_request(api_key, std::chrono::steady_clock::now() - started, failed);
  };
  if (api_version < handler->min_version || api_version > handler->max_version) {
    if (api_key == kApiVersionsKey) {
      // Clients probe with their newest ApiVersions; the v0-format answer with
      // UNSUPPORTED_VERSION tells them our ranges so they can retry lower.
      record(false);
      complete(sequence, ResponseFrame{unsupported_api_versions_frame(correlation_id), {}});
    } else {
      spdlog::debug("closing {}: api {} version {} not supported", peer_, api_key, api_version);
      record(true);
      close();
    }
    co_return;
  }
  std::optional<ResponseFrame> response;
  try {
    protocol::Reader reader(frame.span());
    RequestContext context;
    context.listener = listener_;
    context.header.decode(reader, protocol::request_header_version(api_key, api_version));
    context.body = frame.span().subspan(reader.position());
    co_await handler->handle(broker_, context);
    if (context.send_response) {
      response = build_response_frame(context.header, context.response_body, std::move(context.response_files));
    }
  } catch (const protocol::DecodeError& e) {
    spdlog::debug("closing {}: malformed api {} v{} request: {}", peer_, api_key, api_version, e.what());
    record(true);
    close();
    co_return;
  } catch (const std::exception& e) {
    spdlog::error("closing {}: api {} v{} failed: {}", peer_, api_key, api_version, e.what());
    record(true);
    close();
    co_return;
  }
  record(false);
  share.reset();  // the request bytes are no longer needed
  broker_.frame_buffers.give(std::move(frame));
  complete(sequence, std::move(response));
}

void Connection::complete(uint64_t sequence, std::optional<ResponseFrame> response) {
  if (closed_) return;
  if (response) queued_response_bytes_ += response->wire_size();
  ready_.emplace(sequence, std::move(response));
  response_ready_.notify();
}

asio::awaitable<void> Connection::write_loop() {
  auto self = shared_from_this();
  std::vector<ResponseFrame> batch;
  try {
    while (!closed_) {
      batch.clear();
      // Gather every response that is next in order, then write them in one call.
      int consumed = 0;
      for (auto it = ready_.begin(); it != ready_.end() && it->first == next_to_write_; it = ready_.erase(it)) {
        ++next_to_write_;
        ++consumed;
        if (it->second) batch.push_back(std::move(*it->second));
      }
      if (!batch.empty()) {
        consumed_unwritten_ = consumed;
        co_await write_frames(batch);
        consumed_unwritten_ = 0;
        last_activity_ = std::chrono::steady_clock::now();
        for (const auto& frame : batch) queued_response_bytes_ -= frame.wire_size();
      }
      if (consumed > 0) {
        // Only now do the requests stop counting against the in-flight limit, so
        // a client that does not read its responses is not read from either.
        inflight_ -= consumed;
        slot_free_.notify();
        if (reading_done_ && inflight_ == 0) break;
        continue;
      }
      if (reading_done_ && inflight_ == 0) break;
      co_await response_ready_.wait();
    }
  } catch (const std::exception& e) {
    spdlog::debug("connection {} write ended: {}", peer_, e.what());
  }
  close();
}

asio::awaitable<void> Connection::write_frames(std::vector<ResponseFrame>& frames) {
  // Bytes in memory go out in as few writes as possible (one, when no frame
  // carries file records); file records go with sendfile in between.
  std::vector<asio::const_buffer> buffers;
  for (const auto& frame : frames) {
    size_t from = 0;
    for (const auto& file : frame.files) {
      buffers.emplace_back(asio::buffer(frame.bytes.data() + from, file.at - from));
      co_await asio::async_write(socket_, buffers, asio::use_awaitable);
      buffers.clear();
      for (const auto& slice : file.slices) co_await send_file(slice);
      from = file.at;
    }
    buffers.emplace_back(asio::buffer(frame.bytes.data() + from, frame.bytes.size() - from));
  }
  co_await asio::async_write(socket_, buffers, asio::use_awaitable);
}

asio::awaitable<void> Connection::send_file(const storage::FileSlice& slice) {
  auto offset = static_cast<off_t>(slice.position);
  int64_t remaining = slice.length;
  while (remaining > 0) {
    const ssize_t n = ::sendfile(socket_.native_handle(), slice.fd, &offset, static_cast<size_t>(remaining));
    if (n > 0) {
      remaining -= n;
    } else if (n == 0) {
      // The frame's size already promised these bytes: the client cannot be
      // answered correctly any more, so the connection closes (write_loop).
      throw std::runtime_error("segment file ended inside a fetch slice");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      co_await socket_.async_wait(asio::socket_base::wait_write, asio::use_awaitable);
    } else if (errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "sendfile");
    }
  }
}

asio::awaitable<void> Connection::idle_watchdog() {
  auto self = shared_from_this();
  const auto idle = std::chrono::milliseconds(broker_.config.connections_max_idle_ms);
  while (!closed_) {
    // Requests in flight (a long-poll, an fsync wait) count as activity.
    // Responses the client does not read are not: such a client is closed as idle.
    const int processing = inflight_ - static_cast<int>(ready_.size()) - consumed_unwritten_;
    if (processing > 0 || waiting_for_memory_) last_activity_ = std::chrono::steady_clock::now();
    idle_timer_.expires_at(last_activity_ + idle);
    asio::error_code ec;
    co_await idle_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (closed_) break;
    if (std::chrono::steady_clock::now() - last_activity_ >= idle) {
      spdlog::debug("closing idle connection {}", peer_);
      close();
    }
  }
}

}  // namespace runnel::server
