// Acceptance 1: kcat produces 100,000 keyed records with headers to a
// 3-partition topic and reads every partition back: per-partition order,
// contiguous offsets, byte-identical keys, values and headers.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <sstream>

#include "broker_process.h"
#include "file_util.h"
#include "kcat.h"
#include "test_record.h"

namespace runnel::it {
namespace {

constexpr int kRecords = 100000;
constexpr int kPartitions = 3;
// Generated data is printable ASCII only, so these control bytes never occur.
constexpr char kKeyDelim = '\x1f';
constexpr char kFieldSep = '\x1f';
constexpr char kRecordSep = '\x1e';

struct KcatLine {
  int partition = -1;
  long long offset = -1;
  std::string key, value, headers;
};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

TEST(KcatRoundTrip, HundredThousandKeyedRecordsWithHeadersComeBackIdenticalAndInOrderPerPartition) {
  BrokerProcess broker({"num.partitions=3"});
  ASSERT_TRUE(broker.start());

  const std::string topic = "kcat-roundtrip";
  // Expected records, index = sequence number (embedded in the key).
  std::vector<std::pair<std::string, std::string>> expected;
  expected.reserve(kRecords);
  std::mt19937_64 rng(42);
  std::string input;
  for (int i = 0; i < kRecords; ++i) {
    std::string key = "k" + std::to_string(i) + "-" + RandomPrintable(rng, 0, 16);
    std::string value = "v" + std::to_string(i) + ":" + RandomPrintable(rng, 1, 180);
    input += key;
    input += kKeyDelim;
    input += value;
    input += '\n';
    expected.emplace_back(std::move(key), std::move(value));
  }
  const std::string input_path = broker.dir() + "/kcat-input.txt";
  ASSERT_TRUE(WriteWholeFile(input_path, input));

  const std::vector<std::string> headers = {"trace=abc-123", "app=runnel it", "empty="};
  const std::string expected_headers = "trace=abc-123,app=runnel it,empty=";
  ProcessResult produced = KcatProduce(broker.bootstrap(), topic, input_path, std::string(1, kKeyDelim), headers);
  ASSERT_FALSE(produced.timed_out) << "kcat -P timed out; stderr:\n" << produced.err;
  ASSERT_EQ(produced.exit_code, 0) << "kcat -P failed; stderr:\n" << produced.err;

  const std::string format = std::string("%p") + kFieldSep + "%o" + kFieldSep + "%k" + kFieldSep + "%s" + kFieldSep +
                             "%h" + kRecordSep;
  std::vector<bool> seen(kRecords, false);
  long long total = 0;
  for (int p = 0; p < kPartitions; ++p) {
    SCOPED_TRACE("partition " + std::to_string(p));
    const std::string out_path = broker.dir() + "/kcat-out-" + std::to_string(p);
    ProcessResult consumed = KcatConsumePartition(broker.bootstrap(), topic, p, format, out_path);
    ASSERT_FALSE(consumed.timed_out) << "kcat -C timed out; stderr:\n" << consumed.err;
    ASSERT_EQ(consumed.exit_code, 0) << "kcat -C failed; stderr:\n" << consumed.err;

    std::string out = ReadWholeFile(out_path);
    if (!out.empty() && out.back() == kRecordSep) out.pop_back();
    std::vector<std::string> lines = out.empty() ? std::vector<std::string>{} : Split(out, kRecordSep);
    long long expected_offset = 0;
    long long previous_seq = -1;
    int mismatches = 0;
    for (const auto& line : lines) {
      auto f = Split(line, kFieldSep);
      ASSERT_EQ(f.size(), 5u) << "unparseable kcat output line: " << line;
      ASSERT_EQ(std::stoi(f[0]), p);
      ASSERT_EQ(std::stoll(f[1]), expected_offset) << "offsets must be contiguous from 0";
      ++expected_offset;
      // Key is "k<seq>-...".
      ASSERT_TRUE(f[2].size() > 1 && f[2][0] == 'k') << "unexpected key " << f[2];
      const long long seq = std::stoll(f[2].substr(1));
      ASSERT_GE(seq, 0);
      ASSERT_LT(seq, kRecords);
      EXPECT_GT(seq, previous_seq) << "records out of production order at offset " << f[1];
      previous_seq = seq;
      EXPECT_FALSE(seen[static_cast<std::size_t>(seq)]) << "record " << seq << " consumed twice";
      seen[static_cast<std::size_t>(seq)] = true;
      const auto& [key, value] = expected[static_cast<std::size_t>(seq)];
      if (f[2] != key || f[3] != value || f[4] != expected_headers) {
        if (++mismatches <= 5) {
          ADD_FAILURE() << "record " << seq << " differs at offset " << f[1] << "\n key  got " << f[2]
                        << "\n      want " << key << "\n value got " << f[3] << "\n      want " << value
                        << "\n hdrs got " << f[4] << "\n      want " << expected_headers;
        }
      }
    }
    EXPECT_EQ(mismatches, 0);
    EXPECT_GT(lines.size(), 0u) << "partition " << p << " is empty: the partitioner should spread 100k keys";
    total += static_cast<long long>(lines.size());
  }
  EXPECT_EQ(total, kRecords);
  int missing = 0;
  for (int i = 0; i < kRecords; ++i) {
    if (!seen[static_cast<std::size_t>(i)] && ++missing <= 5) ADD_FAILURE() << "record " << i << " never consumed";
  }
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

}  // namespace
}  // namespace runnel::it
