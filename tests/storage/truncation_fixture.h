#pragma once
// The follower log the truncation tests cut: 12 batches of 2 records (batch i
// holds offsets 2i and 2i+1) over several small segments, leader epochs 1, 2 and
// 4, and producer 7's batches at offsets 4, 10 and 18.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "replication_util.h"
#include "storage/log.h"
#include "storage/offset_index.h"
#include "storage/producer_state.h"

namespace runnel::testing {

inline storage::LogConfig truncation_config() {
  storage::LogConfig config;
  config.segment_bytes = 500;
  config.index_interval_bytes = 100;
  config.segment_index_bytes = 8192;  // small mappings: the crash tests open many logs
  return config;
}

inline constexpr int64_t kFixtureEnd = 24;

inline int32_t fixture_epoch(int batch) { return batch < 4 ? 1 : batch < 8 ? 2 : 4; }

// Batch i as the leader wrote it.
inline std::vector<uint8_t> fixture_batch(int i) {
  LeaderBatch b{2 * int64_t{i}, 2, fixture_epoch(i)};
  b.value_size = 40;
  b.timestamp = 1000 + i;
  if (i == 2 || i == 5 || i == 9) {
    b.producer_id = 7;
    b.producer_epoch = 0;
    b.sequence = i == 2 ? 0 : i == 5 ? 2 : 4;
  }
  return leader_batch(b);
}

// Appends the fixture's batches [from, to) one fetch each.
inline void append_fixture(storage::Log& log, int from = 0, int to = 12) {
  for (int i = from; i < to; ++i) {
    auto r = log.append_as_follower(fixture_batch(i), 10'000 + i);
    ASSERT_EQ(r.error, ErrorCode::kNone) << r.error_message;
  }
}

// The fixture's bytes for offsets [0, end) (end on a batch boundary).
inline std::vector<uint8_t> fixture_bytes(int64_t end) {
  std::vector<uint8_t> out;
  for (int i = 0; 2 * i < end; ++i) concat(out, fixture_batch(i));
  return out;
}

// The epoch entries a log holding the fixture's offsets [0, end) must have.
inline std::vector<storage::EpochEntry> fixture_epochs(int64_t end) {
  std::vector<storage::EpochEntry> out;
  for (int i = 0; 2 * i < end; ++i)
    if (out.empty() || out.back().epoch != fixture_epoch(i)) out.push_back({fixture_epoch(i), 2 * int64_t{i}});
  return out;
}

// Producer 7's last batch's last offset in the fixture's offsets [0, end), -1 if none.
inline int64_t fixture_producer_last_offset(int64_t end) {
  int64_t last = -1;
  for (int i : {2, 5, 9})
    if (2 * i + 1 < end) last = 2 * i + 1;
  return last;
}

// Absolute offsets of the entries of a .index file.
inline std::vector<int64_t> index_offsets(const std::string& path, int64_t base) {
  std::string bytes;
  EXPECT_FALSE(storage::read_whole_file(storage::Env::posix(), path, bytes));
  std::vector<int64_t> out;
  for (size_t at = 0; at + 8 <= bytes.size(); at += 8) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + at);
    if (storage::load_be64(p) == 0) break;  // preallocated zeros (no batch at position 0 is indexed)
    out.push_back(base + storage::load_be32(p));
  }
  return out;
}

inline std::vector<std::string> files_with_suffix(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::vector<int64_t> snapshot_offsets(const std::string& dir) {
  std::vector<int64_t> out;
  for (const auto& name : files_with_suffix(dir, ".snapshot"))
    if (auto offset = storage::parse_snapshot_file_name(name)) out.push_back(*offset);
  return out;
}

}  // namespace runnel::testing
