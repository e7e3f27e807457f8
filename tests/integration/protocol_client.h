// Sends one request built from the broker's generated protocol structs and
// decodes the typed response: for APIs librdkafka 2.0.2 has no call for
// (IncrementalAlterConfigs, DescribeCluster, DescribeLogDirs, OffsetForLeaderEpoch)
// and for exact error-code checks.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "kafka_requests.h"
#include "protocol/framing.h"

namespace runnel::it {

template <typename Response, typename Request>
std::optional<Response> SendRequest(std::uint16_t port, const Request& request, std::int16_t version) {
  std::vector<std::uint8_t> frame;
  protocol::encode_request_frame(frame, 42, std::string("runnel-it"), version, request);
  std::string why;
  auto payload = RoundTrip(port, frame, std::chrono::seconds(15), &why);
  if (!payload) {
    ADD_FAILURE() << "request to api " << Request::kApiKey << " v" << version << " failed: " << why;
    return std::nullopt;
  }
  protocol::Reader reader(*payload);
  const auto header = protocol::decode_response_header(reader, Request::kApiKey, version);
  EXPECT_EQ(header.correlation_id, 42);
  Response response;
  response.decode(reader, version);
  EXPECT_TRUE(reader.at_end()) << "trailing bytes in response to api " << Request::kApiKey;
  return response;
}

}  // namespace runnel::it
