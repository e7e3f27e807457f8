#include "protocol/api_info.h"

#include <algorithm>

namespace runnel::protocol {

const ApiInfo* api_info(int16_t api_key) {
  const auto apis = all_apis();
  const auto it = std::lower_bound(apis.begin(), apis.end(), api_key,
                                   [](const ApiInfo& info, int16_t key) { return info.api_key < key; });
  return it != apis.end() && it->api_key == api_key ? &*it : nullptr;
}

int16_t request_header_version(int16_t api_key, int16_t api_version) {
  // Kafka's one exception: ControlledShutdown v0 predates client_id in the header.
  if (api_key == static_cast<int16_t>(ApiKey::kControlledShutdown) && api_version == 0) return 0;
  const ApiInfo* info = api_info(api_key);
  return info && info->is_flexible(api_version) ? 2 : 1;
}

int16_t response_header_version(int16_t api_key, int16_t api_version) {
  if (api_key == static_cast<int16_t>(ApiKey::kApiVersions)) return 0;
  const ApiInfo* info = api_info(api_key);
  return info && info->is_flexible(api_version) ? 1 : 0;
}

}  // namespace runnel::protocol
