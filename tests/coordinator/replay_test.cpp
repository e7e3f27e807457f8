// Startup replay: what one coordinator wrote, another rebuilds (last record per
// key wins, tombstones delete); and OffsetsLog on a real partition log.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "coordinator/offsets_log.h"
#include "replication/partition.h"
#include "storage/flusher.h"
#include "coordinator_fixture.h"
#include "storage/record_batch.h"

namespace runnel::coordinator::testing {
namespace {

class ReplayTest : public CoordinatorTest {
 protected:
  // A second coordinator that replays everything the first one wrote.
  std::unique_ptr<GroupCoordinator> replayed() {
    auto other = std::make_unique<GroupCoordinator>(config, replay_timers, replay_store);
    for (const auto& write : store.written()) {
      for (const auto& record : write.records) other->replay(record);
    }
    other->finish_loading();
    return other;
  }
  FakeTimers replay_timers;
  FakeStore replay_store{8};
};

TEST_F(ReplayTest, RebuildsStableGroupsOffsetsAndDeletions) {
  auto ids = stable_group("stable", 2);
  auto c1 = commit("stable", ids[0], 1, {{{"t", 0}, 10, 1, "first", -1}});
  auto c2 = commit("stable", ids[0], 1, {{{"t", 0}, 11, 2, "second", -1}, {{"t", 1}, 5, -1, std::nullopt, -1}});
  auto simple = commit("simple", "", -1, {{{"u", 3}, 99, -1, "meta", -1}});
  auto doomed = commit("doomed", "", -1, {{{"u", 0}, 1, -1, std::nullopt, -1}});
  store.complete_all();
  Capture<std::vector<ErrorCode>> deleted;
  coordinator->delete_groups({"doomed"}, deleted.callback());
  store.complete_all();
  ASSERT_EQ((*deleted)[0], ErrorCode::kNone);

  auto other = replayed();
  EXPECT_EQ(other->group_count(), 2u);
  EXPECT_EQ(other->group("doomed"), nullptr);

  const Group* g = other->group("stable");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->state(), GroupState::kStable);
  EXPECT_EQ(g->generation(), 1);
  EXPECT_EQ(g->protocol_type(), "consumer");
  EXPECT_EQ(g->protocol_name(), "range");
  EXPECT_EQ(g->leader_id(), ids[0]);
  ASSERT_EQ(g->size(), 2u);
  for (const auto& id : ids) {
    ASSERT_TRUE(g->has(id));
    EXPECT_EQ(g->members().at(id).assignment, to_bytes("a-" + id));
  }
  auto offsets = other->fetch_offsets("stable", std::nullopt, false).offsets;
  ASSERT_EQ(offsets.size(), 2u);
  EXPECT_EQ(offsets[0].offset, 11) << "the last commit wins";
  EXPECT_EQ(offsets[0].leader_epoch, 2);
  EXPECT_EQ(offsets[0].metadata, "second");
  auto simple_offsets = other->fetch_offsets("simple", std::nullopt, false).offsets;
  ASSERT_EQ(simple_offsets.size(), 1u);
  EXPECT_EQ(simple_offsets[0].metadata, "meta");
  EXPECT_EQ(other->group("simple")->state(), GroupState::kEmpty);

