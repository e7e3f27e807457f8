#include "fault_workload.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "cluster_client.h"
#include "record_value.h"
#include "replica_log.h"

namespace runnel::fault {
namespace {

using namespace std::chrono_literals;

rd_kafka_conf_t* Conf(const std::map<std::string, std::string>& settings) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  // Faults make clients log every refused connection; only critical lines stay.
  rd_kafka_conf_set(conf, "log_level", "2", error, sizeof error);
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
      ADD_FAILURE() << "librdkafka property " << k << ": " << error;
    }
  }
  return conf;
}

}  // namespace

struct Workload::ProducerState {
  Workload* owner = nullptr;
  std::string id;
  rd_kafka_t* rk = nullptr;
};

Workload::Workload(std::string bootstrap, WorkloadOptions options, AckedWrites& writes)
    : bootstrap_(std::move(bootstrap)), options_(std::move(options)), writes_(writes) {}

Workload::~Workload() { stop(5s); }

void Workload::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* state = static_cast<ProducerState*>(opaque);
  Workload& self = *state->owner;
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::lock_guard lock(self.mu_);
    ++self.failures_[rd_kafka_err2name(message->err)];
    return;
  }
  WriteRecord record;
  record.topic = rd_kafka_topic_name(message->rkt);
  record.partition = message->partition;
  record.offset = message->offset;
  record.key.assign(static_cast<const char*>(message->key), message->key_len);
  record.value.assign(static_cast<const char*>(message->payload), message->len);
  self.writes_.Add(std::move(record));
  ++self.acked_;
}

void Workload::start() {
  for (int i = 0; i < options_.producers; ++i) {
    auto state = std::make_unique<ProducerState>();
    state->owner = this;
    state->id = "p" + std::to_string(i);
    // Idempotent acks=all producers that retry until the record is delivered or
    // 2 minutes pass: every failure they report is one the client saw.
    rd_kafka_conf_t* conf = Conf({{"bootstrap.servers", bootstrap_},
                                  {"enable.idempotence", "true"},
                                  {"acks", "all"},
                                  {"linger.ms", "5"},
                                  {"message.timeout.ms", "120000"},
                                  {"request.timeout.ms", "10000"},
                                  {"retry.backoff.ms", "100"},
                                  {"topic.metadata.refresh.interval.ms", "1000"}});
    rd_kafka_conf_set_dr_msg_cb(conf, &Workload::on_delivery);
    rd_kafka_conf_set_opaque(conf, state.get());
    char error[512];
    state->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (!state->rk) {
      ADD_FAILURE() << "producer: " << error;
      return;
    }
    producers_.push_back(std::move(state));
  }
  for (int i = 0; i < options_.producers; ++i) threads_.emplace_back([this, i] { produce_loop(i); });
  consumer_ = std::thread([this] { consume_loop(); });
}

