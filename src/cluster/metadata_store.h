#pragma once
// The metadata store: where a cluster keeps what every broker must agree on
// (live brokers, the controller, topics, partition states). Two implementations:
// LocalStore (a single node, durable in its data dir) and EtcdStore (etcd v3).
// Nothing outside cluster/ sees which one runs: revisions are opaque increasing
// numbers, leases are sessions, watches are ordered change streams. This is also
// the seam for a later embedded quorum.
//
// Threading: every callback runs on the executor given to the store at
// construction (the broker's event loop), never inside the call that started
// it. Operations of one store complete in the order they were issued.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace runnel::cluster {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;  // revision that created the key (0: absent)
  int64_t mod_revision = 0;     // revision of its last change
  int64_t version = 0;          // changes since creation, 1 after the first put
  int64_t lease = 0;            // session it is bound to, 0 = none
};

enum class StoreCode {
  kOk,
  kUnavailable,    // the store could not be reached, or did not answer in time
  kLeaseNotFound,  // the session is gone (expired or revoked)
  kCompacted,      // a watch asked for a revision the store no longer has
  kInvalid,        // the store refused the request (too large, malformed)
};

struct StoreStatus {
  StoreCode code = StoreCode::kOk;
  std::string message;  // one line, for logs and startup errors
  bool ok() const { return code == StoreCode::kOk; }
};

// One condition of a transaction, as etcd's Compare.
struct Compare {
  enum class Target { kVersion, kCreateRevision, kModRevision, kValue, kLease };
  enum class Result { kEqual, kNotEqual, kLess, kGreater };
  std::string key;
  Target target = Target::kVersion;
  Result result = Result::kEqual;
  int64_t number = 0;  // for version, revisions and lease
  std::string value;   // for kValue

  static Compare absent(std::string key) { return {std::move(key), Target::kCreateRevision, Result::kEqual, 0, {}}; }
  static Compare exists(std::string key) { return {std::move(key), Target::kCreateRevision, Result::kGreater, 0, {}}; }
  static Compare mod_revision_is(std::string key, int64_t revision) {
    return {std::move(key), Target::kModRevision, Result::kEqual, revision, {}};
  }
  static Compare value_is(std::string key, std::string value) {
    return {std::move(key), Target::kValue, Result::kEqual, 0, std::move(value)};
  }
};

// The end of the key range that holds every key starting with `prefix`
// (etcd's range_end: the prefix with its last byte incremented).
std::string prefix_range_end(const std::string& prefix);

struct TxnOp {
  enum class Type { kGet, kPut, kDelete };
  Type type = Type::kGet;
  std::string key;
  std::string range_end;  // empty: `key` alone; else every key in [key, range_end)
  std::string value;      // kPut
  int64_t lease = 0;      // kPut: bind the key to this session

  static TxnOp get(std::string key) { return {Type::kGet, std::move(key), {}, {}, 0}; }
  static TxnOp get_prefix(const std::string& prefix) { return {Type::kGet, prefix, prefix_range_end(prefix), {}, 0}; }
  static TxnOp put(std::string key, std::string value, int64_t lease = 0) {
    return {Type::kPut, std::move(key), {}, std::move(value), lease};
  }
  static TxnOp del(std::string key) { return {Type::kDelete, std::move(key), {}, {}, 0}; }
  static TxnOp del_prefix(const std::string& prefix) {
    return {Type::kDelete, prefix, prefix_range_end(prefix), {}, 0};
  }
};

// All compares hold -> `success` runs, else `failure`; atomically, as one revision.
struct Txn {
  std::vector<Compare> compares;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;  // the store's revision after the transaction
  // One entry per kGet op of the branch that ran, in op order, keys sorted.
  std::vector<std::vector<KeyValue>> gets;
};

struct GetResult {
  std::vector<KeyValue> kvs;  // sorted by key
  int64_t revision = 0;       // the store's revision the read saw
};

struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;  // for kDelete: key and mod_revision (= the deletion's revision) only
};

// Live while held; destroying it cancels the watch (no callback runs after).
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
};

// Whether the store answers, for logs and /metrics. Thread-safe.
struct StoreHealth {
  bool reachable = true;
  int64_t last_contact_ms = 0;  // steady clock, ms, of the last successful exchange
  int64_t revision = 0;         // newest store revision seen in any answer
};

class MetadataStore {
 public:
  using GetCallback = std::function<void(StoreStatus, GetResult)>;
  using TxnCallback = std::function<void(StoreStatus, TxnResult)>;
  using SessionCallback = std::function<void(StoreStatus, int64_t lease)>;
  using DoneCallback = std::function<void(StoreStatus)>;
  // Events of one or more revisions, in revision order; `revision` is the store
  // revision they bring the watcher up to. An empty batch is a progress report:
  // nothing under the prefix changed up to `revision`.
  using WatchCallback = std::function<void(std::vector<WatchEvent> events, int64_t revision)>;

  virtual ~MetadataStore() = default;

  // "etcd://127.0.0.1:2379" or "local (<dir>)", for logs.
  virtual std::string describe() const = 0;

  // One key, or every key under `key` when prefix is true.
  virtual void get(const std::string& key, bool prefix, GetCallback done) = 0;
  virtual void txn(Txn txn, TxnCallback done) = 0;

  // A session: a lease of ttl_ms that the store keeps alive in the background
  // (a keep-alive every keepalive_interval_ms) until close_session(). `lost`
  // runs once if it ends otherwise: the store says the lease is gone, or no
  // keep-alive succeeded for ttl_ms. Keys put with the lease vanish with it.
  virtual void open_session(int64_t ttl_ms, int64_t keepalive_interval_ms, SessionCallback opened,
                            std::function<void()> lost) = 0;
  // Revokes the lease (its keys are deleted at once) and stops its keep-alives.
  virtual void close_session(int64_t lease, DoneCallback done) = 0;

  // Every change under `prefix` from from_revision (inclusive), in order, with
  // periodic progress reports. While the store is unreachable the watch retries
  // by itself and resumes where it stopped. `failed` runs once, and the watch
  // ends, only when it cannot resume: kCompacted (the revision it needs is gone;
  // reload with get() and watch again).
  virtual std::unique_ptr<WatchHandle> watch(const std::string& prefix, int64_t from_revision, WatchCallback on_events,
                                             std::function<void(StoreStatus)> failed) = 0;

  virtual StoreHealth health() const = 0;
};

}  // namespace runnel::cluster
