#include "cluster/metadata_store.h"

namespace runnel::cluster {

// etcd's clientv3.GetPrefixRangeEnd: drop trailing 0xff bytes, then increment
// the last byte. A prefix of only 0xff bytes (or none) has no upper bound: "\0"
// is etcd's "every key from `key` on".
std::string prefix_range_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

}  // namespace runnel::cluster
