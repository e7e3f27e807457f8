#include "positions.h"

#include "client_config.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace ride {

bool Positions::all_caught_up() const {
  for (const auto& [group, offsets] : committed) {
    for (size_t p = 0; p < end.size(); ++p) {
      // A partition no event was ever keyed to has nothing to commit.
      const bool empty_partition = end[p] == 0 && p < offsets.size() && offsets[p] < 0;
      if (p >= offsets.size() || (offsets[p] != end[p] && !empty_partition)) return false;
    }
  }
  return !end.empty();
}

int64_t partition_lag(int64_t end, int64_t committed) {
  if (end < 0) return 0;
  return std::max<int64_t>(0, end - std::max<int64_t>(0, committed));
}

PositionTracker::PositionTracker(std::string brokers, std::string topic, std::vector<std::string> groups)
    : brokers_(std::move(brokers)), topic_(std::move(topic)), groups_(std::move(groups)) {}

PositionTracker::~PositionTracker() {
  for (auto& [group, rk] : observers_) rd_kafka_destroy(rk);
}

rd_kafka_t* PositionTracker::make_handle(const std::string& group) {
  return make_client(
      RD_KAFKA_CONSUMER,
      make_conf({{"bootstrap.servers", brokers_}, {"group.id", group}, {"enable.auto.commit", "false"}}, &error_),
      &error_);
}

bool PositionTracker::start() {
  for (const auto& group : groups_) {
    rd_kafka_t* rk = make_handle(group);
    if (rk == nullptr) return false;
    observers_[group] = rk;
  }
  rd_kafka_t* rk = observers_.begin()->second;
  rd_kafka_topic_t* topic = rd_kafka_topic_new(rk, topic_.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  const auto err = rd_kafka_metadata(rk, 0, topic, &metadata, 10000);
  rd_kafka_topic_destroy(topic);
  if (err) {
    error_ = std::string("cannot read metadata: ") + rd_kafka_err2str(err);
    return false;
  }
  if (metadata->topic_cnt == 1 && !metadata->topics[0].err) partitions_ = metadata->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(metadata);
  if (partitions_ <= 0) error_ = "topic " + topic_ + " has no partitions";
  return partitions_ > 0;
}

Positions PositionTracker::query() {
  Positions positions;
  rd_kafka_t* any = observers_.begin()->second;
  for (int p = 0; p < partitions_; ++p) {
    int64_t low = -1, high = -1;
    if (rd_kafka_query_watermark_offsets(any, topic_.c_str(), p, &low, &high, 5000)) high = -1;
    positions.end.push_back(high);
  }
  for (const auto& group : groups_) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions_);
    for (int p = 0; p < partitions_; ++p) rd_kafka_topic_partition_list_add(list, topic_.c_str(), p);
    std::vector<int64_t> committed(static_cast<size_t>(partitions_), -1);
    if (rd_kafka_committed(observers_[group], list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int i = 0; i < list->cnt; ++i) {
        if (!list->elems[i].err && list->elems[i].offset >= 0) {
          committed[static_cast<size_t>(list->elems[i].partition)] = list->elems[i].offset;
        }
      }
    }
    rd_kafka_topic_partition_list_destroy(list);
    // Once a group has committed anything, a partition it has not committed on
    // yet is all still to read (these readers start at the earliest offset).
    const bool started = std::any_of(committed.begin(), committed.end(), [](int64_t c) { return c >= 0; });
    int64_t lag = started ? 0 : -1;
    for (int p = 0; p < partitions_ && started; ++p) {
      lag += partition_lag(positions.end[static_cast<size_t>(p)], committed[static_cast<size_t>(p)]);
    }
    positions.committed[group] = std::move(committed);
    positions.lag[group] = lag;
  }
  return positions;
}

std::string render_positions(const Positions& positions, const std::vector<std::string>& groups) {
  std::string out;
  char cell[64];
  auto add = [&](const char* format, auto... args) {
    std::snprintf(cell, sizeof cell, format, args...);
    out += cell;
  };
  add("%-9s %10s", "partition", "end-offset");
  for (const auto& group : groups) add(" | %10s %6s", (group + " at").c_str(), "lag");
  out += '\n';
  int64_t total_end = 0;
  std::map<std::string, int64_t> total_at;
  for (size_t p = 0; p < positions.end.size(); ++p) {
    const int64_t end = positions.end[p];
    total_end += std::max<int64_t>(0, end);
    add("%-9zu %10lld", p, static_cast<long long>(end));
    for (const auto& group : groups) {
      const int64_t at = positions.committed.at(group)[p];
      const bool started = positions.lag.at(group) >= 0;
      total_at[group] += std::max<int64_t>(0, at);
      const std::string at_text = at < 0 ? "-" : std::to_string(at);
      const std::string lag_text = started ? std::to_string(partition_lag(end, at)) : "-";
      add(" | %10s %6s", at_text.c_str(), lag_text.c_str());
    }
    out += '\n';
  }
  add("%-9s %10lld", "total", static_cast<long long>(total_end));
  for (const auto& group : groups) {
    const int64_t lag = positions.lag.at(group);
    if (lag < 0) {
      add(" | %10s %6s", "-", "-");
    } else {
      add(" | %10lld %6lld", static_cast<long long>(total_at[group]), static_cast<long long>(lag));
    }
  }
  out += '\n';
  return out;
}

}  // namespace ride
