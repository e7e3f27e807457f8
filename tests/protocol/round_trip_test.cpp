// Round trip of every version of every defined message, with all fields that
// version carries set to non-default values (and once with nullable fields null).
#include <gtest/gtest.h>

#include <random>

#include "protocol/api_info.h"
#include "protocol/wire.h"
#include "round_trip.h"

namespace runnel::protocol::test {

// Found by gtest through ADL: print a case as its message name.
void PrintTo(const RoundTripCase& c, std::ostream* os) { *os << c.name; }

namespace {

// One test per message (looping over its versions inside) keeps the ctest
// list short; failures name the version.
const std::vector<RoundTripCase>& all_cases() {
  static const std::vector<RoundTripCase> cases = generated_round_trip_cases();
  return cases;
}

// Encodes the sample, decodes it back and compares; re-encoding must give
// the same bytes, and every strict prefix must be rejected with DecodeError.
::testing::AssertionResult round_trips(const RoundTripCase& c, int16_t version, bool nulls) {
  const std::vector<uint8_t> bytes = c.encode_sample(version, nulls);
  try {
    if (!c.decodes_to_sample(bytes, version, nulls)) {
      return ::testing::AssertionFailure() << "decoded message differs from the sample (or bytes left over)";
    }
  } catch (const DecodeError& e) {
    return ::testing::AssertionFailure() << "decode failed: " << e.what();
  }
  for (size_t size = 0; size < bytes.size(); ++size) {
    try {
      c.decodes_to_sample(std::span<const uint8_t>(bytes.data(), size), version, nulls);
      return ::testing::AssertionFailure() << "prefix of " << size << "/" << bytes.size() << " bytes decoded";
    } catch (const DecodeError&) {
    }
  }
  return ::testing::AssertionSuccess();
}

class RoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(RoundTrip, EveryVersionWithAllFieldsSet) {
  const RoundTripCase& c = GetParam();
  for (int16_t v = c.min_version; v <= c.max_version; ++v) EXPECT_TRUE(round_trips(c, v, false)) << "version " << v;
}

TEST_P(RoundTrip, EveryVersionWithNullableFieldsNull) {
  const RoundTripCase& c = GetParam();
  for (int16_t v = c.min_version; v <= c.max_version; ++v) EXPECT_TRUE(round_trips(c, v, true)) << "version " << v;
}

// Corrupted input must either decode or throw DecodeError: never crash, hang
// or throw anything else (run under ASan/UBSan for the full guarantee).
TEST_P(RoundTrip, RandomCorruptionIsRejectedCleanly) {
  const RoundTripCase& c = GetParam();
  for (int16_t version = c.min_version; version <= c.max_version; ++version) {
    const std::vector<uint8_t> original = c.encode_sample(version, false);
    if (original.empty()) continue;
    std::mt19937 random(static_cast<uint32_t>(version * 7919 + original.size()));
    for (int round = 0; round < 200; ++round) {
      std::vector<uint8_t> bytes = original;
      const int flips = 1 + round % 4;
      for (int i = 0; i < flips; ++i) {
        bytes[random() % bytes.size()] = static_cast<uint8_t>(round % 3 == 0 ? 0xff : random());
      }
      try {
        c.decodes_to_sample(bytes, version, false);
      } catch (const DecodeError&) {
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Messages, RoundTrip, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<RoundTripCase>& info) {
                           return std::string(info.param.name);
                         });

// Each API in the catalogue has both messages, covering exactly its versions.
TEST(RoundTripCoverage, EveryApiHasRequestAndResponse) {
  const auto& cases = all_cases();
  for (const ApiInfo& api : all_apis()) {
    for (const char* kind : {"Request", "Response"}) {
      const std::string name = std::string(api.name) + kind;
      bool found = false;
      for (const auto& c : cases) {
        if (c.name != name) continue;
        found = true;
        EXPECT_EQ(c.min_version, api.min_version) << name;
        EXPECT_EQ(c.max_version, api.max_version) << name;
      }
      EXPECT_TRUE(found) << name;
    }
  }
}

}  // namespace
}  // namespace runnel::protocol::test
