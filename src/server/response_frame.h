#pragma once
// Builds complete response frames: size prefix, response header, body.
#include <cstdint>
#include <vector>

#include "protocol/messages/headers.h"

namespace runnel::server {

std::vector<uint8_t> build_response_frame(const protocol::RequestHeader& request, const std::vector<uint8_t>& body);

// The answer to an ApiVersions request of a version we do not know: always v0
// format, UNSUPPORTED_VERSION, and our supported ranges.
std::vector<uint8_t> unsupported_api_versions_frame(int32_t correlation_id);

}  // namespace runnel::server
