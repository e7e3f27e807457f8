#include "cluster/etcd_store.h"

#include "cluster/etcd_client.h"

namespace runnel::cluster {

EtcdStore::EtcdStore(asio::any_io_executor executor, EtcdOptions options)
    : client_(std::make_unique<etcd::EtcdClient>(std::move(executor), std::move(options))) {}

EtcdStore::~EtcdStore() = default;

std::string EtcdStore::describe() const { return client_->describe(); }

void EtcdStore::get(const std::string& key, bool prefix, GetCallback done) { client_->get(key, prefix, std::move(done)); }

void EtcdStore::txn(Txn txn, TxnCallback done) { client_->txn(txn, std::move(done)); }

void EtcdStore::open_session(int64_t ttl_ms, int64_t keepalive_interval_ms, SessionCallback opened,
                             std::function<void()> lost) {
  client_->open_session(ttl_ms, keepalive_interval_ms, std::move(opened), std::move(lost));
}

void EtcdStore::close_session(int64_t lease, DoneCallback done) { client_->close_session(lease, std::move(done)); }

std::unique_ptr<WatchHandle> EtcdStore::watch(const std::string& prefix, int64_t from_revision,
                                              WatchCallback on_events, std::function<void(StoreStatus)> failed) {
  return client_->watch(prefix, from_revision, std::move(on_events), std::move(failed));
}

StoreHealth EtcdStore::health() const { return client_->health(); }

}  // namespace runnel::cluster
