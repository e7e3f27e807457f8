#include "server/response_frame.h"

#include "protocol/api_info.h"
#include "protocol/wire.h"

namespace runnel::server {

ResponseFrame build_response_frame(const protocol::RequestHeader& request, const std::vector<uint8_t>& body,
                                   std::vector<FileRecords> files) {
  ResponseFrame frame;
  frame.bytes.reserve(body.size() + 16);
  protocol::Writer writer(frame.bytes);
  const size_t size_at = writer.reserve_int32();
  protocol::ResponseHeader header;
  header.correlation_id = request.correlation_id;
  header.encode(writer, protocol::response_header_version(request.request_api_key, request.request_api_version));
  const size_t body_at = frame.bytes.size();
  frame.bytes.insert(frame.bytes.end(), body.begin(), body.end());
  for (auto& f : files) f.at += body_at;
  frame.files = std::move(files);
  writer.patch_int32(size_at, static_cast<int32_t>(frame.wire_size() - size_at - 4));
  return frame;
}

}  // namespace runnel::server
