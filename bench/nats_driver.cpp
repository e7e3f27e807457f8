// NATS JetStream driver: one file-storage stream per topic capturing
// subjects <topic>.<partition>; publishes carry a reply inbox so JetStream
// answers each with its publish ack; read-back is an ephemeral push consumer
// with ack_policy none.
#include <chrono>
#include <stdexcept>
#include <string>

#include "driver.h"
#include "nats_connection.h"

namespace runnel::bench {
namespace {

constexpr int kAckSid = 1;
constexpr int kApiSid = 2;
constexpr int kDeliverSid = 3;
constexpr const char* kApiInbox = "_INBOX.bench.api";

std::string stream_name(const DriverOptions& options) {
  std::string name;
  for (char c : options.topic) name += (c == '.' || c == '*' || c == '>' || c == ' ') ? '_' : c;
  return name;
}

void check_api_reply(const std::string& what, const std::string& reply) {
  if (reply.find("\"error\"") != std::string::npos && reply.find("already in use") == std::string::npos) {
    throw std::runtime_error("nats " + what + ": " + reply);
  }
}

class NatsProducer final : public Producer {
 public:
  explicit NatsProducer(const DriverOptions& options) : options_(options), conn_(options.bootstrap) {
    for (int p = 0; p < options.partitions; ++p) subjects_.push_back(options.topic + "." + std::to_string(p));
    conn_.subscribe("_INBOX.bench.ack.*", kAckSid);
    conn_.subscribe(kApiInbox, kApiSid);
  }

  void setup() override {
    if (!options_.create_topic) return;
    const std::string name = stream_name(options_);
    const std::string config = "{\"name\":\"" + name + "\",\"subjects\":[\"" + options_.topic +
                               ".>\"],\"storage\":\"file\",\"num_replicas\":1,\"retention\":\"limits\"}";
    check_api_reply("stream create", conn_.request("$JS.API.STREAM.CREATE." + name, kApiInbox, kApiSid, config, nullptr,
                                                   std::chrono::seconds(30)));
  }

  void send(std::string_view, std::string_view value, uint64_t tag) override {
    reply_ = "_INBOX.bench.ack.";
    reply_ += std::to_string(tag);
    conn_.publish(subjects_[tag % subjects_.size()], reply_, value);
    ++pending_;
    while (pending_ >= static_cast<uint64_t>(options_.window)) pump(100);
  }

  void poll(int timeout_ms) override { pump(timeout_ms); }

  void flush() override {
    conn_.flush();
    while (pending_ > 0) pump(100);
  }

 private:
  void pump(int timeout_ms) {
    conn_.read(timeout_ms, [this](std::string_view subject, int sid, std::string_view payload) {
      if (sid != kAckSid) return;
      const uint64_t tag = std::stoull(std::string(subject.substr(subject.rfind('.') + 1)));
      --pending_;
      if (ack_) ack_(tag, payload.find("\"error\"") == std::string_view::npos);
    });
  }

  DriverOptions options_;
  NatsConnection conn_;
  std::vector<std::string> subjects_;
  std::string reply_;
  uint64_t pending_ = 0;
};

class NatsConsumer final : public Consumer {
 public:
  explicit NatsConsumer(const DriverOptions& options) : options_(options), conn_(options.bootstrap) {}

  void start(bool from_start) override {
    const std::string deliver = "_INBOX.bench.deliver";
    conn_.subscribe(deliver, kDeliverSid);
    conn_.subscribe(kApiInbox, kApiSid);
    const std::string name = stream_name(options_);
    const std::string config = "{\"stream_name\":\"" + name + "\",\"config\":{\"deliver_subject\":\"" + deliver +
                               "\",\"deliver_policy\":\"" + (from_start ? "all" : "new") +
                               "\",\"ack_policy\":\"none\",\"replay_policy\":\"instant\"}}";
    check_api_reply("consumer create",
                    conn_.request("$JS.API.CONSUMER.CREATE." + name, kApiInbox, kApiSid, config,
                                  [this](std::string_view, int sid, std::string_view payload) {
                                    if (sid == kDeliverSid) early_.emplace_back(payload);
                                  },
                                  std::chrono::seconds(30)));
  }

  std::size_t poll(int timeout_ms, const RecordHandler& handler) override {
    std::size_t delivered = 0;
    for (const auto& record : early_) {
      handler(record);
      ++delivered;
    }
    early_.clear();
    delivered += conn_.read(timeout_ms, [&](std::string_view, int sid, std::string_view payload) {
      if (sid == kDeliverSid) handler(payload);
    });
    return delivered;
  }

 private:
  DriverOptions options_;
  NatsConnection conn_;
  std::vector<std::string> early_;
};

}  // namespace

std::unique_ptr<Producer> make_nats_producer(const DriverOptions& options) {
  return std::make_unique<NatsProducer>(options);
}
std::unique_ptr<Consumer> make_nats_consumer(const DriverOptions& options) {
  return std::make_unique<NatsConsumer>(options);
}

}  // namespace runnel::bench
