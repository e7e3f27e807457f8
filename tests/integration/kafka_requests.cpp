#include "kafka_requests.h"

#include "raw_connection.h"

namespace runnel::it {

Bytes RequestFrame(std::int16_t api_key, std::int16_t version, std::int32_t correlation_id, const Bytes& body,
                   bool flexible_header, const std::optional<std::string>& client_id) {
  WireWriter msg;
  msg.i16(api_key).i16(version).i32(correlation_id).nullable_string(client_id);
  if (flexible_header) msg.empty_tagged_fields();
  msg.raw(body);
  WireWriter frame;
  frame.i32(static_cast<std::int32_t>(msg.size())).raw(msg.data());
  return frame.data();
}

Bytes ApiVersionsV0Request(std::int32_t correlation_id) {
  return RequestFrame(api::kApiVersions, 0, correlation_id, {});
}

Bytes ApiVersionsFlexibleRequest(std::int16_t version, std::int32_t correlation_id) {
  WireWriter body;
  body.compact_string("runnel-it").compact_string("1.0").empty_tagged_fields();
  return RequestFrame(api::kApiVersions, version, correlation_id, body.data(), /*flexible_header=*/true);
}

std::optional<ApiRange> ApiVersionsV0Response::find(std::int16_t key) const {
  for (const auto& a : apis) {
    if (a.key == key) return a;
  }
  return std::nullopt;
}

ApiVersionsV0Response ParseApiVersionsV0Response(const Bytes& payload) {
  ApiVersionsV0Response r;
  WireReader in(payload);
  r.correlation_id = in.i32();
  r.error = in.i16();
  const std::int32_t n = in.i32();
  for (std::int32_t i = 0; i < n && !in.failed() && i < 10000; ++i) {
    ApiRange a;
    a.key = in.i16();
    a.min = in.i16();
    a.max = in.i16();
    r.apis.push_back(a);
  }
  r.parsed = !in.failed();
  return r;
}

Bytes MetadataV4Request(std::int32_t correlation_id, const std::optional<std::vector<std::string>>& topics,
                        bool allow_auto_create) {
  WireWriter body;
  if (!topics) {
    body.i32(-1);
  } else {
    body.i32(static_cast<std::int32_t>(topics->size()));
    for (const auto& t : *topics) body.string(t);
  }
  body.boolean(allow_auto_create);
  return RequestFrame(api::kMetadata, 4, correlation_id, body.data());
}

const MetadataTopicInfo* MetadataV4Response::find(const std::string& name) const {
  for (const auto& t : topics) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

MetadataV4Response ParseMetadataV4Response(const Bytes& payload) {
  MetadataV4Response r;
  WireReader in(payload);
  r.correlation_id = in.i32();
  in.i32();  // throttle
  const std::int32_t brokers = in.i32();
  for (std::int32_t i = 0; i < brokers && !in.failed() && i < 10000; ++i) {
    in.i32();
    in.string();
    in.i32();
    in.nullable_string();
    ++r.broker_count;
  }
  in.nullable_string();  // cluster id
  in.i32();              // controller id
  const std::int32_t topics = in.i32();
  for (std::int32_t i = 0; i < topics && !in.failed() && i < 100000; ++i) {
    MetadataTopicInfo t;
    t.error = in.i16();
    t.name = in.string();
    in.boolean();  // is_internal
    const std::int32_t partitions = in.i32();
    for (std::int32_t p = 0; p < partitions && !in.failed() && p < 100000; ++p) {
      t.partition_errors.push_back(in.i16());
      in.i32();  // index
      in.i32();  // leader
      const std::int32_t replicas = in.i32();
      for (std::int32_t k = 0; k < replicas && !in.failed() && k < 1000; ++k) in.i32();
      const std::int32_t isr = in.i32();
      for (std::int32_t k = 0; k < isr && !in.failed() && k < 1000; ++k) in.i32();
    }
    r.topics.push_back(std::move(t));
  }
  r.parsed = !in.failed();
  return r;
}

Bytes ProduceV3Request(std::int32_t correlation_id, const std::string& topic, std::int32_t partition,
                       const Bytes& records, std::int16_t acks, std::int32_t timeout_ms) {
  WireWriter body;
  body.nullable_string(std::nullopt);  // transactional id
  body.i16(acks).i32(timeout_ms);
  body.i32(1).string(topic);
  body.i32(1).i32(partition).bytes(records);
  return RequestFrame(api::kProduce, 3, correlation_id, body.data());
}

ProduceV3Response ParseProduceV3Response(const Bytes& payload) {
  ProduceV3Response r;
  WireReader in(payload);
  r.correlation_id = in.i32();
  const std::int32_t topics = in.i32();
  for (std::int32_t i = 0; i < topics && !in.failed() && i < 10000; ++i) {
    const std::string name = in.string();
    const std::int32_t partitions = in.i32();
    for (std::int32_t p = 0; p < partitions && !in.failed() && p < 10000; ++p) {
      ProducePartitionResult pr;
      pr.topic = name;
      pr.partition = in.i32();
      pr.error = in.i16();
      pr.base_offset = in.i64();
      in.i64();  // log append time
      r.partitions.push_back(pr);
    }
  }
  in.i32();  // throttle
  r.parsed = !in.failed();
  return r;
}

std::optional<Bytes> RoundTrip(std::uint16_t port, const Bytes& frame, std::chrono::milliseconds timeout,
                               std::string* why) {
  RawConnection conn;
  if (!conn.connect(port) || !conn.send(frame)) {
    if (why != nullptr) *why = conn.last_error();
    return std::nullopt;
  }
  auto response = conn.read_frame(timeout);
  if (!response && why != nullptr) *why = conn.last_error();
  return response;
}

}  // namespace runnel::it
