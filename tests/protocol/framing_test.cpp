// API catalogue, header version selection and request/response framing.
#include <gtest/gtest.h>

#include "protocol/api_info.h"
#include "protocol/framing.h"
#include "protocol/messages.h"

namespace runnel::protocol {
namespace {

TEST(ApiCatalogue, ListsDefinedApisSortedWithTheirRanges) {
  const auto apis = all_apis();
  ASSERT_FALSE(apis.empty());
  for (size_t i = 1; i < apis.size(); ++i) EXPECT_LT(apis[i - 1].api_key, apis[i].api_key);

  const ApiInfo* produce = api_info(ApiKey::kProduce);
  ASSERT_NE(produce, nullptr);
  EXPECT_EQ(produce->name, "Produce");
  EXPECT_EQ(produce->min_version, ProduceRequest::kMinVersion);
  EXPECT_EQ(produce->max_version, ProduceRequest::kMaxVersion);
  EXPECT_EQ(produce->first_flexible_version, 9);
  EXPECT_TRUE(produce->is_flexible(9));
  EXPECT_FALSE(produce->is_flexible(8));
  EXPECT_TRUE(produce->covers(0));  // v0-v2: old message sets, converted on append
  EXPECT_TRUE(produce->covers(10));  // KIP-951: request as v9, response adds tagged leader hints
  EXPECT_FALSE(produce->covers(11));

  const ApiInfo* fetch = api_info(1);
  ASSERT_NE(fetch, nullptr);
  EXPECT_EQ(fetch->name, "Fetch");
  EXPECT_EQ(api_info(ApiKey::kApiVersions)->max_version, 3);
  EXPECT_EQ(api_info(-1), nullptr);
  EXPECT_EQ(api_info(9999), nullptr);
}

TEST(ApiCatalogue, HeaderVersions) {
  EXPECT_EQ(request_header_version(0, 8), 1);
  EXPECT_EQ(request_header_version(0, 9), 2);
  EXPECT_EQ(response_header_version(0, 8), 0);
  EXPECT_EQ(response_header_version(0, 9), 1);
  EXPECT_EQ(request_header_version(18, 3), 2);
  EXPECT_EQ(request_header_version(18, 7), 2);  // newer than we know: still flexible
  EXPECT_EQ(response_header_version(18, 3), 0);  // ApiVersions: always v0
  EXPECT_EQ(request_header_version(3, 9), 2);
  EXPECT_EQ(request_header_version(1, 11), 1);
  EXPECT_EQ(request_header_version(1, 12), 2);
  EXPECT_EQ(request_header_version(2, 6), 2);
  EXPECT_EQ(request_header_version(12345, 0), 1);  // unknown API
  // ControlledShutdown: v0 has Kafka's only header without client_id; v3 is flexible.
  EXPECT_EQ(request_header_version(7, 0), 0);
  EXPECT_EQ(request_header_version(7, 1), 1);
  EXPECT_EQ(request_header_version(7, 3), 2);
  EXPECT_EQ(response_header_version(7, 0), 0);
  EXPECT_EQ(response_header_version(7, 3), 1);
  // AlterPartition is flexible from v0.
  EXPECT_EQ(request_header_version(56, 0), 2);
  EXPECT_EQ(response_header_version(56, 0), 1);
}

TEST(Framing, RequestHeaderV0HasNoClientId) {
  RequestHeader header;
  header.request_api_key = 3;
  header.correlation_id = 9;
  std::vector<uint8_t> bytes;
  Writer w(bytes);
  header.encode(w, 0);
  EXPECT_EQ(bytes, (std::vector<uint8_t>{0, 3, 0, 0, 0, 0, 0, 9}));
}

TEST(Framing, NullClientIdInFlexibleHeaderStaysClassic) {
  RequestHeader header;
  header.request_api_key = 18;
  header.request_api_version = 3;
  header.client_id = std::nullopt;
  std::vector<uint8_t> bytes;
  Writer w(bytes);
  header.encode(w, 2);
  EXPECT_EQ(bytes, (std::vector<uint8_t>{0, 18, 0, 3, 0, 0, 0, 0, 0xff, 0xff, 0x00}));
}

TEST(Framing, ResponseFrameRoundTripsThroughTheClientSide) {
  MetadataResponse response;
  response.brokers.push_back({1, "localhost", 9092, std::nullopt});
  response.cluster_id = "cluster";
  response.controller_id = 1;
  for (int16_t version : {int16_t{0}, int16_t{8}, int16_t{9}, int16_t{12}}) {
    std::vector<uint8_t> frame;
    encode_response_frame(frame, 77, version, response);
    Reader size_reader(frame);
    ASSERT_EQ(static_cast<size_t>(size_reader.read_int32()), frame.size() - 4);
    const ResponseHeader header = decode_response_header(size_reader, MetadataResponse::kApiKey, version);
    EXPECT_EQ(header.correlation_id, 77);
    MetadataResponse decoded;
    decoded.decode(size_reader, version);
    EXPECT_TRUE(size_reader.at_end());
    EXPECT_EQ(decoded.brokers, response.brokers);
    EXPECT_EQ(decoded.cluster_id, version >= 2 ? response.cluster_id : std::nullopt);
  }
}

TEST(Framing, TruncatedHeaderIsRejected) {
  const std::vector<uint8_t> bytes{0, 18, 0, 3, 0, 0};
  Reader r(bytes);
  EXPECT_THROW(decode_request_header(r), DecodeError);
}

}  // namespace
}  // namespace runnel::protocol

namespace runnel::protocol {
namespace {

// Collects where record data would go, like a sendfile-based server would.
struct RecordingSink : RecordsSink {
  std::vector<std::pair<size_t, RecordsView>> calls;
  void on_records(size_t buffer_offset, const RecordsView& records) override {
    calls.emplace_back(buffer_offset, records);
  }
};

TEST(Framing, RecordsSinkKeepsExternalRecordsOutOfTheBuffer) {
  const std::vector<uint8_t> records{1, 2, 3, 4, 5};
  FetchResponse response;
  auto& partition = response.responses.emplace_back().partitions.emplace_back();
  partition.records = RecordsView::of(records);

  std::vector<uint8_t> inline_frame;
  encode_response_frame(inline_frame, 1, 12, response);
  // The same records as an external view: only the sink sees them.
  partition.records = RecordsView::external(&records, records.size());
  std::vector<uint8_t> no_sink;
  EXPECT_THROW(encode_response_frame(no_sink, 1, 12, response), EncodeError);
  std::vector<uint8_t> split_frame;
  RecordingSink sink;
  encode_response_frame(split_frame, 1, 12, response, &sink);

  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_EQ(sink.calls[0].second.source, &records);
  EXPECT_EQ(split_frame.size() + records.size(), inline_frame.size());
  // Splicing the records back in at the reported offset gives the inline frame.
  std::vector<uint8_t> spliced = split_frame;
  const size_t at = sink.calls[0].first;
  spliced.insert(spliced.begin() + static_cast<std::ptrdiff_t>(at), records.begin(), records.end());
  EXPECT_EQ(spliced, inline_frame);
}

}  // namespace
}  // namespace runnel::protocol
