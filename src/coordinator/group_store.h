#pragma once
// Where the coordinator writes its records: the partitions of __consumer_offsets.
// An interface so unit tests can complete (or fail) writes by hand; the broker
// uses OffsetsLog (storage::Log + group-commit fsync).
#include <cstdint>
#include <functional>
#include <vector>

#include "common/error_code.h"
#include "coordinator/internal_topics.h"
#include "coordinator/record_batch_codec.h"

namespace runnel::coordinator {

class GroupStore {
 public:
  virtual ~GroupStore() = default;
  virtual int32_t partition_count() const = 0;
  // Appends the records as one batch to the partition. done(error) runs later on
  // the coordinator's thread, never inside append(): once the batch is durable
  // (kNone), or with the append/fsync error.
  virtual void append(int32_t partition, std::vector<LogRecord> records, std::function<void(ErrorCode)> done) = 0;
};

}  // namespace runnel::coordinator
