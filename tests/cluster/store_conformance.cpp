// The MetadataStore contract, checked the same way on every store.
#include "store_conformance.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <random>

namespace runnel::cluster::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> keys_of(const std::vector<KeyValue>& kvs) {
  std::vector<std::string> out;
  for (const auto& kv : kvs) out.push_back(kv.key);
  return out;
}

TEST_P(StoreConformance, MissingKeyReadsEmptyAtTheCurrentRevision) {
  auto got = get(loop_, store(), "/missing");
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  EXPECT_THAT(got.result.kvs, IsEmpty());
  EXPECT_GT(got.result.revision, 0);
}

TEST_P(StoreConformance, PutsKeepRevisionsAndVersionsAsEtcd) {
  const int64_t start = get(loop_, store(), "/k").result.revision;
  const int64_t r1 = put(loop_, store(), "/k", "one");
  EXPECT_EQ(r1, start + 1);  // one revision per write
  auto first = get(loop_, store(), "/k");
  ASSERT_EQ(first.result.kvs.size(), 1u);
  EXPECT_EQ(first.result.kvs[0].value, "one");
  EXPECT_EQ(first.result.kvs[0].create_revision, r1);
  EXPECT_EQ(first.result.kvs[0].mod_revision, r1);
  EXPECT_EQ(first.result.kvs[0].version, 1);
  EXPECT_EQ(first.result.kvs[0].lease, 0);
  EXPECT_EQ(first.result.revision, r1);

  const int64_t r2 = put(loop_, store(), "/k", "two");
  EXPECT_EQ(r2, r1 + 1);
  auto second = get(loop_, store(), "/k");
  ASSERT_EQ(second.result.kvs.size(), 1u);
  EXPECT_EQ(second.result.kvs[0].create_revision, r1);
  EXPECT_EQ(second.result.kvs[0].mod_revision, r2);
  EXPECT_EQ(second.result.kvs[0].version, 2);

  // A delete ends the key's life: a new put starts over at version 1.
  const int64_t r3 = del(loop_, store(), "/k");
  EXPECT_EQ(r3, r2 + 1);
  const int64_t r4 = put(loop_, store(), "/k", "three");
  auto third = get(loop_, store(), "/k");
  ASSERT_EQ(third.result.kvs.size(), 1u);
  EXPECT_EQ(third.result.kvs[0].create_revision, r4);
  EXPECT_EQ(third.result.kvs[0].version, 1);
  EXPECT_GE(store().health().revision, r4);
  EXPECT_TRUE(store().health().reachable);
}

TEST_P(StoreConformance, PrefixGetIsSortedByBytesAndBounded) {
  std::vector<std::string> inside = {"/p/b", "/p/a", "/p/a/x", "/p/\x7f", std::string("/p/\xff\x01", 5), "/p/0"};
  std::shuffle(inside.begin(), inside.end(), std::mt19937(7));
  for (const auto& key : inside) put(loop_, store(), key, "v");
  for (const auto& key : {"/p", "/p0", "/o", "/q"}) put(loop_, store(), key, "outside");
  auto got = get(loop_, store(), "/p/", true);
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  std::vector<std::string> expected = inside;
  std::sort(expected.begin(), expected.end());  // std::string orders bytes unsigned, as etcd
  EXPECT_EQ(keys_of(got.result.kvs), expected);

  // A prefix ending in 0xff: its range ends after the previous byte.
  const std::string ff_prefix("/r\xff", 3);
  put(loop_, store(), ff_prefix + "a", "v");
  put(loop_, store(), "/s", "outside");
  EXPECT_THAT(keys_of(get(loop_, store(), ff_prefix, true).result.kvs), ElementsAre(ff_prefix + "a"));
}

TEST_P(StoreConformance, KeysAndValuesAreBinarySafe) {
  const std::string key("/bin/\0\xff", 7);
  const std::string value("a\0b\xff", 4);
  put(loop_, store(), key, value);
  auto got = get(loop_, store(), key);
  ASSERT_EQ(got.result.kvs.size(), 1u);
  EXPECT_EQ(got.result.kvs[0].key, key);
  EXPECT_EQ(got.result.kvs[0].value, value);
}

