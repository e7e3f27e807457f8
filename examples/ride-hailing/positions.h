// What the broker says about the topic and the groups: each partition's end
// offset (high watermark) and each group's committed offset there. Lag is the
// difference: events the group has not yet processed and committed.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ride {

struct Positions {
  std::vector<int64_t> end;                            // per partition
  std::map<std::string, std::vector<int64_t>> committed;  // per group, per partition; -1 = nothing committed
  std::map<std::string, int64_t> lag;                   // per group, summed; -1 = not started
  // True when every group has committed the end offset of every partition.
  bool all_caught_up() const;
};

class PositionTracker {
 public:
  PositionTracker(std::string brokers, std::string topic, std::vector<std::string> groups);
  ~PositionTracker();
  // Connects and learns the topic's partition count; false with error().
  bool start();
  int partitions() const { return partitions_; }
  Positions query();
  const std::string& error() const { return error_; }

 private:
  rd_kafka_t* make_handle(const std::string& group);

  std::string brokers_;
  std::string topic_;
  std::vector<std::string> groups_;
  std::map<std::string, rd_kafka_t*> observers_;  // one handle per group, never subscribed
  int partitions_ = 0;
  std::string error_;
};

// Events left to read on a partition: end offset minus committed offset (all
// of it when nothing is committed yet).
int64_t partition_lag(int64_t end, int64_t committed);

// The side-by-side table: one row per partition, then the totals.
std::string render_positions(const Positions& positions, const std::vector<std::string>& groups);

}  // namespace ride
