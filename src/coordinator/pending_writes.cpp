#include "coordinator/pending_writes.h"

#include <utility>

namespace runnel::coordinator {

uint64_t PendingWrites::add(int32_t partition, Done done) {
  const uint64_t id = next_id_++;
  writes_[partition].emplace(id, std::move(done));
  return id;
}

void PendingWrites::finish(int32_t partition, uint64_t id, ErrorCode error) {
  auto p = writes_.find(partition);
  if (p == writes_.end()) return;
  auto w = p->second.find(id);
  if (w == p->second.end()) return;  // already answered by fail_partition()
  Done done = std::move(w->second);
  p->second.erase(w);
  if (p->second.empty()) writes_.erase(p);
  done(error);
}

size_t PendingWrites::fail_partition(int32_t partition, ErrorCode error) {
  auto p = writes_.find(partition);
  if (p == writes_.end()) return 0;
  // Taken out first: a callback may start writes (to other partitions) meanwhile.
  std::map<uint64_t, Done> failed = std::move(p->second);
  writes_.erase(p);
  for (auto& [id, done] : failed) done(error);
  return failed.size();
}

size_t PendingWrites::pending(int32_t partition) const {
  auto p = writes_.find(partition);
  return p == writes_.end() ? 0 : p->second.size();
}

}  // namespace runnel::coordinator
