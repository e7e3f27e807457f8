#include "cluster/store_factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "store_test_support.h"
#include "temp_dir.h"

namespace runnel::cluster::test {
namespace {

using ::testing::HasSubstr;

std::string refusal(const std::string& spec) {
  EventLoop loop;
  try {
    open_metadata_store(spec, "/nonexistent", loop.executor(), {});
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

TEST(StoreFactory, LocalOpensAStoreInTheLogDir) {
  TempDir dir;
  EventLoop loop;
  auto store = open_metadata_store("local", dir.path(), loop.executor(), {});
  EXPECT_EQ(store->describe(), "local (" + dir.path() + "/runnel-metadata)");
  put(loop, *store, "/a", "1");
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/runnel-metadata/journal"));
}

TEST(StoreFactory, EtcdSpecsListEndpoints) {
  EventLoop loop;
  // Nothing is contacted until the first call.
  auto one = open_metadata_store("etcd://127.0.0.1:2379", "", loop.executor(), {});
  EXPECT_EQ(one->describe(), "etcd://127.0.0.1:2379");
  auto several = open_metadata_store("etcd://10.0.0.1:2379,localhost:2379,[::1]:2381", "", loop.executor(), {});
  EXPECT_EQ(several->describe(), "etcd://10.0.0.1:2379,localhost:2379,[::1]:2381");
}

TEST(StoreFactory, RefusesMalformedSpecsWithOneLine) {
  EXPECT_THAT(refusal("etcd://127.0.0.1"), HasSubstr("missing port"));
  EXPECT_THAT(refusal("etcd://host:"), HasSubstr("bad port"));
  EXPECT_THAT(refusal("etcd://host:99999"), HasSubstr("bad port"));
  EXPECT_THAT(refusal("etcd://host:12x"), HasSubstr("bad port"));
  EXPECT_THAT(refusal("etcd://"), HasSubstr("missing port"));
  EXPECT_THAT(refusal("etcd://a:1,,b:2"), HasSubstr("etcd://a:1,,b:2"));
  EXPECT_THAT(refusal("etcd://::1:2379"), HasSubstr("brackets"));
  EXPECT_THAT(refusal("etcd://:2379"), HasSubstr("empty host"));
  EXPECT_THAT(refusal("zookeeper://z:2181"), HasSubstr("expected 'local' or 'etcd://"));
  EXPECT_THAT(refusal("Local"), HasSubstr("expected"));
  EXPECT_THAT(refusal(""), HasSubstr("expected"));
  for (const auto& spec : {"etcd://127.0.0.1", "zookeeper://z:2181", "etcd://host:"})
    EXPECT_EQ(refusal(spec).find('\n'), std::string::npos) << spec;
}

}  // namespace
}  // namespace runnel::cluster::test
