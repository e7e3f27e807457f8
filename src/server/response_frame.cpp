#include "server/response_frame.h"

#include "protocol/api_info.h"
#include "protocol/wire.h"

namespace runnel::server {

std::vector<uint8_t> build_response_frame(const protocol::RequestHeader& request, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> frame;
  frame.reserve(body.size() + 16);
  protocol::Writer writer(frame);
  const size_t size_at = writer.reserve_int32();
  protocol::ResponseHeader header;
  header.correlation_id = request.correlation_id;
  header.encode(writer, protocol::response_header_version(request.request_api_key, request.request_api_version));
  frame.insert(frame.end(), body.begin(), body.end());
  writer.patch_int32(size_at, static_cast<int32_t>(frame.size() - size_at - 4));
  return frame;
}

}  // namespace runnel::server
