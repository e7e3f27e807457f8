#pragma once
// Between the metadata-store types and etcd's protobuf messages.
#include <string>

#include <grpcpp/support/status.h>

#include "cluster/metadata_store.h"
#include "rpc.pb.h"

namespace runnel::cluster::etcd {

// kUnavailable for transport trouble and deadlines, kLeaseNotFound for etcd's
// NOT_FOUND (a lease), kInvalid for a request etcd refused. One line.
StoreStatus to_store_status(const std::string& call, const grpc::Status& status);

// etcd rejects an empty key even with a range end: the whole key space is ["\0", "\0").
std::string etcd_key(const std::string& key, const std::string& range_end);

// Lease TTL in whole seconds, rounded up, at least 1 (etcd may raise it further).
int64_t lease_seconds(int64_t ttl_ms);

etcdserverpb::RangeRequest range_request(const std::string& key, const std::string& range_end);
etcdserverpb::TxnRequest txn_request(const Txn& txn);

KeyValue from_proto(const mvccpb::KeyValue& kv);
GetResult get_result(const etcdserverpb::RangeResponse& response);
TxnResult txn_result(const etcdserverpb::TxnResponse& response);
WatchEvent from_proto(const mvccpb::Event& event);

}  // namespace runnel::cluster::etcd
