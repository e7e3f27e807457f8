// A Kafka record as the tests produce and compare it, plus deterministic
// generators for keys/values that never contain the delimiters tests use.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace runnel::it {

using Header = std::pair<std::string, std::string>;

struct TestRecord {
  std::optional<std::string> key;  // nullopt = null key
  std::string value;               // never empty in these tests
  std::vector<Header> headers;

  bool operator==(const TestRecord&) const = default;
};

struct ConsumedRecord {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  TestRecord record;
};

std::string Describe(const TestRecord& r);

// Printable ASCII 0x20..0x7e (so never \n, \t, \x1e, \x1f).
std::string RandomPrintable(std::mt19937_64& rng, std::size_t min_len, std::size_t max_len);
// Any byte 0x00..0xff.
std::string RandomBinary(std::mt19937_64& rng, std::size_t min_len, std::size_t max_len);
// Highly compressible text of the given length.
std::string RepetitiveText(std::mt19937_64& rng, std::size_t len);

// Record `id` of a deterministic mixed workload: text and binary values of
// very different sizes, some null keys, 0-3 headers (one with an empty value).
TestRecord MakeMixedRecord(std::uint64_t id, std::uint64_t seed);

}  // namespace runnel::it
