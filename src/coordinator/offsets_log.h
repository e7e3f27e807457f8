#pragma once
// GroupStore on the partitions of __consumer_offsets: each write is one
// RecordBatch appended by this broker as the partition's leader and
// acknowledged once every in-sync replica holds it and it is fsynced here (an
// acks=all produce, as Kafka's coordinator writes), on the event loop. Also reads
// a partition back when this broker becomes its leader (GroupCoordinator loading).
#include <functional>
#include <memory>
#include <vector>

#include <asio/any_io_executor.hpp>

#include "coordinator/group_store.h"
#include "replication/partition.h"
#include "storage/log.h"

namespace runnel::coordinator {

struct ReplayStats {
  size_t batches = 0;
  size_t records = 0;
  size_t skipped_batches = 0;  // compressed, control or corrupt
};

class OffsetsLog final : public GroupStore {
 public:
  using Clock = std::function<int64_t()>;  // wall clock in ms, for record timestamps
  // This broker's replica of a partition (nullptr when not hosted here).
  using PartitionLookup = std::function<std::shared_ptr<replication::Partition>(int32_t partition)>;

  struct Options {
    int64_t commit_timeout_ms = 5000;  // offsets.commit.timeout.ms
    std::function<int32_t()> partition_count;
    std::function<int32_t()> min_insync_replicas;
  };

  OffsetsLog(asio::any_io_executor executor, Clock clock, PartitionLookup lookup, Options options);

  int32_t partition_count() const override { return options_.partition_count(); }
  void append(int32_t partition, std::vector<LogRecord> records, std::function<void(ErrorCode)> done) override;

  // Feeds every record of one partition, log start to log end (as its leader:
  // everything there will be committed), to `apply`.
  static ReplayStats replay(const storage::Log& log, int32_t partition,
                            const std::function<void(const LogRecord&)>& apply);

 private:
  asio::any_io_executor executor_;
  Clock clock_;
  PartitionLookup lookup_;
  Options options_;
};

}  // namespace runnel::coordinator
