#include "consistency_checker.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace runnel::fault {

namespace {

using PartitionKey = std::pair<std::string, int32_t>;

struct Replica {
  int broker = 0;
  const ReplicaLog* log = nullptr;
};

std::string Tp(const PartitionKey& tp) { return tp.first + "-" + std::to_string(tp.second); }

// Short, printable rendering of a key or value for examples.
std::string Show(const std::string& s) {
  constexpr size_t kMax = 48;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* kHex = "0123456789abcdef";
      out += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
    }
  }
  return out + (s.size() > kMax ? "...'" : "'");
}

std::string Show(const WriteRecord& r) { return "key " + Show(r.key) + " value " + Show(r.value); }
std::string Show(const StoredRecord& r) { return "key " + Show(r.key) + " value " + Show(r.value); }

const StoredRecord* Find(const ReplicaLog& log, int64_t offset) {
  auto it = std::lower_bound(log.records.begin(), log.records.end(), offset,
                             [](const StoredRecord& r, int64_t o) { return r.offset < o; });
  return it != log.records.end() && it->offset == offset ? &*it : nullptr;
}

std::vector<StoredRecord>::const_iterator LowerBound(const ReplicaLog& log, int64_t offset) {
  return std::lower_bound(log.records.begin(), log.records.end(), offset,
                          [](const StoredRecord& r, int64_t o) { return r.offset < o; });
}

bool SameContent(const StoredRecord& a, const StoredRecord& b) { return a.key == b.key && a.value == b.value; }

// All checks of one partition against its reference replica.
class PartitionCheck {
 public:
  PartitionCheck(PartitionKey tp, std::vector<Replica> replicas, ConsistencyReport& report)
      : tp_(std::move(tp)), replicas_(std::move(replicas)), report_(report) {}

  void Run(const std::vector<const WriteRecord*>& acked, const std::vector<const WriteRecord*>& consumed) {
    if (!ChooseReference()) {
      for (const WriteRecord* w : acked)
        report_.lost.Add(Where(w->offset) + "acknowledged " + Show(*w) + ", but no broker holds the partition");
      for (const WriteRecord* w : consumed)
        report_.vanished.Add(Where(w->offset) + "consumed " + Show(*w) + ", but no broker holds the partition");
      return;
    }
    CheckWrites(acked, report_.lost, "acknowledged");
    CheckWrites(consumed, report_.vanished, "consumed");
    CheckSequences();
    CheckDivergence();
  }

 private:
  bool ChooseReference() {
    for (const Replica& r : replicas_) {
      if (!r.log->found) continue;
      if (ref_.log == nullptr) {
        ref_ = r;
        continue;
      }
      const ReplicaLog& a = *r.log;
      const ReplicaLog& b = *ref_.log;
      const auto rank = [](const ReplicaLog& l, int broker) {
        return std::make_tuple(l.high_watermark.has_value(), l.high_watermark.value_or(-1), l.log_end_offset, -broker);
      };
      if (rank(a, r.broker) > rank(b, ref_.broker)) ref_ = r;
    }
    if (ref_.log == nullptr) return false;
    if (ref_.log->high_watermark) {
      hw_ = *ref_.log->high_watermark;
    } else {
      hw_ = ref_.log->log_end_offset;
      report_.notes.push_back(Tp(tp_) + ": no replica has a known high watermark; using broker " +
                              std::to_string(ref_.broker) + "'s log end " + std::to_string(hw_));
    }
    return true;
  }

  const StoredRecord* FindByContent(const ReplicaLog& log, const std::string& key, const std::string& value) {
    if (by_content_.empty()) {
      for (const auto& r : log.records) by_content_.emplace(r.key + '\0' + r.value, &r);
    }
    auto it = by_content_.find(key + '\0' + value);
    return it == by_content_.end() ? nullptr : it->second;
  }

  std::string Where(int64_t offset) const {
    return Tp(tp_) + " offset " + std::to_string(offset) + ": ";
  }

  std::string Reference() const { return "broker " + std::to_string(ref_.broker) + " (reference, HW " +
                                         std::to_string(hw_) + ")"; }

  void CheckWrites(const std::vector<const WriteRecord*>& writes, Anomalies& anomalies, const char* what) {
    const ReplicaLog& ref = *ref_.log;
    for (const WriteRecord* w : writes) {
      if (w->offset < 0) {
        // Acknowledged without an offset: librdkafka's idempotent producer
        // reports a batch as delivered (offset -1001) when a later batch's
        // success implies it. Found by its (unique) key and value instead.
        const StoredRecord* found = FindByContent(ref, w->key, w->value);
        if (found != nullptr && found->offset < hw_) continue;
        std::string example = Where(w->offset) + what + " without an offset " + Show(*w) + ", " + Reference() +
                              (found != nullptr ? " holds it at offset " + std::to_string(found->offset)
                                                : " holds no such record");
        (found != nullptr ? report_.unconfirmed : anomalies).Add(example);
        continue;
      }
      const StoredRecord* stored = Find(ref, w->offset);
      if (stored != nullptr && stored->key == w->key && stored->value == w->value) continue;
      std::string example = Where(w->offset) + what + " " + Show(*w) + ", " + Reference() +
                            (stored != nullptr ? " holds " + Show(*stored)
                                               : " holds no record there (log " + std::to_string(ref.log_start_offset) +
                                                     ".." + std::to_string(ref.log_end_offset) + ")");
      if (w->offset >= hw_ || w->offset < ref.log_start_offset) {
        report_.unconfirmed.Add(example);
      } else {
        anomalies.Add(example);
      }
    }
  }

