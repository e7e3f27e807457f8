// A raw Kafka client for group-protocol error tests: the broker's generated
// message structs and protocol/framing.h over one loopback connection, so a
// test can send exactly the request (and version) it means to.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "protocol/framing.h"
#include "protocol/wire.h"
#include "raw_connection.h"

namespace runnel::it {

class GroupRawClient {
 public:
  bool connect(std::uint16_t port) { return connection_.connect(port); }
  RawConnection& connection() { return connection_; }

  // Sends `request` at `version` and decodes the response; nullopt (with a test
  // failure) if the connection fails or the response does not decode.
  template <typename Response, typename Request>
  std::optional<Response> call(const Request& request, std::int16_t version) {
    const std::int32_t correlation_id = next_correlation_id_++;
    std::vector<std::uint8_t> frame;
    protocol::encode_request_frame(frame, correlation_id, std::string("runnel-it"), version, request);
    if (!connection_.send(frame)) {
      ADD_FAILURE() << "send failed: " << connection_.last_error();
      return std::nullopt;
    }
    auto payload = connection_.read_frame(std::chrono::seconds(30));
    if (!payload) {
      ADD_FAILURE() << "no response to api " << Request::kApiKey << " v" << version << ": " << connection_.last_error();
      return std::nullopt;
    }
    try {
      protocol::Reader reader(*payload);
      const auto header = protocol::decode_response_header(reader, Request::kApiKey, version);
      EXPECT_EQ(header.correlation_id, correlation_id);
      Response response;
      response.decode(reader, version);
      return response;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot decode the response to api " << Request::kApiKey << " v" << version << ": " << e.what();
      return std::nullopt;
    }
  }

 private:
  RawConnection connection_;
  std::int32_t next_correlation_id_ = 1;
};

}  // namespace runnel::it
