#include "cluster/producer_id_allocator.h"

#include <spdlog/spdlog.h>

#include "cluster/store_await.h"

namespace runnel::cluster {

asio::awaitable<std::optional<int64_t>> ProducerIdAllocator::allocate() {
  auto guard = co_await mutex_.lock();
  if (next_ >= end_) {
    const bool taken = co_await take_block();
    if (!taken) co_return std::nullopt;
  }
  co_return next_++;
}

asio::awaitable<bool> ProducerIdAllocator::take_block() {
  const std::string key = keys_.producer_id_block();
  // A few attempts: other brokers may take blocks at the same moment.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto [status, current] = co_await co_get(store_, key, false);
    if (!status.ok()) {
      spdlog::warn("producer ids: cannot read the block counter: {}", status.message);
      co_return false;
    }
    int64_t start = 0;
    int64_t revision = 0;
    if (!current.kvs.empty()) {
      start = decode_int(current.kvs.front().value).value_or(-1);
      revision = current.kvs.front().mod_revision;
      if (start < 0) {
        spdlog::error("producer ids: {} holds '{}', not a number", key, current.kvs.front().value);
        co_return false;
      }
    }
    Txn txn;
    txn.compares = {revision > 0 ? Compare::mod_revision_is(key, revision) : Compare::absent(key)};
    txn.success = {TxnOp::put(key, std::to_string(start + kBlockSize))};
    auto [txn_status, result] = co_await co_txn(store_, txn);
    if (!txn_status.ok()) co_return false;
    if (result.succeeded) {
      next_ = start;
      end_ = start + kBlockSize;
      co_return true;
    }
  }
  co_return false;
}

}  // namespace runnel::cluster
