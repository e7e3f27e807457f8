// The conformance suite on LocalStore.
#include "cluster/local_store.h"
#include "store_conformance.h"
#include "temp_dir.h"

namespace runnel::cluster::test {
namespace {

constexpr size_t kHistoryLimit = 64;

class LocalBackend final : public StoreBackend {
 public:
  std::unique_ptr<MetadataStore> open(asio::any_io_executor executor) override {
    LocalStoreOptions options;
    options.dir = dir_.path() + "/store";
    options.history_limit = kHistoryLimit;
    options.progress_interval_ms = 200;
    return std::make_unique<LocalStore>(std::move(executor), std::move(options));
  }
  void forget_history_before(EventLoop& loop, MetadataStore& store, int64_t) override {
    for (size_t i = 0; i <= kHistoryLimit; ++i) put(loop, store, "/filler", std::to_string(i));
  }

 private:
  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(Local, StoreConformance,
                         ::testing::Values(BackendParam{"LocalStore", [] { return std::make_unique<LocalBackend>(); }}),
                         backend_name);

}  // namespace
}  // namespace runnel::cluster::test
