#include "group_reader.h"

#include "client_config.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

namespace ride {
namespace {

// The value of "field":"..." or "field":123 in our flat JSON events.
std::string field(const std::string& json, const std::string& name) {
  const std::string marker = "\"" + name + "\":";
  auto at = json.find(marker);
  if (at == std::string::npos) return "";
  at += marker.size();
  if (at < json.size() && json[at] == '"') {
    const auto end = json.find('"', at + 1);
    return end == std::string::npos ? "" : json.substr(at + 1, end - at - 1);
  }
  const auto end = json.find_first_of(",}", at);
  return json.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace

GroupReader::GroupReader(ReaderOptions options) : options_(std::move(options)) {}

GroupReader::~GroupReader() {
  stop();
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

bool GroupReader::start() {
  // Offsets are stored after an event is processed and committed every 500 ms.
  rd_kafka_conf_t* conf = make_conf({{"bootstrap.servers", options_.brokers},
                                   {"group.id", options_.group},
                                   {"client.id", "ride-hailing-" + options_.group},
                                   {"auto.offset.reset", "earliest"},
                                   {"enable.auto.commit", "true"},
                                   {"auto.commit.interval.ms", "500"},
                                   {"enable.auto.offset.store", "false"},
                                   {"session.timeout.ms", "10000"},
                                     {"heartbeat.interval.ms", "1000"}},
                                    &error_);
  if (conf == nullptr) return false;
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_rebalance_cb(conf, &GroupReader::OnRebalance);
  rk_ = make_client(RD_KAFKA_CONSUMER, conf, &error_);
  if (rk_ == nullptr) return false;
  rd_kafka_poll_set_consumer(rk_);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, options_.topic.c_str(), RD_KAFKA_PARTITION_UA);
  const auto err = rd_kafka_subscribe(rk_, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err) {
    error_ = rd_kafka_err2str(err);
    return false;
  }
  thread_ = std::thread([this] { run(); });
  return true;
}

void GroupReader::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                              void* opaque) {
  auto* reader = static_cast<GroupReader*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // A late joiner that wants the whole history: start at the beginning of
    // what is retained, once; later rebalances resume from its commits.
    if (reader->options_.replay_from_beginning && !reader->replayed_) {
      for (int i = 0; i < partitions->cnt; ++i) partitions->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
      reader->replayed_ = true;
    }
    rd_kafka_assign(rk, partitions);
    reader->joined_ = true;
  } else {
    rd_kafka_commit(rk, nullptr, 0);
    rd_kafka_assign(rk, nullptr);
  }
}

void GroupReader::check_order(const rd_kafka_message_t* message) {
  const std::string value(static_cast<const char*>(message->payload), message->len);
  const std::string key = field(value, "run") + "/" + field(value, "driver");
  const long seq = std::atol(field(value, "seq").c_str());
  std::lock_guard lock(mu_);
  auto [it, inserted] = last_seq_.emplace(key, seq);
  if (!inserted) {
    if (seq <= it->second) ++violations_;
    it->second = seq;
  }
}

void GroupReader::run() {
  // The pace counts from the first event: a reader that joins late is no faster for it.
  std::chrono::steady_clock::time_point started;
  long processed = 0;
  while (!stop_) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(rk_, 100);
    if (message == nullptr) continue;
    if (message->err) {
      if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        std::fprintf(stderr, "[%s] %s\n", options_.group.c_str(), rd_kafka_message_errstr(message));
      }
      rd_kafka_message_destroy(message);
      continue;
    }
    if (processed == 0) started = std::chrono::steady_clock::now();
    check_order(message);
    ++events_;
    ++processed;
    // Processed: only now is its offset stored for the next commit.
    rd_kafka_offset_store(message->rkt, message->partition, message->offset);
    rd_kafka_message_destroy(message);
    if (options_.max_events_per_second > 0) {
      const auto due = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::duration<double>(processed / options_.max_events_per_second));
      while (!stop_ && std::chrono::steady_clock::now() < due) {
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            due - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
      }
    }
  }
}

void GroupReader::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (rk_ != nullptr && !closed_) {
    closed_ = true;
    rd_kafka_commit(rk_, nullptr, 0);  // NO_OFFSET when nothing new was processed: fine
    rd_kafka_consumer_close(rk_);
  }
}

size_t GroupReader::drivers_seen() const {
  std::lock_guard lock(mu_);
  std::set<std::string> drivers;  // keys are run/driver
  for (const auto& [key, seq] : last_seq_) drivers.insert(key.substr(key.find('/') + 1));
  return drivers.size();
}

}  // namespace ride
