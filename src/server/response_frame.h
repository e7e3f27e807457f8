#pragma once
// Builds complete response frames: size prefix, response header, body.
#include <cstdint>
#include <vector>

#include "protocol/messages/headers.h"
#include "storage/log.h"

namespace runnel::server {

// Record bytes a response carries by reference: sent from the segment files
// with sendfile, never copied into memory. `at` is where they belong in the
// bytes around them (the body's, or the whole frame's once built).
struct FileRecords {
  size_t at = 0;
  std::vector<storage::FileSlice> slices;
};

struct ResponseFrame {
  std::vector<uint8_t> bytes;      // the frame, file records left out
  std::vector<FileRecords> files;  // in order of `at`, positions into `bytes`
  size_t wire_size() const {
    size_t n = bytes.size();
    for (const auto& f : files)
      for (const auto& s : f.slices) n += static_cast<size_t>(s.length);
    return n;
  }
};

// `files` are the body's file records (positions relative to the body).
ResponseFrame build_response_frame(const protocol::RequestHeader& request, const std::vector<uint8_t>& body,
                                   std::vector<FileRecords> files = {});

// The answer to an ApiVersions request of a version we do not know: always v0
// format, UNSUPPORTED_VERSION, and our supported ranges.
std::vector<uint8_t> unsupported_api_versions_frame(int32_t correlation_id);

}  // namespace runnel::server
