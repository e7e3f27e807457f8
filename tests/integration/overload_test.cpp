// Issue 8, overload and abuse: thousands of idle connections, clients that
// send a request header and stall, a client that never reads its responses, a
// request claiming 2 GiB, and a flood of metadata requests. Each scenario
// checks that the broker's memory stays bounded (socket.request.max.bytes,
// queued.max.request.bytes, the per-connection in-flight and queued-response
// limits, connections.max.idle.ms), that it stays up, and that a
// well-behaved client keeps being served meanwhile; the latencies that client
// saw are printed, never asserted (the machine is shared).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "broker_process.h"
#include "group_consumer.h"
#include "kafka_requests.h"
#include "raw_connection.h"
#include "record_batch_builder.h"

namespace runnel::it {
namespace {

using Clock = std::chrono::steady_clock;

void RaiseFileLimit() {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::size_t FileLimit() {
  struct rlimit rl {};
  return getrlimit(RLIMIT_NOFILE, &rl) == 0 ? static_cast<std::size_t>(rl.rlim_cur) : 1024;
}

Bytes SizePrefix(std::int32_t size) {
  WireWriter w;
  w.i32(size);
  return w.data();
}

// Fetch v4 of one partition from offset 0.
Bytes FetchV4Request(std::int32_t correlation_id, const std::string& topic, std::int32_t max_bytes) {
  WireWriter w;
  w.i32(-1).i32(0).i32(1).i32(max_bytes).i8(0);
  w.i32(1).string(topic).i32(1).i32(0).i64(0).i32(max_bytes);
  return RequestFrame(api::kFetch, 4, correlation_id, w.data());
}

// A well-behaved client: Metadata round trips on a fresh connection each time,
// timed; runs until stopped.
class Prober {
 public:
  explicit Prober(std::uint16_t port) : port_(port) {
    thread_ = std::thread([this] {
      int correlation = 1;
      while (!stop_) {
        const auto start = Clock::now();
        std::string why;
        auto frame = RoundTrip(port_, MetadataV4Request(correlation++, std::nullopt), std::chrono::seconds(20), &why);
        const auto took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
        {
          std::lock_guard lock(mu_);
          if (frame && ParseMetadataV4Response(*frame).parsed) {
            latencies_us_.push_back(took);
          } else {
            ++failures_;
            last_error_ = why;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  ~Prober() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::size_t successes() const {
    std::lock_guard lock(mu_);
    return latencies_us_.size();
  }
  // Prints count, p50, p99 and max; expects no failure and some successes.
  void report(const char* scenario) {
    stop();
    std::lock_guard lock(mu_);
    auto l = latencies_us_;
    std::sort(l.begin(), l.end());
    auto pct = [&](double q) { return l.empty() ? 0L : static_cast<long>(l[static_cast<std::size_t>(q * (l.size() - 1))]); };
    std::printf("[overload] %s: well-behaved client %zu requests, %d failed, latency p50 %ld us, p99 %ld us, max %ld us\n",
                scenario, l.size(), failures_, pct(0.5), pct(0.99), l.empty() ? 0L : static_cast<long>(l.back()));
    EXPECT_EQ(failures_, 0) << scenario << ": the well-behaved client was refused: " << last_error_;
    EXPECT_GT(l.size(), 0u) << scenario << ": the well-behaved client got no answer";
  }

 private:
  std::uint16_t port_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<long> latencies_us_;
  int failures_ = 0;
  std::string last_error_;
};

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

// A memory ceiling in KiB; an ASan broker (the sanitizer build) has shadow
// memory and a quarantine on top, so it gets more room.
long Ceiling(long kib) { return kAsan ? 2 * kib + 64 * 1024 : kib; }

class Overload : public ::testing::Test {
 protected:
  void SetUp() override {
    RaiseFileLimit();
    if (kAsan) {
      // The broker inherits this: a small quarantine keeps freed memory from counting as growth.
      const char* current = std::getenv("ASAN_OPTIONS");
      const std::string options = std::string(current ? current : "") + (current && *current ? ":" : "") +
                                  "quarantine_size_mb=16";
      setenv("ASAN_OPTIONS", options.c_str(), 1);
    }
  }

  // Starts the broker with small, observable limits.
  void Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> overrides = {"connections.max.idle.ms=4000", "queued.max.request.bytes=16777216"};
    overrides.insert(overrides.end(), extra.begin(), extra.end());
    broker_ = std::make_unique<BrokerProcess>(overrides);
    ASSERT_TRUE(broker_->start());
    // Warm up (topic metadata, allocator) before the baseline is taken.
    ASSERT_TRUE(RoundTrip(broker_->port(), MetadataV4Request(1, std::nullopt)));
    baseline_kib_ = broker_->rss_kib();
    ASSERT_GT(baseline_kib_, 0);
  }

  // Peak RSS growth above the baseline, sampled while `during` runs.
  long GrowthKib() const { return broker_->rss_kib() - baseline_kib_; }

  void ExpectAliveAndServing() {
    ASSERT_TRUE(broker_->alive()) << broker_->stderr_tail();
    EXPECT_TRUE(RoundTrip(broker_->port(), MetadataV4Request(99, std::nullopt)).has_value());
  }

  std::unique_ptr<BrokerProcess> broker_;
  long baseline_kib_ = 0;
};

TEST_F(Overload, ThousandsOfIdleConnectionsAreHeldCheaplyAndClosedAfterTheIdleTimeout) {
  Start();
  const std::size_t count = std::min<std::size_t>(3000, FileLimit() / 2 - 100);
  ASSERT_GE(count, 500u) << "file descriptor limit too low for the test";
  Prober prober(broker_->port());
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (std::size_t i = 0; i < count; ++i) {
    auto c = std::make_unique<RawConnection>();
    ASSERT_TRUE(c->connect(broker_->port())) << "connection " << i << ": " << c->last_error();
    idle.push_back(std::move(c));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const long growth = GrowthKib();
  std::printf("[overload] %zu idle connections: broker RSS +%ld KiB (%.1f KiB each)\n", count, growth,
              static_cast<double>(growth) / static_cast<double>(count));
  EXPECT_LT(growth, Ceiling(64L * 1024)) << "idle connections must cost little memory";
  ExpectAliveAndServing();
  // connections.max.idle.ms=4000: all of them are closed by the broker.
  std::size_t closed = 0;
  for (auto& c : idle) closed += c->wait_closed(std::chrono::seconds(30)) ? 1 : 0;
  EXPECT_EQ(closed, count) << "idle connections were not closed after connections.max.idle.ms";
  prober.report("idle connections");
}

TEST_F(Overload, HeaderThenStallAndHugeClaimsDoNotReserveMemory) {
  Start();
  Prober prober(broker_->port());
  // 300 clients each announce a 100 MB request (the default
  // socket.request.max.bytes), send its first bytes and stall: the broker
  // must not allocate what was only claimed (that would be 30 GB).
  constexpr int kStallers = 300;
  std::vector<std::unique_ptr<RawConnection>> stallers;
  for (int i = 0; i < kStallers; ++i) {
    auto c = std::make_unique<RawConnection>();
    ASSERT_TRUE(c->connect(broker_->port()));
    Bytes frame = SizePrefix(100 * 1000 * 1000);
    const Bytes header = RequestFrame(api::kMetadata, 4, i, {});
    frame.insert(frame.end(), header.begin() + 4, header.end());
    ASSERT_TRUE(c->send(frame));
    stallers.push_back(std::move(c));
  }
  // Requests claiming 2 GiB (INT32_MAX bytes, and 2^31, which is negative on the wire) are refused outright.
  for (std::int32_t claim : {INT32_MAX, INT32_MIN}) {
    RawConnection c;
    ASSERT_TRUE(c.connect(broker_->port()));
    ASSERT_TRUE(c.send(SizePrefix(claim)));
    EXPECT_TRUE(c.wait_closed(std::chrono::seconds(10))) << "claim " << claim << " was not refused";
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const long growth = GrowthKib();
  std::printf("[overload] %d stalled 100 MB requests + 2 GiB claims: broker RSS +%ld KiB\n", kStallers, growth);
  EXPECT_LT(growth, Ceiling(128L * 1024)) << "stalled requests must hold only the bytes that arrived";
  ExpectAliveAndServing();
  std::size_t closed = 0;
  for (auto& c : stallers) closed += c->wait_closed(std::chrono::seconds(30)) ? 1 : 0;
  EXPECT_EQ(closed, static_cast<std::size_t>(kStallers)) << "stalled clients were not closed after the idle timeout";
  prober.report("header then stall");
}

TEST_F(Overload, BigRequestsBeyondQueuedMaxRequestBytesWaitInsteadOfAllocating) {
  Start();
  Prober prober(broker_->port());
  // 40 clients each send 4 MB of a 8 MB request: 160 MB offered against a
  // 16 MB queued.max.request.bytes. Memory stays near the pool size.
  constexpr int kClients = 40;
  const Bytes chunk(4 << 20, 0x41);
  std::vector<std::thread> senders;
  std::vector<std::unique_ptr<RawConnection>> conns(kClients);
  for (int i = 0; i < kClients; ++i) {
    conns[static_cast<std::size_t>(i)] = std::make_unique<RawConnection>();
    ASSERT_TRUE(conns[static_cast<std::size_t>(i)]->connect(broker_->port()));
  }
  for (int i = 0; i < kClients; ++i) {
    senders.emplace_back([&, i] {
      Bytes frame = SizePrefix(8 << 20);
      const Bytes header = RequestFrame(api::kMetadata, 4, i, {});
      frame.insert(frame.end(), header.begin() + 4, header.end());
      frame.insert(frame.end(), chunk.begin(), chunk.end());
      (void)conns[static_cast<std::size_t>(i)]->send(frame, std::chrono::seconds(3));  // blocks once the broker stops reading
    });
  }
  for (auto& t : senders) t.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const long growth = GrowthKib();
  std::printf("[overload] %d clients offering 4 MB each, queued.max.request.bytes=16 MiB: broker RSS +%ld KiB\n",
              kClients, growth);
  EXPECT_LT(growth, Ceiling(96L * 1024)) << "request memory must stay near queued.max.request.bytes";
  conns.clear();
  ExpectAliveAndServing();
  prober.report("queued.max.request.bytes");
}

// `batches` x 64 KB of data to fetch from topic "fetched".
void ProduceDataToFetch(std::uint16_t port, int batches) {
  RawConnection c;
  ASSERT_TRUE(c.connect(port));
  for (int i = 0; i < batches; ++i) {
    std::vector<TestRecord> records;
    for (int r = 0; r < 16; ++r) records.push_back(TestRecord{"k", std::string(4000, 'f'), {}});
    ASSERT_TRUE(c.send(ProduceV3Request(i, "fetched", 0, BuildRecordBatch(records))));
    auto frame = c.read_frame(std::chrono::seconds(30));
    ASSERT_TRUE(frame);
    auto response = ParseProduceV3Response(*frame);
    ASSERT_TRUE(response.parsed && response.partitions.size() == 1);
    ASSERT_EQ(response.partitions[0].error, 0);
  }
}

TEST_F(Overload, ClientsHangingUpMidFetchCloseOnlyTheirOwnConnection) {
  // Fetches are sent from the segment files with sendfile; a client that
  // resets its connection while 4 MB are on their way must not take the broker
  // (SIGPIPE) or anyone else down.
  Start({"num.partitions=1"});
  ProduceDataToFetch(broker_->port(), 64);
  Prober prober(broker_->port());
  for (int i = 0; i < 60; ++i) {
    RawConnection c;
    ASSERT_TRUE(c.connect(broker_->port()));
    ASSERT_TRUE(c.send(FetchV4Request(i, "fetched", 8 << 20)));
    if (i % 3 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (i % 3 == 2) (void)c.read_frame(std::chrono::milliseconds(1));  // a few bytes read, most not
    c.close();  // with unread bytes the kernel answers with a reset
  }
  ExpectAliveAndServing();
  RawConnection reader;
  ASSERT_TRUE(reader.connect(broker_->port()));
  ASSERT_TRUE(reader.send(FetchV4Request(1000, "fetched", 8 << 20)));
  auto frame = reader.read_frame(std::chrono::seconds(30));
  ASSERT_TRUE(frame);
  EXPECT_GT(frame->size(), 64u * 64000u) << "a whole fetch after the hang-ups still carries every batch";
  prober.report("clients hanging up mid-fetch");
}

TEST_F(Overload, BrokerFetchMaxBytesCapsWhatOneFetchReturns) {
  // fetch.max.bytes (KIP-541) caps every response whatever the client asks
  // for; a batch larger than the cap still comes alone (KIP-74).
  Start({"num.partitions=1", "fetch.max.bytes=200000"});
  ProduceDataToFetch(broker_->port(), 16);  // 16 batches of ~64 KB
  RawConnection c;
  ASSERT_TRUE(c.connect(broker_->port()));
  ASSERT_TRUE(c.send(FetchV4Request(1, "fetched", 8 << 20)));
  auto frame = c.read_frame(std::chrono::seconds(30));
  ASSERT_TRUE(frame);
  EXPECT_GT(frame->size(), 2u * 64000u);  // whole batches up to the cap: three of them
  EXPECT_LT(frame->size(), 200000u + 1000u);
  Start({"num.partitions=1", "fetch.max.bytes=1024"});
  ProduceDataToFetch(broker_->port(), 2);
  RawConnection small;
  ASSERT_TRUE(small.connect(broker_->port()));
  ASSERT_TRUE(small.send(FetchV4Request(2, "fetched", 8 << 20)));
  frame = small.read_frame(std::chrono::seconds(30));
  ASSERT_TRUE(frame);
  EXPECT_GT(frame->size(), 64000u) << "one whole batch, although larger than the cap";
  EXPECT_LT(frame->size(), 2u * 64000u);
}

TEST_F(Overload, ClientThatNeverReadsItsResponsesIsNotReadFromAndCostsBoundedMemory) {
  Start({"num.partitions=1"});
  ProduceDataToFetch(broker_->port(), 32);  // 2 MB
  baseline_kib_ = broker_->rss_kib();
  Prober prober(broker_->port());
  // 200,000 pipelined 1 MB fetches (200 GB of responses; 14 MB of requests, more
  // than the kernel's socket buffers hold) that are never read.
  RawConnection greedy;
  ASSERT_TRUE(greedy.connect(broker_->port()));
  Bytes requests;
  for (int i = 0; i < 200000; ++i) {
    const Bytes r = FetchV4Request(i, "fetched", 1 << 20);
    requests.insert(requests.end(), r.begin(), r.end());
  }
  // The send blocks once the broker stops reading (before connections.max.idle.ms=4000 closes it).
  const bool all_sent = greedy.send(requests, std::chrono::seconds(3));
  EXPECT_FALSE(all_sent) << "the broker should stop reading from a client that does not read";
  const long growth = GrowthKib();
  EXPECT_TRUE(broker_->alive());
  std::printf("[overload] client never reading 1 MB fetch responses: broker RSS +%ld KiB\n", growth);
  // In-flight limit (64) x response size, plus the queued-response limit.
  EXPECT_LT(growth, Ceiling(160L * 1024));
  ExpectAliveAndServing();
  prober.report("client never reads");
}

TEST_F(Overload, MetadataFloodDoesNotStarveOtherClients) {
  Start();
  Prober prober(broker_->port());
  std::atomic<bool> stop{false};
  std::atomic<long> answered{0};
  std::vector<std::thread> flooders;
  for (int f = 0; f < 8; ++f) {
    flooders.emplace_back([&, f] {
      RawConnection c;
      if (!c.connect(broker_->port())) return;
      int correlation = 0;
      const auto deadline = Clock::now() + std::chrono::seconds(8);
      while (!stop && Clock::now() < deadline) {
        // 32 pipelined requests, then their answers.
        Bytes burst;
        for (int i = 0; i < 32; ++i) {
          const Bytes r = MetadataV4Request(f * 1000000 + correlation++, std::nullopt);
          burst.insert(burst.end(), r.begin(), r.end());
        }
        if (!c.send(burst)) return;
        for (int i = 0; i < 32; ++i) {
          if (!c.read_frame()) return;
          ++answered;
        }
      }
    });
  }
  long peak = 0;
  for (int i = 0; i < 16; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    peak = std::max(peak, GrowthKib());
  }
  stop = true;
  for (auto& t : flooders) t.join();
  std::printf("[overload] metadata flood: %ld requests answered, broker RSS peak +%ld KiB\n", answered.load(), peak);
  EXPECT_GT(answered.load(), 1000);
  EXPECT_LT(peak, Ceiling(64L * 1024));
  ExpectAliveAndServing();
  prober.report("metadata flood");
}

}  // namespace
}  // namespace runnel::it
