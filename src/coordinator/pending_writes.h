#pragma once
// The store writes the group coordinator waits on, by __consumer_offsets
// partition. When the coordinator stops coordinating a partition it answers that
// partition's writes at once, as the store would on a leadership change, and
// drops the store's own answer when it arrives later: each callback runs once.
#include <cstdint>
#include <functional>
#include <map>

#include "common/error_code.h"

namespace runnel::coordinator {

class PendingWrites {
 public:
  using Done = std::function<void(ErrorCode)>;

  // Registers a write's callback; the id is for finish().
  uint64_t add(int32_t partition, Done done);
  // The store's answer: runs the callback, unless fail_partition() already did.
  void finish(int32_t partition, uint64_t id, ErrorCode error);
  // Answers every pending write of the partition with `error`, oldest first.
  // Returns how many there were.
  size_t fail_partition(int32_t partition, ErrorCode error);
  size_t pending(int32_t partition) const;

 private:
  uint64_t next_id_ = 1;
  std::map<int32_t, std::map<uint64_t, Done>> writes_;
};

}  // namespace runnel::coordinator
