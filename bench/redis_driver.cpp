// Redis Streams driver on hiredis: pipelined XADD (one stream key per
// partition, <topic>-<p>), XREADGROUP ... NOACK for read-back.
#include <hiredis/hiredis.h>
#include <poll.h>

#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include "driver.h"

namespace runnel::bench {
namespace {

redisContext* connect(const std::string& address) {
  const auto colon = address.rfind(':');
  const std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  const int port = colon == std::string::npos ? 6379 : std::stoi(address.substr(colon + 1));
  redisContext* c = redisConnect(host.c_str(), port);
  if (!c || c->err) throw std::runtime_error("redis connect " + address + ": " + (c ? c->errstr : "out of memory"));
  return c;
}

std::string stream_key(const DriverOptions& options, int partition) {
  return options.topic + "-" + std::to_string(partition);
}

// Runs one command and throws on a transport error; returns the reply.
redisReply* command(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (!reply) throw std::runtime_error(std::string("redis: ") + c->errstr);
  return reply;
}

class RedisProducer final : public Producer {
 public:
  explicit RedisProducer(const DriverOptions& options) : options_(options), c_(connect(options.bootstrap)) {
    for (int p = 0; p < options.partitions; ++p) keys_.push_back(stream_key(options, p));
  }
  ~RedisProducer() override { redisFree(c_); }

  void setup() override {}

  void send(std::string_view key, std::string_view value, uint64_t tag) override {
    const std::string& stream = keys_[tag % keys_.size()];
    const char* argv[5] = {"XADD", stream.c_str(), "*", "v", value.data()};
    size_t lens[5] = {4, stream.size(), 1, 1, value.size()};
    if (!key.empty()) {
      argv[3] = key.data();
      lens[3] = key.size();
    }
    redisAppendCommandArgv(c_, 5, argv, lens);
    pending_.push_back(tag);
    while (pending_.size() >= static_cast<std::size_t>(options_.window)) pump(100);
  }

  void poll(int timeout_ms) override { pump(timeout_ms); }

  void flush() override {
    while (!pending_.empty()) pump(100);
  }

 private:
  // Writes what is buffered, then serves the replies that arrive within
  // timeout_ms.
  void pump(int timeout_ms) {
    int done = 0;
    while (!done) {
      if (redisBufferWrite(c_, &done) != REDIS_OK) throw std::runtime_error(std::string("redis write: ") + c_->errstr);
    }
    if (pending_.empty()) return;
    pollfd pfd{c_->fd, POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) <= 0) return;
    if (redisBufferRead(c_) != REDIS_OK) throw std::runtime_error(std::string("redis read: ") + c_->errstr);
    for (;;) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(c_, &raw) != REDIS_OK) throw std::runtime_error(std::string("redis: ") + c_->errstr);
      if (!raw) break;
      auto* reply = static_cast<redisReply*>(raw);
      const bool ok = reply->type != REDIS_REPLY_ERROR;
      freeReplyObject(reply);
      const uint64_t tag = pending_.front();
      pending_.pop_front();
      if (ack_) ack_(tag, ok);
    }
  }

  DriverOptions options_;
  redisContext* c_;
  std::vector<std::string> keys_;
  std::deque<uint64_t> pending_;
};

class RedisConsumer final : public Consumer {
 public:
  explicit RedisConsumer(const DriverOptions& options) : options_(options), c_(connect(options.bootstrap)) {}
  ~RedisConsumer() override { redisFree(c_); }

  void start(bool from_start) override {
    args_ = {"XREADGROUP", "GROUP", options_.group, "bench-consumer", "COUNT", "1000", "BLOCK", "0", "NOACK", "STREAMS"};
    for (int p = 0; p < options_.partitions; ++p) {
      const std::string key = stream_key(options_, p);
      freeReplyObject(command(c_, {"XGROUP", "CREATE", key, options_.group, from_start ? "0" : "$", "MKSTREAM"}));
      args_.push_back(key);
    }
    for (int p = 0; p < options_.partitions; ++p) args_.push_back(">");
  }

  std::size_t poll(int timeout_ms, const RecordHandler& handler) override {
    args_[7] = std::to_string(timeout_ms < 1 ? 1 : timeout_ms);
    redisReply* reply = command(c_, args_);
    std::size_t delivered = 0;
    if (reply->type == REDIS_REPLY_ERROR) {
      std::string error(reply->str, reply->len);
      freeReplyObject(reply);
      throw std::runtime_error("XREADGROUP: " + error);
    }
    if (reply->type == REDIS_REPLY_ARRAY) {
      for (size_t s = 0; s < reply->elements; ++s) {
        redisReply* entries = reply->element[s]->element[1];
        for (size_t e = 0; e < entries->elements; ++e) {
          redisReply* fields = entries->element[e]->element[1];
          if (fields->elements >= 2) {
            handler(std::string_view(fields->element[1]->str, fields->element[1]->len));
            ++delivered;
          }
        }
      }
    }
    freeReplyObject(reply);
    return delivered;
  }

 private:
  DriverOptions options_;
  redisContext* c_;
  std::vector<std::string> args_;
};

}  // namespace

std::unique_ptr<Producer> make_redis_producer(const DriverOptions& options) {
  return std::make_unique<RedisProducer>(options);
}
std::unique_ptr<Consumer> make_redis_consumer(const DriverOptions& options) {
  return std::make_unique<RedisConsumer>(options);
}

}  // namespace runnel::bench
