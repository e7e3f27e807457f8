#pragma once
// StoreHealth kept with atomics: written by a store's threads, read by anyone.
#include <atomic>
#include <chrono>
#include <cstdint>

#include "cluster/metadata_store.h"

namespace runnel::cluster {

inline int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class HealthTracker {
 public:
  // The store answered; `revision` is its revision in the answer (0: none).
  void success(int64_t revision) {
    reachable_.store(true);
    last_contact_ms_.store(steady_now_ms());
    int64_t seen = revision_.load();
    while (revision > seen && !revision_.compare_exchange_weak(seen, revision)) {
    }
  }
  void failure() { reachable_.store(false); }

  StoreHealth snapshot() const { return {reachable_.load(), last_contact_ms_.load(), revision_.load()}; }

 private:
  std::atomic<bool> reachable_{true};
  std::atomic<int64_t> last_contact_ms_{0};
  std::atomic<int64_t> revision_{0};
};

}  // namespace runnel::cluster