TEST_P(StoreConformance, CompareEveryTargetWithEveryResult) {
  const int64_t revision = put(loop_, store(), "/c/k", "m");
  struct Target {
    Compare::Target target;
    int64_t actual;
  };
  const Target targets[] = {{Compare::Target::kVersion, 1},
                            {Compare::Target::kCreateRevision, revision},
                            {Compare::Target::kModRevision, revision},
                            {Compare::Target::kLease, 0},
                            {Compare::Target::kValue, 0}};
  const Compare::Result results[] = {Compare::Result::kEqual, Compare::Result::kNotEqual, Compare::Result::kLess,
                                     Compare::Result::kGreater};
  for (const auto& [target, actual] : targets) {
    for (int offset : {-1, 0, 1}) {
      for (auto result : results) {
        Compare compare{"/c/k", target, result, actual + offset, {}};
        if (target == Compare::Target::kValue) compare.value = offset < 0 ? "a" : (offset == 0 ? "m" : "z");
        // The stored field compared with the operand: field - operand has the sign of -offset.
        const int sign = -offset;
        const bool expected = result == Compare::Result::kEqual      ? sign == 0
                              : result == Compare::Result::kNotEqual ? sign != 0
                              : result == Compare::Result::kLess     ? sign < 0
                                                                     : sign > 0;
        auto outcome = txn(loop_, store(), Txn{{compare}, {}, {}});
        ASSERT_TRUE(outcome.status.ok()) << outcome.status.message;
        EXPECT_EQ(outcome.result.succeeded, expected)
            << "target " << static_cast<int>(target) << " result " << static_cast<int>(result) << " offset " << offset;
      }
    }
  }
}

TEST_P(StoreConformance, CompareOnAnAbsentKey) {
  auto holds = [&](Compare compare) {
    auto outcome = txn(loop_, store(), Txn{{std::move(compare)}, {}, {}});
    EXPECT_TRUE(outcome.status.ok()) << outcome.status.message;
    return outcome.result.succeeded;
  };
  EXPECT_TRUE(holds(Compare::absent("/none")));
  EXPECT_FALSE(holds(Compare::exists("/none")));
  EXPECT_TRUE(holds({"/none", Compare::Target::kVersion, Compare::Result::kEqual, 0, {}}));
  EXPECT_TRUE(holds({"/none", Compare::Target::kModRevision, Compare::Result::kLess, 1, {}}));
  EXPECT_TRUE(holds({"/none", Compare::Target::kLease, Compare::Result::kEqual, 0, {}}));
  // As etcd: any value compare on a missing key fails, even "not equal".
  EXPECT_FALSE(holds(Compare::value_is("/none", "")));
  EXPECT_FALSE(holds({"/none", Compare::Target::kValue, Compare::Result::kNotEqual, 0, "x"}));

  put(loop_, store(), "/some", "v");
  EXPECT_FALSE(holds(Compare::absent("/some")));
  EXPECT_TRUE(holds(Compare::exists("/some")));
  EXPECT_TRUE(holds(Compare::value_is("/some", "v")));
}

TEST_P(StoreConformance, TxnRunsOneBranchAtOneRevisionWithItsGets) {
  put(loop_, store(), "/t/a", "1");
  Txn t;
  t.compares = {Compare::value_is("/t/a", "1"), Compare::absent("/t/b")};
  t.success = {TxnOp::get("/t/a"), TxnOp::put("/t/b", "x"), TxnOp::put("/t/c", "y"), TxnOp::get_prefix("/t/")};
  t.failure = {TxnOp::get_prefix("/t/"), TxnOp::put("/t/f", "failed")};
  const int64_t before = get(loop_, store(), "/t/a").result.revision;

  auto first = txn(loop_, store(), t);
  ASSERT_TRUE(first.status.ok()) << first.status.message;
  EXPECT_TRUE(first.result.succeeded);
  EXPECT_EQ(first.result.revision, before + 1);  // two puts, one revision
  ASSERT_EQ(first.result.gets.size(), 2u);
  EXPECT_THAT(keys_of(first.result.gets[0]), ElementsAre("/t/a"));
  // A get sees the writes before it in the same transaction.
  EXPECT_THAT(keys_of(first.result.gets[1]), ElementsAre("/t/a", "/t/b", "/t/c"));
  EXPECT_EQ(first.result.gets[1][1].mod_revision, before + 1);
  EXPECT_EQ(first.result.gets[1][2].create_revision, before + 1);

  // Now /t/b exists: the failure branch runs.
  auto second = txn(loop_, store(), t);
  ASSERT_TRUE(second.status.ok()) << second.status.message;
  EXPECT_FALSE(second.result.succeeded);
  EXPECT_EQ(second.result.revision, before + 2);
  ASSERT_EQ(second.result.gets.size(), 1u);
  EXPECT_THAT(keys_of(second.result.gets[0]), ElementsAre("/t/a", "/t/b", "/t/c"));
  EXPECT_EQ(get(loop_, store(), "/t/f").result.kvs.size(), 1u);
}

