#include "server/api_handlers.h"

#include <gtest/gtest.h>

#include "protocol/api_info.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/headers.h"
#include "server/response_frame.h"

namespace runnel::server {
namespace {

// Every advertised range must be covered by the generated codecs, or a client
// choosing our max version would get a request we cannot decode.
TEST(ApiHandlers, AdvertisedRangesAreCoveredByTheProtocolDefinitions) {
  ASSERT_FALSE(api_handlers().empty());
  for (const auto& handler : api_handlers()) {
    const auto* info = protocol::api_info(handler.api_key);
    ASSERT_NE(info, nullptr) << "api " << handler.api_key;
    EXPECT_LE(handler.min_version, handler.max_version);
    EXPECT_TRUE(info->covers(handler.min_version)) << info->name;
    EXPECT_TRUE(info->covers(handler.max_version)) << info->name;
  }
}

TEST(ApiHandlers, IssueMinimumRangesAreAdvertised) {
  struct Range {
    int16_t key, min, max;
  };
  for (const Range& r : {Range{18, 0, 3}, Range{3, 0, 12}, Range{0, 0, 9}, Range{1, 0, 13}, Range{2, 0, 7}}) {
    const auto* handler = find_api_handler(r.key);
    ASSERT_NE(handler, nullptr) << r.key;
    EXPECT_LE(handler->min_version, r.min) << r.key;
    EXPECT_GE(handler->max_version, r.max) << r.key;
  }
  EXPECT_EQ(find_api_handler(999), nullptr);
}

TEST(ApiHandlers, UnsupportedApiVersionsAnswerIsV0WithTheRanges) {
  const auto frame = unsupported_api_versions_frame(1234);
  protocol::Reader reader(frame);
  EXPECT_EQ(reader.read_int32(), static_cast<int32_t>(frame.size() - 4));
  protocol::ResponseHeader header;
  header.decode(reader, 0);
  EXPECT_EQ(header.correlation_id, 1234);
  protocol::ApiVersionsResponse response;
  response.decode(reader, 0);
  EXPECT_TRUE(reader.at_end());
  EXPECT_EQ(response.error_code, to_wire(ErrorCode::kUnsupportedVersion));
  EXPECT_EQ(response.api_keys.size(), api_handlers().size());
}

}  // namespace
}  // namespace runnel::server
