#include "cluster/store_factory.h"

#include <stdexcept>

#include <fmt/format.h>

#include "cluster/etcd_endpoints.h"
#include "cluster/etcd_store.h"
#include "cluster/local_store.h"

namespace runnel::cluster {

std::unique_ptr<MetadataStore> open_metadata_store(const std::string& spec, const std::string& local_dir,
                                                   asio::any_io_executor executor, const StoreOptions& options) {
  if (spec == "local") {
    if (local_dir.empty()) throw std::invalid_argument("metadata store 'local' needs a log dir");
    LocalStoreOptions local;
    local.dir = local_dir + "/" + kLocalStoreDirName;
    local.history_limit = options.local_history_limit;
    local.journal_roll_bytes = options.local_journal_roll_bytes;
    local.progress_interval_ms = options.watch_progress_interval_ms;
    return std::make_unique<LocalStore>(std::move(executor), std::move(local));
  }
  constexpr std::string_view kScheme = "etcd://";
  if (spec.rfind(kScheme, 0) != 0)
    throw std::invalid_argument(
        fmt::format("metadata store '{}': expected 'local' or 'etcd://HOST:PORT[,HOST:PORT...]'", spec));
  EtcdOptions etcd;
  etcd.request_timeout_ms = options.request_timeout_ms;
  etcd.watch_progress_interval_ms = options.watch_progress_interval_ms;
  std::string rest = spec.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t start = 0;
  for (;;) {
    const size_t comma = rest.find(',', start);
    const std::string endpoint = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    try {
      parse_etcd_endpoint(endpoint);  // validate here, for a message that names the spec
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format("metadata store '{}': {}", spec, e.what()));
    }
    etcd.endpoints.push_back(endpoint);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return std::make_unique<EtcdStore>(std::move(executor), std::move(etcd));
}

}  // namespace runnel::cluster
