// libFuzzer target: one Kafka request frame (what follows the 4-byte size
// prefix), decoded as Connection::process does: the request header for the
// api key/version in its first bytes, then the body with that API's generated
// decoder, at any version (supported or not: the generated decoders must
// reject, never misbehave). A decoded request is re-encoded, which must not
// fail either. Every API in src/protocol/messages is covered (fuzz_requests.h
// is generated from them).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_requests.h"
#include "protocol/api_info.h"
#include "protocol/messages.h"
#include "protocol/wire.h"

namespace {

using namespace runnel::protocol;

template <typename Request>
void decode_body(std::span<const uint8_t> body, int16_t version) {
  if (version < Request::kMinVersion || version > Request::kMaxVersion) return;
  Request request;
  Reader reader(body);
  try {
    request.decode(reader, version);
  } catch (const DecodeError&) {
    return;
  }
  std::vector<uint8_t> bytes;
  Writer writer(bytes);
  request.encode(writer, version);  // a decoded message always encodes
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const auto api_key = static_cast<int16_t>((data[0] << 8) | data[1]);
  const auto api_version = static_cast<int16_t>((data[2] << 8) | data[3]);
  const std::span<const uint8_t> frame(data, size);
  Reader reader(frame);
  RequestHeader header;
  try {
    header.decode(reader, request_header_version(api_key, api_version));
  } catch (const DecodeError&) {
    return 0;
  }
  const auto body = frame.subspan(reader.position());
  switch (api_key) {
#define RUNNEL_FUZZ_CASE(Request) \
  case Request::kApiKey:          \
    decode_body<Request>(body, api_version); \
    break;
    RUNNEL_FUZZ_REQUESTS(RUNNEL_FUZZ_CASE)
#undef RUNNEL_FUZZ_CASE
    default:
      break;
  }
  return 0;
}
