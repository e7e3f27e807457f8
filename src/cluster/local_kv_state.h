#pragma once
// The key-value model of etcd v3, in memory, for LocalStore: one revision per
// writing transaction, create/mod revisions and versions as etcd keeps them,
// compares evaluated exactly as etcd evaluates them, leases that own keys.
// Not thread-safe: LocalStore's worker thread owns it.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cluster/metadata_store.h"

namespace runnel::cluster {

class LocalKvState {
 public:
  int64_t revision() const { return revision_; }
  const std::map<std::string, KeyValue>& kvs() const { return kvs_; }

  // Keys in [key, range_end) (just `key` when range_end is empty; "\0" = no upper bound), sorted.
  std::vector<KeyValue> range(const std::string& key, const std::string& range_end) const;

  // Runs the transaction. When it changes anything the revision grows by one and
  // `events` holds the changes in order (all at the new revision).
  StoreStatus apply(const Txn& txn, TxnResult& result, std::vector<WatchEvent>& events);

  void grant_lease(int64_t lease) { leases_[lease]; }
  bool has_lease(int64_t lease) const { return leases_.count(lease) > 0; }
  // Deletes the lease and its keys (one revision if it had any). False: no such lease.
  bool revoke_lease(int64_t lease, std::vector<WatchEvent>& events);

  // Loading from disk: state as of `revision`, without leases.
  void restore(int64_t revision, std::map<std::string, KeyValue> kvs);
  void set_revision(int64_t revision) { revision_ = revision; }
  void restore_put(const KeyValue& kv) { kvs_[kv.key] = kv; }
  void restore_delete(const std::string& key) { kvs_.erase(key); }

  static bool compare_holds(const Compare& compare, const KeyValue* kv);

 private:
  void put(const std::string& key, const std::string& value, int64_t lease, int64_t revision,
           std::vector<WatchEvent>& events);
  void erase_range(const std::string& key, const std::string& range_end, int64_t revision,
                   std::vector<WatchEvent>& events);
  void unbind(const KeyValue& kv);

  std::map<std::string, KeyValue> kvs_;
  std::map<int64_t, std::set<std::string>> leases_;  // lease -> its keys
  int64_t revision_ = 1;                             // etcd's first revision
};

// Whether `key` lies in [begin, end) with etcd's conventions for `end`.
bool key_in_range(const std::string& key, const std::string& begin, const std::string& end);

}  // namespace runnel::cluster