void Workload::produce_loop(int index) {
  auto& state = *producers_[static_cast<size_t>(index)];
  std::map<int, int64_t> sequence;
  int key = 0;
  const auto period = std::chrono::microseconds(1000000 / std::max(1, options_.records_per_second));
  auto next = std::chrono::steady_clock::now();
  while (!stop_producing_) {
    const std::string key_text = state.id + "-k" + std::to_string(key);
    const std::string value = MakeValue(state.id, key_text, sequence[key]++, static_cast<size_t>(options_.record_bytes));
    for (;;) {
      const auto err = rd_kafka_producev(
          state.rk, RD_KAFKA_V_TOPIC(options_.topic.c_str()), RD_KAFKA_V_KEY(key_text.data(), key_text.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || stop_producing_) break;
      rd_kafka_poll(state.rk, 10);
    }
    key = (key + 1) % options_.keys_per_producer;
    rd_kafka_poll(state.rk, 0);
    char fatal[512];
    if (rd_kafka_fatal_error(state.rk, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::lock_guard lock(mu_);
      fatal_ = fatal;
      return;
    }
    next += period;
    std::this_thread::sleep_until(next);
  }
}

void Workload::consume_loop() {
  rd_kafka_conf_t* conf = Conf({{"bootstrap.servers", bootstrap_},
                                {"group.id", "fault-reader"},
                                {"enable.auto.commit", "false"},
                                {"topic.metadata.refresh.interval.ms", "1000"}});
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (!rk) {
    ADD_FAILURE() << "consumer: " << error;
    return;
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(options_.partitions);
  for (int p = 0; p < options_.partitions; ++p)
    rd_kafka_topic_partition_list_add(list, options_.topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  while (!stop_consuming_) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(rk, 100);
    if (!message) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      WriteRecord record;
      record.topic = options_.topic;
      record.partition = message->partition;
      record.offset = message->offset;
      if (message->key) record.key.assign(static_cast<const char*>(message->key), message->key_len);
      record.value.assign(static_cast<const char*>(message->payload), message->len);
      writes_.AddConsumed(std::move(record));
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}

void Workload::stop(std::chrono::milliseconds drain) {
  if (stop_consuming_) return;
  stop_producing_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
  const auto deadline = std::chrono::steady_clock::now() + drain;
  for (auto& p : producers_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    rd_kafka_flush(p->rk, static_cast<int>(std::max<int64_t>(left.count(), 0)));
  }
  // The consumer reads up to what was acknowledged (or the deadline).
  while (writes_.ConsumedCount() < acked_ && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  stop_consuming_ = true;
  if (consumer_.joinable()) consumer_.join();
  for (auto& p : producers_) {
    const int outstanding = rd_kafka_outq_len(p->rk);
    if (outstanding > 0) {
      std::lock_guard lock(mu_);
      failures_["still outstanding at the end"] += static_cast<size_t>(outstanding);
    }
    rd_kafka_destroy(p->rk);
  }
  producers_.clear();
}

std::map<std::string, size_t> Workload::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

size_t Workload::failure_count() const {
  size_t n = 0;
  for (const auto& [name, count] : failures()) n += count;
  return n;
}

std::string Workload::fatal_error() const {
  std::lock_guard lock(mu_);
  return fatal_;
}

std::vector<int32_t> Leaders(it::TestCluster& cluster, int asking_broker, const std::string& topic) {
  auto view = it::ClusterClient(cluster.address(asking_broker)).view({topic});
  std::vector<int32_t> leaders;
  if (!view || !view->topics.count(topic)) return leaders;
  for (const auto& p : view->topics.at(topic)) leaders.push_back(p.leader);
  return leaders;
}

bool WaitForFullIsr(it::TestCluster& cluster, const std::string& topic, size_t replicas,
                    std::chrono::milliseconds timeout) {
  return it::WaitFor(
      [&] {
        for (int id : cluster.broker_ids()) {
          if (!cluster.broker(id).alive()) continue;
          auto view = it::ClusterClient(cluster.address(id)).view({topic});
          if (!view || !view->topics.count(topic)) return false;
          for (const auto& p : view->topics.at(topic))
            if (p.leader < 0 || p.isr.size() != replicas) return false;
        }
        return true;
      },
      timeout);
}

ConsistencyReport StopAndCheck(it::TestCluster& cluster, const std::string& topic, int partitions,
                               const AckedWrites& writes) {
  // Together, so that nobody waits for leaders to move to brokers about to stop.
  std::vector<std::thread> stoppers;
  for (int id : cluster.broker_ids())
    stoppers.emplace_back([&cluster, id] {
      if (cluster.broker(id).alive()) cluster.broker(id).stop();
    });
  for (auto& t : stoppers) t.join();
  std::map<int, std::vector<ReplicaLog>> replicas;
  for (int id : cluster.broker_ids()) {
    for (int p = 0; p < partitions; ++p) {
      auto log = ReadReplica(cluster.broker(id).log_dir(), topic, p);
      if (log.found) replicas[id].push_back(std::move(log));
    }
  }
  return Check(writes, replicas);
}

int FaultRounds(int default_rounds) {
  if (const char* env = std::getenv("RUNNEL_FAULT_ROUNDS"); env && *env) return std::max(1, std::atoi(env));
  return default_rounds;
}

}  // namespace runnel::fault