  // Duplicates and per-key order along the reference's offsets below HW.
  void CheckSequences() {
    // (producer, key, seq) -> the first copy
    std::map<std::tuple<std::string, std::string, int64_t>, const StoredRecord*> first_copy;
    std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> highest;  // -> (seq, offset)
    const ReplicaLog& ref = *ref_.log;
    for (auto it = ref.records.begin(); it != ref.records.end() && it->offset < hw_; ++it) {
      const auto fields = ParseValue(it->value);
      if (!fields) continue;
      const std::string who = "producer " + Show(fields->producer_id) + " key " + Show(fields->key) + " sequence ";
      auto [dup, fresh] =
          first_copy.emplace(std::make_tuple(fields->producer_id, fields->key, fields->sequence), &*it);
      if (!fresh) {
        const StoredRecord& earlier = *dup->second;
        const bool new_session = it->producer_id >= 0 && earlier.producer_id >= 0 &&
                                 (it->producer_id != earlier.producer_id || it->producer_epoch != earlier.producer_epoch);
        (new_session ? report_.resent_after_epoch_bump : report_.duplicated)
            .Add(Where(it->offset) + who + std::to_string(fields->sequence) + " already stored at offset " +
                 std::to_string(earlier.offset) + " (producer id " + std::to_string(earlier.producer_id) + " epoch " +
                 std::to_string(earlier.producer_epoch) + ", now " + std::to_string(it->producer_id) + " epoch " +
                 std::to_string(it->producer_epoch) + ") on " + Reference());
      }
      auto [top, first] = highest.emplace(std::make_pair(fields->producer_id, fields->key),
                                          std::make_pair(fields->sequence, it->offset));
      if (first) continue;
      if (fields->sequence < top->second.first) {
        report_.reordered.Add(Where(it->offset) + who + std::to_string(fields->sequence) + " after sequence " +
                              std::to_string(top->second.first) + " at offset " + std::to_string(top->second.second) +
                              " on " + Reference());
      } else {
        top->second = {fields->sequence, it->offset};
      }
    }
  }

  void CheckDivergence() {
    const ReplicaLog& ref = *ref_.log;
    for (const Replica& r : replicas_) {
      if (r.log == ref_.log || !r.log->found) continue;
      if (!r.log->high_watermark) {
        report_.notes.push_back(Tp(tp_) + ": broker " + std::to_string(r.broker) +
                                " has no known high watermark; not compared with the reference");
        continue;
      }
      const int64_t lo = std::max(ref.log_start_offset, r.log->log_start_offset);
      const int64_t hi = std::min(hw_, *r.log->high_watermark);
      CompareRange(r, lo, hi);
    }
  }

  void CompareRange(const Replica& other, int64_t lo, int64_t hi) {
    if (lo >= hi) return;
    auto a = LowerBound(*ref_.log, lo), a_end = LowerBound(*ref_.log, hi);
    auto b = LowerBound(*other.log, lo), b_end = LowerBound(*other.log, hi);
    size_t differences = 0;
    std::string first;
    auto differ = [&](int64_t offset, const std::string& what) {
      if (differences++ == 0) first = "first at offset " + std::to_string(offset) + ": " + what;
    };
    while (a != a_end || b != b_end) {
      if (b == b_end || (a != a_end && a->offset < b->offset)) {
        differ(a->offset, "reference holds " + Show(*a) + ", the replica nothing");
        ++a;
      } else if (a == a_end || b->offset < a->offset) {
        differ(b->offset, "the replica holds " + Show(*b) + ", the reference nothing");
        ++b;
      } else {
        if (!SameContent(*a, *b)) differ(a->offset, "reference holds " + Show(*a) + ", the replica " + Show(*b));
        ++a;
        ++b;
      }
    }
    if (differences == 0) return;
    report_.diverged.Add(Tp(tp_) + ": broker " + std::to_string(other.broker) + " differs from " + Reference() +
                         " at " + std::to_string(differences) + " offsets in [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "), " + first);
  }

  PartitionKey tp_;
  std::vector<Replica> replicas_;
  ConsistencyReport& report_;
  Replica ref_;
  int64_t hw_ = 0;
  std::unordered_map<std::string, const StoredRecord*> by_content_;  // key '\0' value -> first record
};

}  // namespace

