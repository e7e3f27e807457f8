#include "fleet.h"

#include "client_config.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

namespace ride {

Fleet::Fleet(FleetOptions options) : options_(std::move(options)) {}

Fleet::~Fleet() {
  join();
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

void Fleet::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* fleet = static_cast<Fleet*>(opaque);
  if (message->err) {
    ++fleet->failed_;
  } else {
    ++fleet->produced_;
  }
}

bool Fleet::start() {
  rd_kafka_conf_t* conf = make_conf(
      {{"bootstrap.servers", options_.brokers}, {"acks", "all"}, {"linger.ms", "5"}, {"enable.idempotence", "true"}},
      &error_);
  if (conf == nullptr) return false;
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &Fleet::OnDelivery);
  rk_ = make_client(RD_KAFKA_PRODUCER, conf, &error_);
  if (rk_ == nullptr) return false;
  thread_ = std::thread([this] { run(); });
  return true;
}

void Fleet::run() {
  const auto started = std::chrono::steady_clock::now();
  const auto period = std::chrono::duration<double>(1.0 / options_.events_per_second);
  std::vector<long> seq(static_cast<size_t>(options_.drivers), 0);
  for (long i = 0;; ++i) {
    const auto due = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(period * i);
    if (due - started >= options_.duration) break;
    std::this_thread::sleep_until(due);
    rd_kafka_poll(rk_, 0);
    // Drivers take turns; each drifts along its own little circle around the city centre.
    const int driver = static_cast<int>(i % options_.drivers);
    const long n = seq[static_cast<size_t>(driver)]++;
    const double angle = 0.05 * static_cast<double>(n) + driver;
    char key[32], value[256];
    std::snprintf(key, sizeof key, "driver-%02d", driver);
    std::snprintf(value, sizeof value, R"({"driver":"%s","seq":%ld,"lat":%.5f,"lon":%.5f,"run":"%s"})", key, n,
                  52.52 + 0.01 * std::sin(angle), 13.40 + 0.01 * std::cos(angle), options_.run_id.c_str());
    for (;;) {
      const auto err = rd_kafka_producev(rk_, RD_KAFKA_V_TOPIC(options_.topic.c_str()),
                                         RD_KAFKA_V_KEY(key, std::strlen(key)),
                                         RD_KAFKA_V_VALUE(value, std::strlen(value)),
                                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        if (err) ++failed_;
        break;
      }
      rd_kafka_poll(rk_, 10);
    }
  }
  rd_kafka_flush(rk_, 30000);
  done_ = true;
}

void Fleet::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace ride
