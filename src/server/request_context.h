#pragma once
// One decoded request on its way through a handler, and the response it builds.
#include <cstdint>
#include <span>
#include <vector>

#include "protocol/messages/headers.h"
#include "protocol/wire.h"

namespace runnel::server {

struct RequestContext {
  protocol::RequestHeader header;
  // The request bytes after the header. Mutable because produce patches record
  // batches (offsets, epochs) in place before writing them; the connection owns them.
  std::span<uint8_t> body;
  // Encoded response body (without size prefix or response header).
  std::vector<uint8_t> response_body;
  bool send_response = true;

  int16_t version() const { return header.request_api_version; }

  template <typename Message>
  Message decode_body() const {
    protocol::Reader reader(std::span<const uint8_t>(body.data(), body.size()));
    Message message;
    message.decode(reader, version());
    return message;
  }

  template <typename Message>
  void respond(const Message& message) {
    protocol::Writer writer(response_body);
    message.encode(writer, version());
  }
};

}  // namespace runnel::server
