#pragma once
// GroupStore on the partitions of __consumer_offsets: each write is one
// RecordBatch appended with storage::Log::append and acknowledged once the
// Flusher has fsynced it (as an acks=all produce), on the event loop. Also reads
// the partitions back at startup for GroupCoordinator::replay.
#include <functional>
#include <memory>
#include <vector>

#include <asio/any_io_executor.hpp>

#include "coordinator/group_store.h"
#include "storage/flusher.h"
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

  OffsetsLog(storage::Flusher& flusher, asio::any_io_executor executor, Clock clock);

  // The partitions' logs, index = partition. Must be called before any append.
  void open(std::vector<std::shared_ptr<storage::Log>> logs) { logs_ = std::move(logs); }
  // Called on the event loop after each durable write (e.g. to wake fetchers).
  void set_on_durable(std::function<void(int32_t partition)> hook) { on_durable_ = std::move(hook); }

  int32_t partition_count() const override { return static_cast<int32_t>(logs_.size()); }
  void append(int32_t partition, std::vector<LogRecord> records, std::function<void(ErrorCode)> done) override;

  // Feeds every record of one partition, log start to high watermark, to `apply`.
  static ReplayStats replay(const storage::Log& log, int32_t partition,
                            const std::function<void(const LogRecord&)>& apply);

 private:
  storage::Flusher& flusher_;
  asio::any_io_executor executor_;
  Clock clock_;
  std::vector<std::shared_ptr<storage::Log>> logs_;
  std::function<void(int32_t)> on_durable_;
};

}  // namespace runnel::coordinator
