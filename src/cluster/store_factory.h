#pragma once
// Opens the metadata store a broker is configured with.
#include <cstdint>
#include <memory>
#include <string>

#include <asio/any_io_executor.hpp>

#include "cluster/metadata_store.h"

namespace runnel::cluster {

struct StoreOptions {
  int64_t request_timeout_ms = 2000;          // etcd: deadline of each call
  int64_t watch_progress_interval_ms = 1000;  // both: progress reports on watches
  size_t local_history_limit = 10000;         // local: events kept for watches from past revisions
  uint64_t local_journal_roll_bytes = 16 * 1024 * 1024;  // local: journal size that triggers a snapshot
};

// The subdirectory of the broker's first log dir that holds the local store.
inline constexpr const char* kLocalStoreDirName = "runnel-metadata";

// spec: "local" (a LocalStore in <local_dir>/runnel-metadata) or
// "etcd://HOST:PORT[,HOST:PORT...]" (IPv6 hosts in brackets). Throws
// std::invalid_argument (one line) for anything else, std::runtime_error when the
// local store cannot be opened.
std::unique_ptr<MetadataStore> open_metadata_store(const std::string& spec, const std::string& local_dir,
                                                   asio::any_io_executor executor, const StoreOptions& options);

}  // namespace runnel::cluster
