// The conformance suite every MetadataStore must pass (store_conformance.cpp):
// one set of tests, instantiated for LocalStore (local_conformance_test.cpp)
// and for EtcdStore against a real etcd (etcd_conformance_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <memory>
#include <string>

#include "cluster/metadata_store.h"
#include "store_test_support.h"

namespace runnel::cluster::test {

// How the tests reach one kind of store.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // Watch progress reports should come every 200 ms, so the tests stay short.
  virtual std::unique_ptr<MetadataStore> open(asio::any_io_executor executor) = 0;
  // Makes every revision before `revision` unavailable to new watches (etcd:
  // compaction; local: enough writes elsewhere to push it out of the history).
  virtual void forget_history_before(EventLoop& loop, MetadataStore& store, int64_t revision) = 0;
};

struct BackendParam {
  std::string name;
  std::function<std::unique_ptr<StoreBackend>()> make;
};

// For gtest's messages (and ctest's test names): the name, not the bytes.
inline void PrintTo(const BackendParam& param, std::ostream* out) { *out << param.name; }

inline std::string backend_name(const ::testing::TestParamInfo<BackendParam>& info) { return info.param.name; }

class StoreConformance : public ::testing::TestWithParam<BackendParam> {
 protected:
  void SetUp() override {
    backend_ = GetParam().make();
    store_ = backend_->open(loop_.executor());
  }
  void TearDown() override { store_.reset(); }

  MetadataStore& store() { return *store_; }

  EventLoop loop_;
  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<MetadataStore> store_;
};

}  // namespace runnel::cluster::test