TEST_P(StoreConformance, ReadsAndEmptyDeletesMakeNoRevision) {
  const int64_t r = put(loop_, store(), "/n/a", "1");
  auto read = txn(loop_, store(), Txn{{Compare::exists("/n/a")}, {TxnOp::get("/n/a")}, {}});
  ASSERT_TRUE(read.status.ok());
  EXPECT_EQ(read.result.revision, r);
  auto nothing = txn(loop_, store(), Txn{{}, {TxnOp::del("/n/none"), TxnOp::del_prefix("/n/zzz/")}, {}});
  ASSERT_TRUE(nothing.status.ok());
  EXPECT_EQ(nothing.result.revision, r);
  EXPECT_EQ(get(loop_, store(), "/n/a").result.revision, r);
}

TEST_P(StoreConformance, RefusedTransactionsChangeNothing) {
  const int64_t r = put(loop_, store(), "/d/a", "1");
  auto duplicate = txn(loop_, store(), Txn{{}, {TxnOp::put("/d/x", "1"), TxnOp::put("/d/x", "2")}, {}});
  EXPECT_EQ(duplicate.status.code, StoreCode::kInvalid) << duplicate.status.message;
  auto put_and_delete = txn(loop_, store(), Txn{{}, {TxnOp::del_prefix("/d/"), TxnOp::put("/d/y", "1")}, {}});
  EXPECT_EQ(put_and_delete.status.code, StoreCode::kInvalid) << put_and_delete.status.message;
  auto no_lease = txn(loop_, store(), Txn{{}, {TxnOp::put("/d/z", "1", 0x7a7a7a)}, {}});
  EXPECT_EQ(no_lease.status.code, StoreCode::kLeaseNotFound) << no_lease.status.message;
  auto after = get(loop_, store(), "/d/", true);
  EXPECT_THAT(keys_of(after.result.kvs), ElementsAre("/d/a"));
  EXPECT_EQ(after.result.revision, r);
}

TEST_P(StoreConformance, DeletePrefixRemovesExactlyThePrefix) {
  for (const auto& key : {"/x/1", "/x/2", "/x/2/deeper", "/x", "/x0", "/w"}) put(loop_, store(), key, "v");
  const int64_t before = get(loop_, store(), "/x").result.revision;
  auto outcome = txn(loop_, store(), Txn{{}, {TxnOp::del_prefix("/x/")}, {}});
  ASSERT_TRUE(outcome.status.ok());
  EXPECT_EQ(outcome.result.revision, before + 1);
  EXPECT_THAT(get(loop_, store(), "/x/", true).result.kvs, IsEmpty());
  for (const auto& key : {"/x", "/x0", "/w"}) EXPECT_EQ(get(loop_, store(), key).result.kvs.size(), 1u) << key;
}

TEST_P(StoreConformance, SessionKeysVanishWhenTheSessionCloses) {
  auto session = open_session(loop_, store(), 3000, 500);
  ASSERT_TRUE(session.status.ok()) << session.status.message;
  ASSERT_NE(session.lease, 0);
  const int64_t mine = put(loop_, store(), "/s/mine", "1", session.lease);
  put(loop_, store(), "/s/kept", "2");
  auto bound = get(loop_, store(), "/s/mine");
  ASSERT_EQ(bound.result.kvs.size(), 1u);
  EXPECT_EQ(bound.result.kvs[0].lease, session.lease);
  auto lease_compare = txn(loop_, store(), Txn{{{"/s/mine", Compare::Target::kLease, Compare::Result::kEqual,
                                                 session.lease, {}}},
                                               {},
                                               {}});
  EXPECT_TRUE(lease_compare.result.succeeded);

  WatchRecorder watch;
  watch.start(store(), "/s/", mine + 1);
  const StoreStatus closed = close_session(loop_, store(), session.lease);
  ASSERT_TRUE(closed.ok()) << closed.message;
  EXPECT_THAT(get(loop_, store(), "/s/mine").result.kvs, IsEmpty());
  EXPECT_EQ(get(loop_, store(), "/s/kept").result.kvs.size(), 1u);
  ASSERT_TRUE(loop_.run_until([&] { return watch.event_count() >= 2; }));
  const auto events = watch.events();
  EXPECT_EQ(events[0].rfind("put /s/kept=2@", 0), 0u) << events[0];
  EXPECT_EQ(events[1].rfind("del /s/mine@", 0), 0u) << events[1];
  EXPECT_THAT(watch.violations(), IsEmpty());

  EXPECT_EQ(close_session(loop_, store(), session.lease).code, StoreCode::kLeaseNotFound);
  auto late_put = txn(loop_, store(), Txn{{}, {TxnOp::put("/s/late", "1", session.lease)}, {}});
  EXPECT_EQ(late_put.status.code, StoreCode::kLeaseNotFound);
}

