// The value convention of fault-test records, so the checker can tell who
// wrote a record and in which order:
//
//   "rv1|" <producer_id> "|" <key> "|" <sequence> "|" <padding>
//
// producer_id names one producer instance (e.g. "p3" or "p3-restart2"; a
// restarted producer should take a new id). sequence counts that producer's
// writes to that key: 0, 1, 2, ... in the order it sent them, so along the
// offsets of a partition the sequences of one (producer, key) must increase.
// padding is zero or more '.' up to a requested size. producer_id and key must
// not contain '|'. The record's Kafka key should be the same key (the checker
// only reads the value).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace runnel::fault {

struct ValueFields {
  std::string producer_id;
  std::string key;
  int64_t sequence = 0;
  bool operator==(const ValueFields&) const = default;
};

// Throws std::invalid_argument if producer_id or key contains '|' or sequence < 0.
// The result is padded with '.' to at least min_size bytes.
std::string MakeValue(const std::string& producer_id, const std::string& key, int64_t sequence,
                      size_t min_size = 0);

// nullopt for anything MakeValue cannot have produced.
std::optional<ValueFields> ParseValue(const std::string& value);

}  // namespace runnel::fault
