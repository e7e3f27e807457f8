// ApiVersions: derived from the handler table, never maintained by hand.
#include "protocol/messages/api_versions.h"
#include "server/api_handlers.h"
#include "server/response_frame.h"

namespace runnel::server {
namespace {

protocol::ApiVersionsResponse supported_versions(ErrorCode error) {
  protocol::ApiVersionsResponse response;
  response.error_code = to_wire(error);
  for (const auto& handler : api_handlers()) {
    auto& api = response.api_keys.emplace_back();
    api.api_key = handler.api_key;
    api.min_version = handler.min_version;
    api.max_version = handler.max_version;
  }
  return response;
}

}  // namespace

asio::awaitable<void> handle_api_versions(BrokerContext&, RequestContext& context) {
  context.respond(supported_versions(ErrorCode::kNone));
  co_return;
}

std::vector<uint8_t> unsupported_api_versions_frame(int32_t correlation_id) {
  protocol::RequestHeader header;
  header.request_api_key = 18;
  header.request_api_version = 0;
  header.correlation_id = correlation_id;
  std::vector<uint8_t> body;
  protocol::Writer writer(body);
  supported_versions(ErrorCode::kUnsupportedVersion).encode(writer, 0);
  return build_response_frame(header, body).bytes;
}

}  // namespace runnel::server
