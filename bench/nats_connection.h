// A minimal NATS client connection over the text protocol (INFO, CONNECT,
// PUB, SUB, MSG, PING/PONG): just what the benchmark needs to publish to
// JetStream with acks and to receive a push consumer's deliveries.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace runnel::bench {

class NatsConnection {
 public:
  using MessageHandler = std::function<void(std::string_view subject, int sid, std::string_view payload)>;

  explicit NatsConnection(const std::string& address);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  void subscribe(std::string_view subject, int sid);
  // Buffers a publish; written by flush() (or when the buffer grows large).
  void publish(std::string_view subject, std::string_view reply, std::string_view payload);
  void flush();
  // Flushes, then reads and dispatches what arrives within timeout_ms (one
  // read's worth). Returns the number of messages dispatched.
  std::size_t read(int timeout_ms, const MessageHandler& handler);
  // Sends a request and waits for its reply on sid reply_sid (subscribed to
  // reply_subject beforehand); other messages go to handler meanwhile.
  std::string request(std::string_view subject, std::string_view reply_subject, int reply_sid, std::string_view payload,
                      const MessageHandler& others, std::chrono::milliseconds timeout);

 private:
  void write_all(std::string_view data);
  std::size_t parse(const MessageHandler& handler);

  int fd_ = -1;
  std::string out_;
  std::string in_;
  std::size_t in_pos_ = 0;
};

}  // namespace runnel::bench
