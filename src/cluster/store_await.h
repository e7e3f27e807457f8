#pragma once
// The metadata store's callbacks as coroutines: `auto [status, result] = co_await co_get(store, key, true);`
#include <cstdint>
#include <utility>

#include <asio/awaitable.hpp>

#include "cluster/metadata_store.h"
#include "common/await_callback.h"

namespace runnel::cluster {

inline asio::awaitable<std::pair<StoreStatus, GetResult>> co_get(MetadataStore& store, const std::string& key,
                                                                 bool prefix) {
  co_return co_await await_callback<std::pair<StoreStatus, GetResult>>([&](auto done) {
    store.get(key, prefix, [done](StoreStatus status, GetResult result) { done({std::move(status), std::move(result)}); });
  });
}

inline asio::awaitable<std::pair<StoreStatus, TxnResult>> co_txn(MetadataStore& store, Txn txn) {
  co_return co_await await_callback<std::pair<StoreStatus, TxnResult>>([&](auto done) {
    store.txn(std::move(txn), [done](StoreStatus status, TxnResult result) { done({std::move(status), std::move(result)}); });
  });
}

inline asio::awaitable<std::pair<StoreStatus, int64_t>> co_open_session(MetadataStore& store, int64_t ttl_ms,
                                                                        int64_t keepalive_ms,
                                                                        std::function<void()> lost) {
  co_return co_await await_callback<std::pair<StoreStatus, int64_t>>([&](auto done) {
    store.open_session(ttl_ms, keepalive_ms, [done](StoreStatus status, int64_t lease) { done({std::move(status), lease}); },
                       std::move(lost));
  });
}

inline asio::awaitable<StoreStatus> co_close_session(MetadataStore& store, int64_t lease) {
  co_return co_await await_callback<StoreStatus>([&](auto done) { store.close_session(lease, done); });
}

}  // namespace runnel::cluster
