#pragma once
// Durable producer-id allocation for InitProducerId. Ids are handed out from a
// block whose end is recorded (fsynced) in `producer-id-block` in the first log
// dir before any id of it is used, so an id is never given twice, even after a
// kill -9 (a crash only skips the rest of the block). The next block is reserved
// ahead of time on a background thread; if a burst empties both, allocate()
// returns nullopt and the caller answers COORDINATOR_LOAD_IN_PROGRESS, which
// clients retry (as Kafka's RPCProducerIdManager does).
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>

#include "storage/env.h"

namespace runnel::storage {

inline constexpr const char* kProducerIdBlockFile = "producer-id-block";

class ProducerIdManager {
 public:
  static constexpr int64_t kBlockSize = 1000;

  // Reads the file (missing = start at 0) and reserves the first block.
  std::error_code open(Env& env, const std::string& dir);

  std::optional<int64_t> allocate();
  // True when the next block should be reserved (called by the background thread).
  bool reservation_needed() const;
  // Persists the end of one more block (write + fsync). Never on the event loop.
  std::error_code reserve_next_block();
  // Called (on the allocating thread) when a reservation becomes needed.
  void set_on_reservation_needed(std::function<void()> hook);

 private:
  std::error_code persist(int64_t reserved_end);

  Env* env_ = nullptr;
  std::string path_;
  mutable std::mutex mu_;
  std::mutex io_mu_;           // one reservation at a time
  int64_t next_ = 0;           // next id of the current block
  int64_t current_end_ = 0;    // exclusive
  int64_t spare_start_ = -1;   // a reserved block not in use yet, -1 = none
  int64_t reserved_end_ = 0;   // what the file says: no id below it may be reused
  std::function<void()> on_reservation_needed_;
};

}  // namespace runnel::storage