TEST_P(StoreConformance, WatchDeliversChangesInOrder) {
  const int64_t start = get(loop_, store(), "/w/").result.revision;
  WatchRecorder watch;
  watch.start(store(), "/w/", start + 1);
  put(loop_, store(), "/w/a", "1");
  put(loop_, store(), "/elsewhere", "x");
  auto both = txn(loop_, store(), Txn{{}, {TxnOp::put("/w/b", "2"), TxnOp::put("/w/c", "3")}, {}});
  del(loop_, store(), "/w/a");
  const int64_t last = put(loop_, store(), "/w/b", "4");
  ASSERT_TRUE(loop_.run_until([&] { return watch.event_count() >= 5; }));
  const int64_t b = both.result.revision;
  EXPECT_THAT(watch.events(),
              ElementsAre("put /w/a=1@" + std::to_string(start + 1), "put /w/b=2@" + std::to_string(b),
                          "put /w/c=3@" + std::to_string(b), "del /w/a@" + std::to_string(b + 1),
                          "put /w/b=4@" + std::to_string(last)));
  // The two puts of one transaction arrive together.
  bool together = false;
  for (const auto& batch : watch.batches()) together = together || batch.events.size() >= 2;
  EXPECT_TRUE(together);
  // A delete carries the key and the deletion's revision only.
  for (const auto& batch : watch.batches()) {
    for (const auto& event : batch.events) {
      if (event.type != WatchEvent::Type::kDelete) continue;
      EXPECT_EQ(event.kv.value, "");
      EXPECT_EQ(event.kv.version, 0);
      EXPECT_EQ(event.kv.create_revision, 0);
    }
  }
  EXPECT_FALSE(watch.failure().has_value());
  EXPECT_THAT(watch.violations(), IsEmpty());
}

TEST_P(StoreConformance, WatchFromAnOldRevisionReplaysHistory) {
  const int64_t first = put(loop_, store(), "/h/a", "1");
  put(loop_, store(), "/h/b", "2");
  del(loop_, store(), "/h/a");
  const int64_t last = put(loop_, store(), "/h/c", "3");
  WatchRecorder watch;
  watch.start(store(), "/h/", first + 1);  // skips the first put
  ASSERT_TRUE(loop_.run_until([&] { return watch.event_count() >= 3; }));
  EXPECT_THAT(watch.events(), ElementsAre("put /h/b=2@" + std::to_string(first + 1),
                                          "del /h/a@" + std::to_string(first + 2),
                                          "put /h/c=3@" + std::to_string(last)));
  put(loop_, store(), "/h/d", "4");
  ASSERT_TRUE(loop_.run_until([&] { return watch.event_count() >= 4; }));
  EXPECT_THAT(watch.violations(), IsEmpty());
}

TEST_P(StoreConformance, WatchReportsProgressWithoutChanges) {
  WatchRecorder watch;
  watch.start(store(), "/quiet/", 0);  // from now
  const int64_t outside = put(loop_, store(), "/loud", "x");
  ASSERT_TRUE(loop_.run_until([&] { return watch.last_progress() >= outside; }))
      << "no progress report up to revision " << outside;
  EXPECT_EQ(watch.event_count(), 0u);
  // Progress keeps coming.
  const size_t batches = watch.batches().size();
  ASSERT_TRUE(loop_.run_until([&] { return watch.batches().size() > batches; }));
  put(loop_, store(), "/quiet/now", "1");
  ASSERT_TRUE(loop_.run_until([&] { return watch.event_count() == 1; }));
  EXPECT_THAT(watch.violations(), IsEmpty());
}

TEST_P(StoreConformance, WatchOfAForgottenRevisionFailsWithCompacted) {
  const int64_t first = put(loop_, store(), "/f/a", "1");
  put(loop_, store(), "/f/a", "2");
  const int64_t third = put(loop_, store(), "/f/a", "3");
  backend_->forget_history_before(loop_, store(), third);
  WatchRecorder watch;
  watch.start(store(), "/f/", first);
  ASSERT_TRUE(loop_.run_until([&] { return watch.failure().has_value(); }));
  EXPECT_EQ(watch.failure()->code, StoreCode::kCompacted) << watch.failure()->message;
  EXPECT_EQ(watch.event_count(), 0u);
  put(loop_, store(), "/f/a", "4");
  loop_.run_for(300ms);
  EXPECT_TRUE(watch.batches().empty());  // the watch has ended
  EXPECT_THAT(watch.violations(), IsEmpty());
}