  // Loaded members carry on with their generation: heartbeats work, and silence
  // still expires them after a session.
  EXPECT_EQ(other->heartbeat("stable", ids[0], std::nullopt, 1), ErrorCode::kNone);
  Capture<SyncResult> s;
  other->sync_group({"stable", 1, ids[1], std::nullopt, std::nullopt, std::nullopt, {}}, s.callback());
  ASSERT_TRUE(s.done());
  EXPECT_EQ(s->assignment, to_bytes("a-" + ids[1]));
  for (int i = 0; i < 11; ++i) {
    replay_timers.advance(1000);
    other->heartbeat("stable", ids[0], std::nullopt, 1);
  }
  EXPECT_FALSE(other->group("stable")->has(ids[1]));
}

TEST_F(ReplayTest, EmptyGroupsComeBackEmptyWithTheirGeneration) {
  auto ids = stable_group("g", 1);
  auto c = commit("g", ids[0], 1, {{{"t", 0}, 3, -1, std::nullopt, -1}});
  coordinator->leave_group("g", {{ids[0], std::nullopt, std::nullopt}});
  store.complete_all();
  auto other = replayed();
  const Group* g = other->group("g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->state(), GroupState::kEmpty);
  EXPECT_EQ(g->generation(), 2);
  EXPECT_EQ(g->protocol_type(), "consumer");
  EXPECT_EQ(other->fetch_offsets("g", std::nullopt, false).offsets.at(0).offset, 3);
}

TEST_F(ReplayTest, MalformedRecordsAreSkipped) {
  auto other = std::make_unique<GroupCoordinator>(config, replay_timers, replay_store);
  other->replay({Bytes{}, to_bytes("x")});                // no key
  other->replay({Bytes{0, 1, 0}, to_bytes("x")});         // truncated key
  other->replay({Bytes{0, 9, 0, 0}, to_bytes("x")});      // unknown key version
  other->replay({encode_offset_commit_key({"g", "t", 0}), Bytes{0, 3}});  // truncated value
  other->replay({encode_offset_commit_key({"g", "t", 1}), encode_offset_commit_value({8, -1, "", 1, -1})});
  other->finish_loading();
  auto offsets = other->fetch_offsets("g", std::nullopt, false).offsets;
  ASSERT_EQ(offsets.size(), 1u);
  EXPECT_EQ(offsets[0].offset, 8);
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "runnel-coordinator-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The partition's host for a single replica: fsync through a real Flusher,
// completions back on the test's event loop.
class SingleReplicaHost final : public replication::PartitionHost {
 public:
  SingleReplicaHost(storage::Flusher& flusher, asio::io_context& io) : flusher_(flusher), io_(io) {}
  int32_t node_id() const override { return 0; }
  int64_t replica_lag_time_max_ms() const override { return 30000; }
  void request_flush(const std::shared_ptr<replication::Partition>& partition, int64_t offset) override {
    std::weak_ptr<replication::Partition> weak = partition;
    flusher_.request(partition->log(), offset, [this, weak](int64_t durable, ErrorCode) {
      asio::post(io_, [weak, durable] {
        if (auto p = weak.lock()) p->on_durable(durable);
      });
    });
  }
  void propose_isr(const std::shared_ptr<replication::Partition>&, std::vector<int32_t>) override {}

 private:
  storage::Flusher& flusher_;
  asio::io_context& io_;
};

TEST(OffsetsLogTest, WritesReplicatedBatchesAndReplaysThemSkippingCompressedOnes) {
  TempDir dir;
  storage::LogOpenOptions options;
  options.dir = dir.path() + "/__consumer_offsets-0";
  options.hw_follows_flush = false;
  std::error_code ec;
  auto log = storage::Log::open(options, ec);
  ASSERT_TRUE(log) << ec.message();
  storage::Flusher flusher;
  asio::io_context io;
  SingleReplicaHost host(flusher, io);
  auto partition = std::make_shared<replication::Partition>("__consumer_offsets", 0, Uuid::random(), log, host);
  partition->apply_state({{0}, {0}, 0, 1, 0}, 0);
  ASSERT_TRUE(partition->is_leader());
  OffsetsLog::Options offsets_options;
  offsets_options.partition_count = [] { return 1; };
  offsets_options.min_insync_replicas = [] { return 1; };
  OffsetsLog offsets(
      io.get_executor(), [] { return int64_t{1234}; },
      [&](int32_t p) { return p == 0 ? partition : nullptr; }, offsets_options);

  std::vector<ErrorCode> results;
  offsets.append(0, {{to_bytes("k1"), to_bytes("v1")}, {to_bytes("k2"), std::nullopt}},
                 [&](ErrorCode e) { results.push_back(e); });
  {
    auto guard = asio::make_work_guard(io);
    for (int i = 0; i < 2000 && results.size() < 1; ++i) io.run_for(std::chrono::milliseconds(10));
  }
  // A compressed batch another writer left behind: valid framing, never decoded.
  const LogRecord plain{to_bytes("k3"), to_bytes("v3")};
  Bytes gzip = build_record_batch(std::span<const LogRecord>(&plain, 1), 1);
  storage::store_be16(gzip.data() + storage::batch_layout::kAttributes, 1);
  storage::store_be32(gzip.data() + storage::batch_layout::kCrc, static_cast<int32_t>(storage::compute_batch_crc(gzip)));
  ASSERT_EQ(partition->append_as_leader(gzip, 1).error, ErrorCode::kNone);
  offsets.append(0, {{to_bytes("k4"), to_bytes("v4")}}, [&](ErrorCode e) { results.push_back(e); });
  offsets.append(5, {{to_bytes("k"), to_bytes("v")}}, [&](ErrorCode e) { results.push_back(e); });
  EXPECT_EQ(results.size(), 1u) << "callbacks only run on the event loop";
  io.restart();  // the first wait ran the loop out of work
  {
    // Keep the loop alive while the flusher thread fsyncs (bounded: 20 s).
    auto guard = asio::make_work_guard(io);
    for (int i = 0; i < 2000 && results.size() < 3; ++i) io.run_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(std::count(results.begin(), results.end(), ErrorCode::kNotLeaderOrFollower), 1)
      << "a partition not led here";
  EXPECT_EQ(std::count(results.begin(), results.end(), ErrorCode::kNone), 2);
  EXPECT_EQ(log->high_watermark(), 4) << "acknowledged only once fsynced";

  std::vector<LogRecord> seen;
  const auto stats = OffsetsLog::replay(*log, 0, [&](const LogRecord& r) { seen.push_back(r); });
  EXPECT_EQ(stats.batches, 3u);
  EXPECT_EQ(stats.skipped_batches, 1u);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].key, to_bytes("k1"));
  EXPECT_FALSE(seen[1].value.has_value());
  EXPECT_EQ(seen[2].value, to_bytes("v4"));
  partition->stop();
  flusher.stop();
  log->close();
}

}  // namespace
}  // namespace runnel::coordinator::testing
