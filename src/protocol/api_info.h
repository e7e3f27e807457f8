#pragma once
// The API catalogue: every API Runnel defines messages for, with the version
// range those definitions cover. Generated from src/protocol/messages/*.msg.
// The server intersects this with its handler table to build ApiVersions.
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "protocol/api_keys.h"

namespace runnel::protocol {

struct ApiInfo {
  int16_t api_key;
  std::string_view name;  // e.g. "Produce"
  int16_t min_version;    // lowest version our definitions cover
  int16_t max_version;    // highest version our definitions cover
  // First flexible (compact, tagged-field) version; int16 max when none.
  int16_t first_flexible_version;

  constexpr bool is_flexible(int16_t version) const { return version >= first_flexible_version; }
  constexpr bool covers(int16_t version) const { return version >= min_version && version <= max_version; }
};

// Every defined API, sorted by api_key.
std::span<const ApiInfo> all_apis();

// nullptr when Runnel defines no messages for the key.
const ApiInfo* api_info(int16_t api_key);
inline const ApiInfo* api_info(ApiKey key) { return api_info(static_cast<int16_t>(key)); }

// Header versions for a request/response of the given API version. Flexibility
// is judged by the API's first flexible version even above max_version, so the
// header of a too-new request still parses (needed to answer
// UNSUPPORTED_VERSION). Unknown API keys get request header v1 / response v0.
// ControlledShutdown v0 uses request header v0 (no client_id), as in Kafka.
int16_t request_header_version(int16_t api_key, int16_t api_version);
// ApiVersions responses always use v0 so that any client can read the error.
int16_t response_header_version(int16_t api_key, int16_t api_version);

}  // namespace runnel::protocol
