#pragma once
// One decoded request on its way through a handler, and the response it builds.
#include <cstdint>
#include <span>
#include <vector>

#include "protocol/messages/headers.h"
#include "protocol/wire.h"
#include "server/response_frame.h"

namespace runnel::server {

struct RequestContext {
  protocol::RequestHeader header;
  // The listener the request came in on (its name, e.g. PLAINTEXT): Metadata and
  // FindCoordinator give addresses on the same listener.
  std::string listener = "PLAINTEXT";
  // The request bytes after the header. Mutable because produce patches record
  // batches (offsets, epochs) in place before writing them; the connection owns them.
  std::span<uint8_t> body;
  // Encoded response body (without size prefix or response header).
  std::vector<uint8_t> response_body;
  // Records the body carries by reference (Fetch): RecordsView::external views
  // whose source is a std::vector<storage::FileSlice>, sent with sendfile.
  std::vector<FileRecords> response_files;
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
    FileRecordsSink sink(response_files);
    writer.set_records_sink(&sink);
    message.encode(writer, version());
  }

 private:
  struct FileRecordsSink final : protocol::RecordsSink {
    explicit FileRecordsSink(std::vector<FileRecords>& out) : out_(out) {}
    void on_records(size_t at, const protocol::RecordsView& records) override {
      out_.push_back({at, *static_cast<const std::vector<storage::FileSlice>*>(records.source)});
    }
    std::vector<FileRecords>& out_;
  };
};

}  // namespace runnel::server
