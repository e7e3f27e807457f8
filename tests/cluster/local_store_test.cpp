// LocalStore beyond the conformance suite: durability across reopen, the
// journal's torn tail and corrupt middle, snapshot rolls, one store per dir.
#include "cluster/local_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store_test_support.h"
#include "temp_dir.h"

namespace runnel::cluster::test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

class LocalStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<LocalStore> open(uint64_t roll_bytes = 16 * 1024 * 1024) {
    LocalStoreOptions options;
    options.dir = dir_.path() + "/store";
    options.journal_roll_bytes = roll_bytes;
    options.progress_interval_ms = 200;
    return std::make_unique<LocalStore>(loop_.executor(), std::move(options));
  }
  std::string journal() const { return dir_.path() + "/store/journal"; }
  std::string snapshot() const { return dir_.path() + "/store/snapshot"; }

  TempDir dir_;
  EventLoop loop_;
};

TEST_F(LocalStoreTest, KeysAndRevisionsSurviveReopenButSessionKeysDoNot) {
  int64_t last = 0;
  int64_t lease = 0;
  {
    auto store = open();
    put(loop_, *store, "/a", "1");
    put(loop_, *store, "/a", "2");
    put(loop_, *store, "/b", "x");
    del(loop_, *store, "/b");
    put(loop_, *store, "/over", "plain");
    auto session = open_session(loop_, *store, 1000, 100);
    ASSERT_TRUE(session.status.ok());
    lease = session.lease;
    put(loop_, *store, "/live", "1", lease);
    put(loop_, *store, "/over", "now bound", lease);  // overwritten with a lease: gone after restart
    last = put(loop_, *store, "/c", "3");
    last = put(loop_, *store, "/live", "2", lease);  // the newest revision is a session-only write
  }
  auto store = open();
  auto all = get(loop_, *store, "/", true);
  ASSERT_TRUE(all.status.ok());
  EXPECT_EQ(all.result.revision, last);  // never backwards, even past unpersisted writes
  ASSERT_EQ(all.result.kvs.size(), 2u);
  EXPECT_EQ(all.result.kvs[0].key, "/a");
  EXPECT_EQ(all.result.kvs[0].value, "2");
  EXPECT_EQ(all.result.kvs[0].version, 2);
  EXPECT_EQ(all.result.kvs[0].create_revision, 2);
  EXPECT_EQ(all.result.kvs[0].mod_revision, 3);
  EXPECT_EQ(all.result.kvs[1].key, "/c");
  EXPECT_EQ(put(loop_, *store, "/d", "4"), last + 1);
  // The old session is gone with the process.
  EXPECT_EQ(close_session(loop_, *store, lease).code, StoreCode::kLeaseNotFound);
  // The in-memory history starts at the reopen.
  WatchRecorder watch;
  watch.start(*store, "/", last);
  ASSERT_TRUE(loop_.run_until([&] { return watch.failure().has_value(); }));
  EXPECT_EQ(watch.failure()->code, StoreCode::kCompacted);
}

TEST_F(LocalStoreTest, ATornLastRecordIsDropped) {
  {
    auto store = open();
    put(loop_, *store, "/a", "1");
    put(loop_, *store, "/b", "2");
  }
  const auto size = std::filesystem::file_size(journal());
  std::filesystem::resize_file(journal(), size - 3);  // the last write cut short
  {
    auto store = open();
    auto all = get(loop_, *store, "/", true);
    ASSERT_EQ(all.result.kvs.size(), 1u);
    EXPECT_EQ(all.result.kvs[0].key, "/a");
    put(loop_, *store, "/c", "3");  // appends after the last whole record
  }
  {
    // A tail of zeros (size grew, data never written) is torn too.
    std::ofstream out(journal(), std::ios::app | std::ios::binary);
    out << std::string(40, '\0');
  }
  auto store = open();
  auto all = get(loop_, *store, "/", true);
  ASSERT_EQ(all.result.kvs.size(), 2u);
  EXPECT_EQ(all.result.kvs[1].key, "/c");
}

TEST_F(LocalStoreTest, DamageBeforeTheLastRecordIsAnError) {
  {
    auto store = open();
    put(loop_, *store, "/a", "first value");
    put(loop_, *store, "/b", "second value");
  }
  {
    std::fstream file(journal(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(8 + 8 + 5);  // inside the first record's payload
    file.put('#');
  }
  try {
    open();
    FAIL() << "a corrupt journal was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("corrupt at offset 8"));
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

TEST_F(LocalStoreTest, TheJournalRollsIntoASnapshot) {
  int64_t last = 0;
  {
    auto store = open(2048);
    for (int i = 0; i < 200; ++i) last = put(loop_, *store, "/k/" + std::to_string(i % 50), std::to_string(i));
    EXPECT_TRUE(std::filesystem::exists(snapshot()));
    EXPECT_LT(std::filesystem::file_size(journal()), 2048u + 200u);
  }
  EXPECT_FALSE(std::filesystem::exists(snapshot() + ".tmp"));
  auto store = open(2048);
  auto all = get(loop_, *store, "/k/", true);
  EXPECT_EQ(all.result.revision, last);
  ASSERT_EQ(all.result.kvs.size(), 50u);
  for (const auto& kv : all.result.kvs) {
    EXPECT_EQ(kv.version, 4) << kv.key;
    EXPECT_EQ(kv.value, std::to_string(150 + std::stoi(kv.key.substr(3)))) << kv.key;
  }
}

TEST_F(LocalStoreTest, ACorruptSnapshotIsAnError) {
  {
    auto store = open(256);
    for (int i = 0; i < 20; ++i) put(loop_, *store, "/k/" + std::to_string(i), "v");
  }
  ASSERT_TRUE(std::filesystem::exists(snapshot()));
  std::filesystem::resize_file(snapshot(), std::filesystem::file_size(snapshot()) - 1);
  try {
    open();
    FAIL() << "a corrupt snapshot was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("snapshot"));
  }
}

TEST_F(LocalStoreTest, OneStorePerDirectory) {
  auto store = open();
  try {
    open();
    FAIL() << "a second store opened the same directory";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("in use"));
  }
}

TEST_F(LocalStoreTest, SessionsAreNeverLost) {
  auto store = open();
  auto lost = std::make_shared<std::atomic<int>>(0);
  auto session = open_session(loop_, *store, 100, 20, lost);
  ASSERT_TRUE(session.status.ok());
  put(loop_, *store, "/mine", "1", session.lease);
  loop_.run_for(500ms);
  EXPECT_EQ(*lost, 0);
  EXPECT_EQ(get(loop_, *store, "/mine").result.kvs.size(), 1u);
}

TEST_F(LocalStoreTest, EveryWriteIsInTheJournalBeforeItsCallback) {
  auto store = open();
  bool done = false;
  store->txn(Txn{{}, {TxnOp::put("/durable", "yes")}, {}}, [&](StoreStatus status, TxnResult) {
    EXPECT_TRUE(status.ok());
    std::ifstream in(journal(), std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(data.find("/durable"), std::string::npos);
    done = true;
  });
  ASSERT_TRUE(loop_.run_until([&] { return done; }));
  EXPECT_THAT(store->describe(), HasSubstr("local ("));
  EXPECT_TRUE(store->health().reachable);
}

}  // namespace
}  // namespace runnel::cluster::test