void AckedWrites::Add(WriteRecord record) {
  std::lock_guard lock(mu_);
  acked_.push_back(std::move(record));
}

void AckedWrites::AddConsumed(WriteRecord record) {
  std::lock_guard lock(mu_);
  consumed_.push_back(std::move(record));
}

std::vector<WriteRecord> AckedWrites::Acked() const {
  std::lock_guard lock(mu_);
  return acked_;
}

std::vector<WriteRecord> AckedWrites::Consumed() const {
  std::lock_guard lock(mu_);
  return consumed_;
}

size_t AckedWrites::AckedCount() const {
  std::lock_guard lock(mu_);
  return acked_.size();
}

size_t AckedWrites::ConsumedCount() const {
  std::lock_guard lock(mu_);
  return consumed_.size();
}

void Anomalies::Add(std::string example) {
  if (count++ < ConsistencyReport::kMaxExamples) examples.push_back(std::move(example));
}

bool ConsistencyReport::ok() const {
  return lost.count == 0 && duplicated.count == 0 && reordered.count == 0 && diverged.count == 0 &&
         vanished.count == 0 && unreadable.count == 0;
}

std::string ConsistencyReport::Summary() const {
  const std::pair<const char*, const Anomalies*> kinds[] = {
      {"lost", &lost},         {"duplicated", &duplicated}, {"reordered", &reordered},    {"diverged", &diverged},
      {"vanished", &vanished}, {"unreadable", &unreadable}, {"unconfirmed", &unconfirmed},
      {"resent-after-epoch-bump", &resent_after_epoch_bump}};
  std::string s;
  for (const auto& [name, anomalies] : kinds) {
    if (anomalies == &unconfirmed) break;
    s += std::string(s.empty() ? "" : " ") + name + "=" + std::to_string(anomalies->count);
  }
  s += " (acked=" + std::to_string(acked) + ", consumed=" + std::to_string(consumed) +
       ", unconfirmed=" + std::to_string(unconfirmed.count) +
       ", resent-after-epoch-bump=" + std::to_string(resent_after_epoch_bump.count) + ")";
  for (const auto& [name, anomalies] : kinds) {
    if (anomalies->count == 0) continue;
    s += "\n" + std::string(name) + ": " + std::to_string(anomalies->count);
    for (const auto& e : anomalies->examples) s += "\n  " + e;
    if (anomalies->count > anomalies->examples.size())
      s += "\n  ... " + std::to_string(anomalies->count - anomalies->examples.size()) + " more";
  }
  for (const auto& n : notes) s += "\nnote: " + n;
  return s;
}

ConsistencyReport Check(const AckedWrites& writes, const std::map<int, std::vector<ReplicaLog>>& replicas) {
  ConsistencyReport report;
  const std::vector<WriteRecord> acked = writes.Acked();
  const std::vector<WriteRecord> consumed = writes.Consumed();
  report.acked = acked.size();
  report.consumed = consumed.size();

  std::map<PartitionKey, std::vector<Replica>> by_partition;
  std::map<PartitionKey, std::vector<const WriteRecord*>> acked_by_partition, consumed_by_partition;
  std::set<std::pair<int, std::string>> problems_seen;  // a log dir's checkpoint problem shows in each partition
  for (const auto& [broker, logs] : replicas) {
    for (const ReplicaLog& log : logs) {
      by_partition[{log.topic, log.partition}].push_back({broker, &log});
      for (const auto& p : log.problems)
        if (problems_seen.emplace(broker, p).second) report.unreadable.Add("broker " + std::to_string(broker) + ": " + p);
      if (log.torn_tail_bytes > 0)
        report.notes.push_back("broker " + std::to_string(broker) + " " + log.Name() + ": " +
                               std::to_string(log.torn_tail_bytes) + " bytes of an incomplete last batch (ignored)");
    }
  }
  for (const auto& w : acked) acked_by_partition[{w.topic, w.partition}].push_back(&w);
  // A record consumed twice (a rebalance, a retry) is checked once.
  std::set<std::tuple<std::string, int32_t, int64_t, std::string, std::string>> consumed_seen;
  for (const auto& w : consumed)
    if (consumed_seen.emplace(w.topic, w.partition, w.offset, w.key, w.value).second)
      consumed_by_partition[{w.topic, w.partition}].push_back(&w);

  std::set<PartitionKey> partitions;
  for (const auto& [tp, unused] : by_partition) partitions.insert(tp);
  for (const auto& [tp, unused] : acked_by_partition) partitions.insert(tp);
  for (const auto& [tp, unused] : consumed_by_partition) partitions.insert(tp);
  for (const auto& tp : partitions)
    PartitionCheck(tp, by_partition[tp], report).Run(acked_by_partition[tp], consumed_by_partition[tp]);
  return report;
}

}  // namespace runnel::fault
