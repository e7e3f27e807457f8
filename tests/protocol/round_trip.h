#pragma once
// Support for the generated round-trip samples (message_samples.cpp, made by
// protogen.py --samples): a source of non-default values and type-erased
// encode/decode/compare operations per message.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/wire.h"

namespace runnel::protocol::test {

// Hands out distinct values, each different from the field's default, so a
// field dropped or mixed up by encode/decode shows up as a mismatch.
class SampleSource {
 public:
  explicit SampleSource(bool nulls) : nulls(nulls) {}

  // Set nullable fields to null instead of a value.
  const bool nulls;

  template <typename T>
  T next_int(T default_value) {
    auto value = static_cast<T>(next() % 100 + 1);
    return value == default_value ? static_cast<T>(value + 1) : value;
  }
  bool next_bool(bool default_value) { return !default_value; }
  double next_double() { return next() + 0.25; }
  Uuid next_uuid() {
    Uuid id;
    const int seed = next();
    for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(seed * 7 + i);
    return id;
  }
  std::string next_string() { return "s" + std::to_string(next()); }
  std::vector<uint8_t> next_bytes() {
    const auto seed = static_cast<uint8_t>(next());
    return {seed, static_cast<uint8_t>(seed + 1), 0};
  }
  RecordsView next_records() {
    static const std::vector<uint8_t> pool = [] {
      std::vector<uint8_t> bytes(64);
      for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 37 + 11);
      return bytes;
    }();
    const size_t start = static_cast<size_t>(next()) % 32;
    return RecordsView::of(std::span<const uint8_t>(pool).subspan(start, 1 + start % 7));
  }

 private:
  int next() { return ++counter_; }
  int counter_ = 0;
};

// Type-erased operations on one message type. Plain function pointers keep the
// per-message code small: the checking logic lives once in round_trip_test.cpp.
struct RoundTripCase {
  std::string_view name;
  int16_t min_version;
  int16_t max_version;
  // Builds the sample for a version and encodes it.
  std::vector<uint8_t> (*encode_sample)(int16_t version, bool nulls);
  // Decodes `bytes` (throws DecodeError); true when all input was consumed
  // and the result equals the sample.
  bool (*decodes_to_sample)(std::span<const uint8_t> bytes, int16_t version, bool nulls);
};

template <typename Message, void (*Fill)(Message&, int16_t, SampleSource&)>
std::vector<uint8_t> encode_sample(int16_t version, bool nulls) {
  Message message;
  SampleSource source(nulls);
  Fill(message, version, source);
  std::vector<uint8_t> bytes;
  Writer w(bytes);
  message.encode(w, version);
  return bytes;
}

template <typename Message, void (*Fill)(Message&, int16_t, SampleSource&)>
bool decodes_to_sample(std::span<const uint8_t> bytes, int16_t version, bool nulls) {
  Message decoded;
  Reader reader(bytes);
  decoded.decode(reader, version);
  Message sample;
  SampleSource source(nulls);
  Fill(sample, version, source);
  return reader.at_end() && decoded == sample;
}

template <typename Message, void (*Fill)(Message&, int16_t, SampleSource&)>
constexpr RoundTripCase round_trip_case() {
  return {Message::kName, Message::kMinVersion, Message::kMaxVersion, &encode_sample<Message, Fill>,
          &decodes_to_sample<Message, Fill>};
}

// Defined in the generated message_samples.cpp: one case per message.
std::vector<RoundTripCase> generated_round_trip_cases();

}  // namespace runnel::protocol::test