TEST_P(StoreConformance, CallbacksNeverRunInsideTheCall) {
  int done = 0;
  store().get("/cb", false, [&](StoreStatus, GetResult) { ++done; });
  EXPECT_EQ(done, 0);
  store().txn(Txn{{}, {TxnOp::put("/cb", "1")}, {}}, [&](StoreStatus, TxnResult) { ++done; });
  EXPECT_EQ(done, 0);
  int64_t lease = 0;
  store().open_session(
      3000, 500,
      [&](StoreStatus, int64_t l) {
        lease = l;
        ++done;
      },
      [] {});
  EXPECT_EQ(done, 0);
  ASSERT_TRUE(loop_.run_until([&] { return done == 3; }));
  // Nor inside a call made from a callback.
  bool inner = false;
  bool outer = false;
  store().get("/cb", false, [&](StoreStatus, GetResult) {
    store().close_session(lease, [&](StoreStatus) { inner = true; });
    EXPECT_FALSE(inner);
    outer = true;
  });
  ASSERT_TRUE(loop_.run_until([&] { return outer && inner; }));
  bool failed = false;
  auto handle = store().watch("/cb", 1, [](std::vector<WatchEvent>, int64_t) {}, [&](StoreStatus) { failed = true; });
  EXPECT_FALSE(failed);
}

TEST_P(StoreConformance, OperationsCompleteInIssueOrder) {
  std::vector<int> order;
  std::vector<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    store().txn(Txn{{}, {TxnOp::put("/o/k", std::to_string(i))}, {}}, [&, i](StoreStatus s, TxnResult) {
      EXPECT_TRUE(s.ok()) << s.message;
      order.push_back(i);
    });
    store().get("/o/k", false, [&, i](StoreStatus, GetResult r) {
      order.push_back(100 + i);
      seen.push_back(r.kvs.empty() ? "" : r.kvs[0].value);
    });
  }
  ASSERT_TRUE(loop_.run_until([&] { return order.size() == 40; }));
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(order[2 * i], i);
    EXPECT_EQ(order[2 * i + 1], 100 + i);
    EXPECT_EQ(seen[i], std::to_string(i));  // each get sees the put issued just before it
  }
}

TEST_P(StoreConformance, DestroyingTheStoreWithOperationsInFlightRunsNoCallback) {
  auto calls = std::make_shared<int>(0);
  WatchRecorder watch;
  watch.start(store(), "/gone/", 1);
  for (int i = 0; i < 20; ++i) {
    store().txn(Txn{{}, {TxnOp::put("/gone/" + std::to_string(i), "v")}, {}}, [calls](StoreStatus, TxnResult) { ++*calls; });
    store().get("/gone/", true, [calls](StoreStatus, GetResult) { ++*calls; });
  }
  store().open_session(3000, 500, [calls](StoreStatus, int64_t) { ++*calls; }, [calls] { ++*calls; });
  const auto started = std::chrono::steady_clock::now();
  store_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  loop_.run_for(500ms);
  EXPECT_EQ(*calls, 0);
  EXPECT_TRUE(watch.batches().empty());
}

TEST_P(StoreConformance, DestroyingTheStoreInsideACallbackStopsTheRest) {
  int calls = 0;
  store().get("/x", false, [&](StoreStatus, GetResult) {
    ++calls;
    store_.reset();
  });
  store().get("/x", false, [&](StoreStatus, GetResult) { ++calls; });
  ASSERT_TRUE(loop_.run_until([&] { return calls > 0; }));
  loop_.run_for(300ms);
  EXPECT_EQ(calls, 1);
}

TEST_P(StoreConformance, DestroyingAWatchHandleEndsTheWatch) {
  // From the put's own revision: a watch "from now" may reach the store after
  // the put on a busy machine and rightly miss it.
  const int64_t revision = put(loop_, store(), "/e/1", "a");
  WatchRecorder watch;
  watch.start(store(), "/e/", revision);
  ASSERT_TRUE(loop_.run_until([&] { return watch.event_count() == 1; }));
  watch.stop();
  const size_t batches = watch.batches().size();
  put(loop_, store(), "/e/2", "b");
  loop_.run_for(600ms);  // longer than the progress interval
  EXPECT_EQ(watch.batches().size(), batches);
}

}  // namespace
}  // namespace runnel::cluster::test
