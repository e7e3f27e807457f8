// The conformance suite on EtcdStore, each test against its own real etcd.
#include "cluster/etcd_store.h"
#include "etcd_process.h"
#include "store_conformance.h"

namespace runnel::cluster::test {
namespace {

class EtcdBackend final : public StoreBackend {
 public:
  EtcdBackend() { etcd_.start(); }
  std::unique_ptr<MetadataStore> open(asio::any_io_executor executor) override {
    EtcdOptions options;
    options.endpoints = {etcd_.endpoint()};
    options.watch_progress_interval_ms = 200;
    return std::make_unique<EtcdStore>(std::move(executor), std::move(options));
  }
  void forget_history_before(EventLoop&, MetadataStore&, int64_t revision) override {
    etcd_.etcdctl({"compact", std::to_string(revision)});
  }

 private:
  it::EtcdProcess etcd_;
};

INSTANTIATE_TEST_SUITE_P(Etcd, StoreConformance,
                         ::testing::Values(BackendParam{"EtcdStore", [] { return std::make_unique<EtcdBackend>(); }}),
                         backend_name);

}  // namespace
}  // namespace runnel::cluster::test
