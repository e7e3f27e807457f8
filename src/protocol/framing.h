#pragma once
// Request/response framing on top of the generated messages: header version
// selection and the int32 size prefix. Still sans-io: bytes in, bytes out.
//
//   // server side, after reading one size-delimited frame into `payload`:
//   Reader r(payload);
//   RequestHeader header = decode_request_header(r);
//   ProduceRequest request;
//   request.decode(r, header.request_api_version);
//   ...
//   encode_response_frame(out, header.correlation_id, header.request_api_version, response);
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/api_info.h"
#include "protocol/messages/headers.h"
#include "protocol/wire.h"

namespace runnel::protocol {

// Reads a request header, choosing its version from the api key and version
// at the front. Leaves `r` at the start of the request body.
RequestHeader decode_request_header(Reader& r);

// Appends response header + body (no size prefix).
template <typename Response>
void encode_response(Writer& w, int32_t correlation_id, int16_t api_version, const Response& body) {
  ResponseHeader header;
  header.correlation_id = correlation_id;
  header.encode(w, response_header_version(Response::kApiKey, api_version));
  body.encode(w, api_version);
}

// Appends a whole response frame: int32 size, response header, body. Records
// not in memory go to the RecordsSink: left out of `out`, counted in the size.
template <typename Response>
void encode_response_frame(std::vector<uint8_t>& out, int32_t correlation_id, int16_t api_version,
                           const Response& body, RecordsSink* records_sink = nullptr) {
  Writer w(out);
  w.set_records_sink(records_sink);
  const size_t size_at = w.reserve_int32();
  encode_response(w, correlation_id, api_version, body);
  w.patch_int32(size_at, static_cast<int32_t>(w.position() - size_at - 4 + w.external_bytes()));
}

// Appends a whole request frame: int32 size, request header, body (clients, tests).
template <typename Request>
void encode_request_frame(std::vector<uint8_t>& out, int32_t correlation_id, std::optional<std::string> client_id,
                          int16_t api_version, const Request& body) {
  Writer w(out);
  const size_t size_at = w.reserve_int32();
  RequestHeader header;
  header.request_api_key = Request::kApiKey;
  header.request_api_version = api_version;
  header.correlation_id = correlation_id;
  header.client_id = std::move(client_id);
  header.encode(w, request_header_version(Request::kApiKey, api_version));
  body.encode(w, api_version);
  w.patch_int32(size_at, static_cast<int32_t>(w.position() - size_at - 4));
}

// Reads a response header of the version matching the request it answers.
inline ResponseHeader decode_response_header(Reader& r, int16_t api_key, int16_t api_version) {
  ResponseHeader header;
  header.decode(r, response_header_version(api_key, api_version));
  return header;
}

}  // namespace runnel::protocol
