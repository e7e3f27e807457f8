#pragma once
// Temp dirs and small shared helpers for storage tests.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/log.h"
#include "storage/record_batch.h"

namespace runnel::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "runnel-storage-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Walks concatenated batches, calling f(header) for each.
template <typename F>
void for_each_batch(const std::vector<uint8_t>& bytes, F f) {
  size_t pos = 0;
  while (pos + storage::kBatchHeaderSize <= bytes.size()) {
    auto h = storage::parse_batch_header({bytes.data() + pos, bytes.size() - pos});
    f(h);
    pos += static_cast<size_t>(h.total_size());
  }
}

// Opens (creating it if needed) the log in `dir`; a failure fails the test.
inline std::shared_ptr<storage::Log> open_log(const std::string& dir, storage::LogConfig config = {},
                                              bool clean_shutdown = false, storage::Env* env = nullptr,
                                              int64_t recovery_point = 0) {
  storage::LogOpenOptions options;
  options.dir = dir;
  options.config = config;
  options.clean_shutdown = clean_shutdown;
  options.recovery_point = recovery_point;
  if (env) options.env = env;
  std::error_code ec;
  auto log = storage::Log::open(options, ec);
  EXPECT_FALSE(ec) << ec.message();
  return log;
}

}  // namespace runnel::testing
