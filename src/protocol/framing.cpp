#include "protocol/framing.h"

namespace runnel::protocol {

RequestHeader decode_request_header(Reader& r) {
  Reader peek = r;  // api key and version come first in every header version
  const int16_t api_key = peek.read_int16();
  const int16_t api_version = peek.read_int16();
  RequestHeader header;
  header.decode(r, request_header_version(api_key, api_version));
  return header;
}

}  // namespace runnel::protocol
