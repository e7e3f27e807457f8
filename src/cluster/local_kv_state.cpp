#include "cluster/local_kv_state.h"

namespace runnel::cluster {
namespace {

constexpr size_t kMaxTxnOps = 128;  // etcd's default --max-txn-ops

bool unbounded(const std::string& range_end) { return range_end.size() == 1 && range_end[0] == '\0'; }

int three_way(int64_t a, int64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

// etcd's checkIntervals: within one branch a key may be put only once, and not
// both put and deleted. Overlapping deletes are fine.
bool branch_has_duplicate_key(const std::vector<TxnOp>& ops) {
  std::set<std::string> puts;
  for (const auto& op : ops) {
    if (op.type == TxnOp::Type::kPut && !puts.insert(op.key).second) return true;
  }
  for (const auto& op : ops) {
    if (op.type != TxnOp::Type::kDelete) continue;
    for (const auto& key : puts) {
      if (key_in_range(key, op.key, op.range_end)) return true;
    }
  }
  return false;
}

StoreStatus invalid(std::string message) { return {StoreCode::kInvalid, std::move(message)}; }

}  // namespace

bool key_in_range(const std::string& key, const std::string& begin, const std::string& end) {
  if (end.empty()) return key == begin;
  if (key < begin) return false;
  return unbounded(end) || key < end;
}

std::vector<KeyValue> LocalKvState::range(const std::string& key, const std::string& range_end) const {
  std::vector<KeyValue> out;
  if (range_end.empty()) {
    auto it = kvs_.find(key);
    if (it != kvs_.end()) out.push_back(it->second);
    return out;
  }
  for (auto it = kvs_.lower_bound(key); it != kvs_.end() && key_in_range(it->first, key, range_end); ++it)
    out.push_back(it->second);
  return out;
}

bool LocalKvState::compare_holds(const Compare& compare, const KeyValue* kv) {
  const KeyValue absent;
  if (kv == nullptr) {
    // As etcd: a value cannot be compared on a missing key, whatever the operator.
    if (compare.target == Compare::Target::kValue) return false;
    kv = &absent;
  }
  int cmp = 0;
  switch (compare.target) {
    case Compare::Target::kValue: {
      const int c = kv->value.compare(compare.value);
      cmp = c < 0 ? -1 : (c > 0 ? 1 : 0);
      break;
    }
    case Compare::Target::kVersion: cmp = three_way(kv->version, compare.number); break;
    case Compare::Target::kCreateRevision: cmp = three_way(kv->create_revision, compare.number); break;
    case Compare::Target::kModRevision: cmp = three_way(kv->mod_revision, compare.number); break;
    case Compare::Target::kLease: cmp = three_way(kv->lease, compare.number); break;
  }
  switch (compare.result) {
    case Compare::Result::kEqual: return cmp == 0;
    case Compare::Result::kNotEqual: return cmp != 0;
    case Compare::Result::kLess: return cmp < 0;
    case Compare::Result::kGreater: return cmp > 0;
  }
  return false;
}

StoreStatus LocalKvState::apply(const Txn& txn, TxnResult& result, std::vector<WatchEvent>& events) {
  // Validation first, with etcd's messages, so that a refused txn changes nothing.
  if (txn.compares.size() > kMaxTxnOps || txn.success.size() > kMaxTxnOps || txn.failure.size() > kMaxTxnOps)
    return invalid("too many operations in txn request");
  for (const auto* branch : {&txn.success, &txn.failure}) {
    for (const auto& op : *branch) {
      if (op.key.empty() && (op.range_end.empty() || op.type == TxnOp::Type::kPut))
        return invalid("key is not provided");
    }
    if (branch_has_duplicate_key(*branch)) return invalid("duplicate key given in txn request");
  }

  bool succeeded = true;
  for (const auto& compare : txn.compares) {
    auto it = kvs_.find(compare.key);
    if (!compare_holds(compare, it == kvs_.end() ? nullptr : &it->second)) {
      succeeded = false;
      break;
    }
  }
  const auto& ops = succeeded ? txn.success : txn.failure;
  for (const auto& op : ops) {
    if (op.type == TxnOp::Type::kPut && op.lease != 0 && !has_lease(op.lease))
      return {StoreCode::kLeaseNotFound, "requested lease not found"};
  }

  const int64_t next = revision_ + 1;
  result = TxnResult{};
  result.succeeded = succeeded;
  for (const auto& op : ops) {
    switch (op.type) {
      case TxnOp::Type::kGet: result.gets.push_back(range(op.key, op.range_end)); break;
      case TxnOp::Type::kPut: put(op.key, op.value, op.lease, next, events); break;
      case TxnOp::Type::kDelete: erase_range(op.key, op.range_end, next, events); break;
    }
  }
  if (!events.empty()) revision_ = next;  // reads and no-op deletes do not make a revision
  result.revision = revision_;
  return {};
}

bool LocalKvState::revoke_lease(int64_t lease, std::vector<WatchEvent>& events) {
  auto it = leases_.find(lease);
  if (it == leases_.end()) return false;
  const std::set<std::string> keys = std::move(it->second);
  leases_.erase(it);
  const int64_t next = revision_ + 1;
  for (const auto& key : keys) {
    kvs_.erase(key);
    WatchEvent event;
    event.type = WatchEvent::Type::kDelete;
    event.kv.key = key;
    event.kv.mod_revision = next;
    events.push_back(std::move(event));
  }
  if (!keys.empty()) revision_ = next;
  return true;
}

void LocalKvState::restore(int64_t revision, std::map<std::string, KeyValue> kvs) {
  revision_ = revision;
  kvs_ = std::move(kvs);
  leases_.clear();
}

void LocalKvState::put(const std::string& key, const std::string& value, int64_t lease, int64_t revision,
                       std::vector<WatchEvent>& events) {
  KeyValue kv;
  auto it = kvs_.find(key);
  if (it != kvs_.end()) {
    unbind(it->second);
    kv = it->second;
    ++kv.version;
  } else {
    kv.key = key;
    kv.create_revision = revision;
    kv.version = 1;
  }
  kv.value = value;
  kv.mod_revision = revision;
  kv.lease = lease;
  if (lease != 0) leases_[lease].insert(key);
  kvs_[key] = kv;
  events.push_back({WatchEvent::Type::kPut, std::move(kv)});
}

void LocalKvState::erase_range(const std::string& key, const std::string& range_end, int64_t revision,
                               std::vector<WatchEvent>& events) {
  for (const auto& kv : range(key, range_end)) {
    unbind(kv);
    kvs_.erase(kv.key);
    WatchEvent event;
    event.type = WatchEvent::Type::kDelete;
    event.kv.key = kv.key;
    event.kv.mod_revision = revision;
    events.push_back(std::move(event));
  }
}

void LocalKvState::unbind(const KeyValue& kv) {
  if (kv.lease == 0) return;
  auto it = leases_.find(kv.lease);
  if (it != leases_.end()) it->second.erase(kv.key);
}

}  // namespace runnel::cluster
