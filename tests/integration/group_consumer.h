// Consumer-group clients for the integration tests: a librdkafka high-level
// consumer (subscribe, poll on its own thread, commit each record
// synchronously), kcat -G as a child process that can be SIGKILLed, and small
// helpers (committed offsets, producing numbered records, bounded waits).
#pragma once

#include <librdkafka/rdkafka.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rdkafka_producer.h"

namespace runnel::it {

// Every record any member of a test consumed, with who and when.
struct Consumption {
  std::string member;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::string value;
  std::chrono::steady_clock::time_point at;
};

class ConsumptionLog {
 public:
  void add(Consumption c);
  std::vector<Consumption> snapshot() const;
  std::size_t size() const;
  // Distinct (partition, offset) pairs seen.
  std::size_t distinct() const;

 private:
  mutable std::mutex mu_;
  std::vector<Consumption> entries_;
};

struct GroupConsumerOptions {
  std::string name;  // member label in the log
  std::string group;
  ClientConfig overrides;                         // win over the defaults below
  bool commit_each = true;                        // commit every record synchronously
  std::chrono::milliseconds per_record_delay{0};  // a slow consumer
};

// Defaults: enable.auto.commit=false, auto.offset.reset=earliest,
// session.timeout.ms=3000, heartbeat.interval.ms=300, max.poll.interval.ms=20000.
class GroupConsumer {
 public:
  GroupConsumer(const std::string& bootstrap, GroupConsumerOptions options);
  ~GroupConsumer();  // stop(), close(), destroy
  GroupConsumer(const GroupConsumer&) = delete;
  GroupConsumer& operator=(const GroupConsumer&) = delete;

  bool ok() const { return rk_ != nullptr; }
  const std::string& error() const { return error_; }
  rd_kafka_t* handle() const { return rk_; }

  bool subscribe(const std::vector<std::string>& topics);
  // Polls on a background thread until stop(): each record goes to `log`, then
  // (if commit_each) is committed synchronously; acknowledged commits are kept.
  void start(ConsumptionLog* log);
  // Asks the polling thread to finish its current record and exit; stop() also waits.
  void request_stop() { stop_ = true; }
  void stop();
  // LeaveGroup (dynamic members) and a final commit: a clean shutdown.
  void close();
  // Destroys the handle without LeaveGroup or commit, like a crashed process.
  void abandon();

  std::set<std::int32_t> assignment() const;
  // Next offset to consume per partition, as last acknowledged by the broker.
  std::map<std::int32_t, std::int64_t> acked_commits() const;
  struct AckedCommit {
    std::int32_t partition;
    std::int64_t offset;  // next offset to consume
    std::chrono::steady_clock::time_point at;
  };
  // Every acknowledged commit, in order.
  std::vector<AckedCommit> commit_history() const;
  std::size_t consumed() const { return consumed_; }
  std::size_t commit_failures() const { return commit_failures_; }
  int rebalances() const { return rebalances_; }

 private:
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                          void* opaque);
  void run(ConsumptionLog* log);

  GroupConsumerOptions options_;
  rd_kafka_t* rk_ = nullptr;
  std::string error_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> consumed_{0};
  std::atomic<std::size_t> commit_failures_{0};
  std::atomic<int> rebalances_{0};
  mutable std::mutex mu_;
  std::map<std::int32_t, std::int64_t> acked_;
  std::vector<AckedCommit> history_;
  bool closed_ = false;
};

// kcat -G as a child process: joins the group, consumes, auto-commits, prints
// "partition offset value" lines (unbuffered) to a pipe; a reader thread
// time-stamps each line as it arrives and adds it to the log as member "kcat".
class KcatGroupMember {
 public:
  KcatGroupMember(const std::string& bootstrap, const std::string& group, const std::string& topic,
                  ConsumptionLog* log, const std::string& stderr_path, const std::vector<std::string>& extra_properties);
  ~KcatGroupMember();  // SIGKILL if still running
  bool running();
  void kill9();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int read_fd_ = -1;
  std::thread reader_;
};

// The group's committed offsets (OffsetFetch through librdkafka, without joining);
// -1 where nothing is committed. Empty map on failure (with *why).
std::map<std::int32_t, std::int64_t> CommittedOffsets(const std::string& bootstrap, const std::string& group,
                                                      const std::string& topic, int partitions,
                                                      std::string* why = nullptr);

// Commits offsets for a group that has no active members (an assign()-ed
// consumer with the group's id, as reset tools do). Returns "" or an error.
std::string CommitOffsetsAsSimpleConsumer(const std::string& bootstrap, const std::string& group,
                                          const std::string& topic, const std::map<std::int32_t, std::int64_t>& offsets);

// Produces `count` records to each partition, values "p<partition>-<first+i>",
// acks=all, and waits for all deliveries. Returns "" or an error.
std::string ProduceNumbered(const std::string& bootstrap, const std::string& topic, int partitions, int first,
                            int count);

// Ends of the partitions (high watermarks); empty on failure.
std::map<std::int32_t, std::int64_t> HighWatermarks(const std::string& bootstrap, const std::string& topic,
                                                    int partitions);

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds step = std::chrono::milliseconds(20));

}  // namespace runnel::it
