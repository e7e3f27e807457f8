#include "cluster/etcd_convert.h"

#include <fmt/format.h>

namespace runnel::cluster::etcd {
namespace {

const char* code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

void set_op(etcdserverpb::RequestOp* out, const TxnOp& op) {
  switch (op.type) {
    case TxnOp::Type::kGet: *out->mutable_request_range() = range_request(op.key, op.range_end); break;
    case TxnOp::Type::kPut: {
      auto* put = out->mutable_request_put();
      put->set_key(op.key);
      put->set_value(op.value);
      put->set_lease(op.lease);
      break;
    }
    case TxnOp::Type::kDelete: {
      auto* del = out->mutable_request_delete_range();
      del->set_key(etcd_key(op.key, op.range_end));
      del->set_range_end(op.range_end);
      break;
    }
  }
}

}  // namespace

StoreStatus to_store_status(const std::string& call, const grpc::Status& status) {
  if (status.ok()) return {};
  std::string message = fmt::format("etcd {}: {}: {}", call, code_name(status.error_code()), status.error_message());
  for (auto& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  StoreCode code = StoreCode::kInvalid;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN: code = StoreCode::kUnavailable; break;
    case grpc::StatusCode::NOT_FOUND: code = StoreCode::kLeaseNotFound; break;  // etcd's only NOT_FOUND
    default: break;
  }
  return {code, std::move(message)};
}

std::string etcd_key(const std::string& key, const std::string& range_end) {
  return key.empty() && !range_end.empty() ? std::string(1, '\0') : key;
}

int64_t lease_seconds(int64_t ttl_ms) { return ttl_ms <= 1000 ? 1 : (ttl_ms + 999) / 1000; }

etcdserverpb::RangeRequest range_request(const std::string& key, const std::string& range_end) {
  etcdserverpb::RangeRequest request;
  request.set_key(etcd_key(key, range_end));
  request.set_range_end(range_end);
  return request;
}

etcdserverpb::TxnRequest txn_request(const Txn& txn) {
  etcdserverpb::TxnRequest request;
  for (const auto& c : txn.compares) {
    auto* out = request.add_compare();
    out->set_key(c.key);
    switch (c.result) {
      case Compare::Result::kEqual: out->set_result(etcdserverpb::Compare::EQUAL); break;
      case Compare::Result::kNotEqual: out->set_result(etcdserverpb::Compare::NOT_EQUAL); break;
      case Compare::Result::kLess: out->set_result(etcdserverpb::Compare::LESS); break;
      case Compare::Result::kGreater: out->set_result(etcdserverpb::Compare::GREATER); break;
    }
    switch (c.target) {
      case Compare::Target::kVersion:
        out->set_target(etcdserverpb::Compare::VERSION);
        out->set_version(c.number);
        break;
      case Compare::Target::kCreateRevision:
        out->set_target(etcdserverpb::Compare::CREATE);
        out->set_create_revision(c.number);
        break;
      case Compare::Target::kModRevision:
        out->set_target(etcdserverpb::Compare::MOD);
        out->set_mod_revision(c.number);
        break;
      case Compare::Target::kValue:
        out->set_target(etcdserverpb::Compare::VALUE);
        out->set_value(c.value);
        break;
      case Compare::Target::kLease:
        out->set_target(etcdserverpb::Compare::LEASE);
        out->set_lease(c.number);
        break;
    }
  }
  for (const auto& op : txn.success) set_op(request.add_success(), op);
  for (const auto& op : txn.failure) set_op(request.add_failure(), op);
  return request;
}

KeyValue from_proto(const mvccpb::KeyValue& kv) {
  return {kv.key(), kv.value(), kv.create_revision(), kv.mod_revision(), kv.version(), kv.lease()};
}

GetResult get_result(const etcdserverpb::RangeResponse& response) {
  GetResult result;
  result.revision = response.header().revision();
  result.kvs.reserve(static_cast<size_t>(response.kvs_size()));
  for (const auto& kv : response.kvs()) result.kvs.push_back(from_proto(kv));
  return result;
}

TxnResult txn_result(const etcdserverpb::TxnResponse& response) {
  TxnResult result;
  result.succeeded = response.succeeded();
  result.revision = response.header().revision();
  for (const auto& op : response.responses()) {
    if (op.has_response_range()) result.gets.push_back(get_result(op.response_range()).kvs);
  }
  return result;
}

WatchEvent from_proto(const mvccpb::Event& event) {
  WatchEvent out;
  out.type = event.type() == mvccpb::Event::DELETE ? WatchEvent::Type::kDelete : WatchEvent::Type::kPut;
  out.kv = from_proto(event.kv());
  return out;
}

}  // namespace runnel::cluster::etcd
