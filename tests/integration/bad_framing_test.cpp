// Acceptance 5 (framing): hand-written bad frames over raw sockets. After
// each case the broker is alive, fresh connections work, and previously
// produced data is intact (checked in TearDown).
#include <gtest/gtest.h>

#include <random>

#include "kafka_requests.h"
#include "raw_connection.h"
#include "sentinel_broker.h"

namespace runnel::it {
namespace {

constexpr std::int32_t kSocketRequestMaxBytes = 1048576;

class BadFraming : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // message.max.bytes must stay below socket.request.max.bytes (the broker
    // rejects the config otherwise).
    env_ = new SentinelBroker({"num.partitions=1", "message.max.bytes=65536",
                               "socket.request.max.bytes=" + std::to_string(kSocketRequestMaxBytes)});
    env_->start_and_seed();
  }
  static void TearDownTestSuite() {
    env_->finish();
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(env_->ensure_running()); }
  void TearDown() override {
    env_->expect_healthy(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  std::uint16_t port() { return env_->broker().port(); }

  // Sends `bytes` on a fresh connection and expects the broker to close it.
  void ExpectClosedAfterSending(const Bytes& bytes, const std::string& what) {
    RawConnection conn;
    ASSERT_TRUE(conn.connect(port())) << conn.last_error();
    conn.send(bytes);  // may fail if the broker closes early: that is fine
    EXPECT_TRUE(conn.wait_closed(std::chrono::seconds(10))) << what << ": broker kept the connection open";
  }

  // Sends `bytes`; the broker may either close the connection or answer with
  // a frame carrying `correlation_id`. Anything else is a failure.
  void ExpectClosedOrAnswered(const Bytes& bytes, std::int32_t correlation_id, const std::string& what) {
    RawConnection conn;
    ASSERT_TRUE(conn.connect(port())) << conn.last_error();
    conn.send(bytes);
    auto frame = conn.read_frame(std::chrono::seconds(10));
    if (!frame) {
      EXPECT_NE(conn.last_error(), "read timed out") << what << ": no answer and connection not closed";
      return;
    }
    WireReader in(*frame);
    EXPECT_EQ(in.i32(), correlation_id) << what << ": response to a different request? " << HexPrefix(*frame);
  }

  static SentinelBroker* env_;
};

SentinelBroker* BadFraming::env_ = nullptr;

Bytes SizeOnly(std::int32_t size) {
  WireWriter w;
  w.i32(size);
  return w.data();
}

TEST_F(BadFraming, NegativeFrameSizeClosesConnection) {
  Bytes b = SizeOnly(-1);
  b.insert(b.end(), 16, 0x00);
  ExpectClosedAfterSending(b, "size -1");
  ExpectClosedAfterSending(SizeOnly(INT32_MIN), "size INT32_MIN");
}

TEST_F(BadFraming, HugeFrameSizeClaimClosesConnectionWithoutAllocating) {
  const long rss_before = env_->broker().rss_kib();
  ExpectClosedAfterSending(SizeOnly(0x7fffffff), "size 2 GiB - 1");
  ExpectClosedAfterSending(SizeOnly(kSocketRequestMaxBytes + 1), "size socket.request.max.bytes + 1");
  const long rss_after = env_->broker().rss_kib();
  if (rss_before > 0 && rss_after > 0) {
    EXPECT_LT(rss_after - rss_before, 256 * 1024) << "RSS grew from " << rss_before << " KiB to " << rss_after
                                                  << " KiB: was the claimed size allocated?";
  }
}

TEST_F(BadFraming, ZeroFrameSizeDoesNotHarmBroker) {
  RawConnection conn;
  ASSERT_TRUE(conn.connect(port()));
  conn.send(SizeOnly(0));
  // A zero-length request cannot hold a header: Kafka closes. Either way the
  // broker must not crash (checked in TearDown); don't wait forever here.
  conn.wait_closed(std::chrono::seconds(3));
}

TEST_F(BadFraming, TruncatedBodyThenCloseDoesNotHarmBroker) {
  for (int cut : {0, 3, 9, 20}) {
    Bytes full = MetadataV4Request(7, std::vector<std::string>{"sentinel"});
    Bytes partial(full.begin(), full.begin() + 4 + cut);
    RawConnection conn;
    ASSERT_TRUE(conn.connect(port()));
    ASSERT_TRUE(conn.send(partial));
    conn.close();
  }
}

TEST_F(BadFraming, HalfSentRequestOnOneConnectionDoesNotBlockOtherClients) {
  RawConnection stuck;
  ASSERT_TRUE(stuck.connect(port()));
  Bytes full = MetadataV4Request(8, std::vector<std::string>{"sentinel"});
  ASSERT_TRUE(stuck.send(Bytes(full.begin(), full.begin() + 10)));
  // While `stuck` waits for the rest of its frame, others are served.
  env_->expect_healthy("while another connection holds a half-sent request");
  // Completing the request later still gets an answer.
  ASSERT_TRUE(stuck.send(Bytes(full.begin() + 10, full.end())));
  auto frame = stuck.read_frame(std::chrono::seconds(10));
  ASSERT_TRUE(frame.has_value()) << stuck.last_error();
  auto md = ParseMetadataV4Response(*frame);
  EXPECT_TRUE(md.parsed);
  EXPECT_EQ(md.correlation_id, 8);
}

TEST_F(BadFraming, TruncatedClientIdInHeaderClosesConnection) {
  WireWriter msg;
  msg.i16(api::kApiVersions).i16(0).i32(9).i16(100);  // client id claims 100 bytes, none follow
  WireWriter frame;
  frame.i32(static_cast<std::int32_t>(msg.size())).raw(msg.data());
  ExpectClosedOrAnswered(frame.data(), 9, "client id longer than the frame");
}

TEST_F(BadFraming, UnknownApiKeyClosesConnectionLikeKafka) {
  for (std::int16_t key : {std::int16_t{1234}, std::int16_t{-1}, std::int16_t{32767}}) {
    SCOPED_TRACE("api key " + std::to_string(key));
    ExpectClosedOrAnswered(RequestFrame(key, 0, 10, Bytes(8, 0)), 10, "unknown api key");
  }
}

TEST_F(BadFraming, ApiVersionsV99GetsV0ResponseWithUnsupportedVersionAndApiList) {
  std::string why;
  auto frame = RoundTrip(port(), ApiVersionsFlexibleRequest(99, 11), std::chrono::seconds(10), &why);
  ASSERT_TRUE(frame.has_value()) << "no ApiVersions response: " << why;
  auto r = ParseApiVersionsV0Response(*frame);
  ASSERT_TRUE(r.parsed) << "not a v0-format ApiVersions response: " << HexPrefix(*frame);
  EXPECT_EQ(r.correlation_id, 11);
  EXPECT_EQ(r.error, kafka_error::kUnsupportedVersion);
  struct Want {
    std::int16_t key, min, max;
  };
  for (Want w : {Want{api::kApiVersions, 0, 3}, Want{api::kMetadata, 0, 12}, Want{api::kProduce, 0, 9},
                 Want{api::kFetch, 0, 13}, Want{api::kListOffsets, 0, 7}}) {
    auto range = r.find(w.key);
    ASSERT_TRUE(range.has_value()) << "api " << w.key << " missing from the list";
    EXPECT_LE(range->min, w.min) << "api " << w.key;
    EXPECT_GE(range->max, w.max) << "api " << w.key;
  }
}

TEST_F(BadFraming, ApiVersionsV0ListsTheSupportedApis) {
  std::string why;
  auto frame = RoundTrip(port(), ApiVersionsV0Request(12), std::chrono::seconds(10), &why);
  ASSERT_TRUE(frame.has_value()) << why;
  auto r = ParseApiVersionsV0Response(*frame);
  ASSERT_TRUE(r.parsed);
  EXPECT_EQ(r.error, kafka_error::kNone);
  auto apiv = r.find(api::kApiVersions);
  ASSERT_TRUE(apiv.has_value());
  EXPECT_EQ(apiv->min, 0);
  EXPECT_EQ(apiv->max, 3);
}

TEST_F(BadFraming, UnsupportedVersionOfMetadataDoesNotHarmBroker) {
  ExpectClosedOrAnswered(RequestFrame(api::kMetadata, 99, 13, Bytes{0, 0, 0, 0}), 13, "Metadata v99");
}

TEST_F(BadFraming, HttpRequestBytesCloseConnection) {
  ExpectClosedAfterSending(ToBytes("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), "HTTP request");
}

TEST_F(BadFraming, RandomGarbageWithPlausibleFrameSizeDoesNotHarmBroker) {
  std::mt19937_64 rng(1234);
  for (int round = 0; round < 20; ++round) {
    WireWriter w;
    w.i32(64);
    for (int i = 0; i < 64; ++i) w.i8(static_cast<std::int8_t>(rng()));
    RawConnection conn;
    ASSERT_TRUE(conn.connect(port()));
    conn.send(w.data());
    conn.read_frame(std::chrono::milliseconds(500));  // whatever happens, bounded
  }
  ASSERT_TRUE(env_->broker().alive());
}

TEST_F(BadFraming, ValidHeaderWithGarbageMetadataBodyDoesNotHarmBroker) {
  // Topic count claims 1 million entries; the body is 6 bytes.
  WireWriter body;
  body.i32(1000000).i16(3);
  ExpectClosedOrAnswered(RequestFrame(api::kMetadata, 4, 14, body.data()), 14, "Metadata with lying array count");
}

TEST_F(BadFraming, PipelinedRequestsAreAnsweredInRequestOrder) {
  RawConnection conn;
  ASSERT_TRUE(conn.connect(port()));
  Bytes all;
  constexpr int kRequests = 30;
  for (int i = 0; i < kRequests; ++i) {
    Bytes one = (i % 2 == 0) ? ApiVersionsV0Request(1000 + i)
                             : MetadataV4Request(1000 + i, std::vector<std::string>{"sentinel"});
    all.insert(all.end(), one.begin(), one.end());
  }
  ASSERT_TRUE(conn.send(all));
  for (int i = 0; i < kRequests; ++i) {
    auto frame = conn.read_frame(std::chrono::seconds(10));
    ASSERT_TRUE(frame.has_value()) << "response " << i << ": " << conn.last_error();
    WireReader in(*frame);
    EXPECT_EQ(in.i32(), 1000 + i) << "responses must come back in request order";
  }
}

}  // namespace
}  // namespace runnel::it
