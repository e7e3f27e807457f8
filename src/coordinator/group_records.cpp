#include "coordinator/group_records.h"

#include <string>

#include "protocol/wire.h"

namespace runnel::coordinator {
namespace {

using protocol::DecodeError;
using protocol::Reader;
using protocol::Writer;

// Value version 4 is Kafka's first flexible version: compact strings/arrays and
// tagged-field sections.
constexpr int16_t kFirstFlexibleValueVersion = 4;
constexpr int16_t kMaxValueVersion = 4;

void finish(Reader& r, bool flexible) {
  if (flexible) r.skip_tagged_fields();
}

}  // namespace

Bytes encode_offset_commit_key(const OffsetCommitKey& key) {
  Bytes out;
  Writer w(out);
  w.write_int16(kOffsetCommitKeyVersion);
  w.write_string(key.group);
  w.write_string(key.topic);
  w.write_int32(key.partition);
  return out;
}

Bytes encode_offset_commit_value(const OffsetCommitValue& value) {
  Bytes out;
  Writer w(out);
  w.write_int16(kOffsetCommitValueVersion);
  w.write_int64(value.offset);
  w.write_int32(value.leader_epoch);
  w.write_string(value.metadata);
  w.write_int64(value.commit_timestamp);
  return out;
}

Bytes encode_group_metadata_key(const GroupMetadataKey& key) {
  Bytes out;
  Writer w(out);
  w.write_int16(kGroupMetadataKeyVersion);
  w.write_string(key.group);
  return out;
}

Bytes encode_group_metadata_value(const GroupMetadataValue& value) {
  Bytes out;
  Writer w(out);
  w.write_int16(kGroupMetadataValueVersion);
  w.write_string(value.protocol_type);
  w.write_int32(value.generation);
  w.write_nullable_string(value.protocol);
  w.write_nullable_string(value.leader);
  w.write_int64(value.current_state_timestamp);
  w.write_array_length(static_cast<int32_t>(value.members.size()));
  for (const auto& m : value.members) {
    w.write_string(m.member_id);
    w.write_nullable_string(m.group_instance_id);
    w.write_string(m.client_id);
    w.write_string(m.client_host);
    w.write_int32(m.rebalance_timeout_ms);
    w.write_int32(m.session_timeout_ms);
    w.write_bytes(m.subscription);
    w.write_bytes(m.assignment);
  }
  return out;
}

RecordKey decode_record_key(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  const int16_t version = r.read_int16();
  if (version == 0 || version == 1) {
    OffsetCommitKey key;
    key.group = r.read_string();
    key.topic = r.read_string();
    key.partition = r.read_int32();
    return key;
  }
  if (version == 2) {
    GroupMetadataKey key;
    key.group = r.read_string();
    return key;
  }
  return UnknownKey{version};
}

OffsetCommitValue decode_offset_commit_value(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  const int16_t version = r.read_int16();
  if (version < 0 || version > kMaxValueVersion) {
    throw DecodeError("unknown offset commit value version " + std::to_string(version));
  }
  const bool flexible = version >= kFirstFlexibleValueVersion;
  OffsetCommitValue value;
  value.offset = r.read_int64();
  if (version >= 3) value.leader_epoch = r.read_int32();
  value.metadata = r.read_string(flexible);
  value.commit_timestamp = r.read_int64();
  if (version == 1) value.expire_timestamp = r.read_int64();
  finish(r, flexible);
  return value;
}

GroupMetadataValue decode_group_metadata_value(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  const int16_t version = r.read_int16();
  if (version < 0 || version > kMaxValueVersion) {
    throw DecodeError("unknown group metadata value version " + std::to_string(version));
  }
  const bool flexible = version >= kFirstFlexibleValueVersion;
  GroupMetadataValue value;
  value.protocol_type = r.read_string(flexible);
  value.generation = r.read_int32();
  value.protocol = r.read_nullable_string(flexible);
  value.leader = r.read_nullable_string(flexible);
  if (version >= 2) value.current_state_timestamp = r.read_int64();
  // Smallest member: four empty strings, two int32s, two empty byte arrays.
  const int32_t count = r.read_array_length(flexible, 8);
  if (count < 0) throw DecodeError("null member array in group metadata");
  value.members.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) {
    GroupMetadataValue::Member m;
    m.member_id = r.read_string(flexible);
    if (version >= 3) m.group_instance_id = r.read_nullable_string(flexible);
    m.client_id = r.read_string(flexible);
    m.client_host = r.read_string(flexible);
    // Before v1 there was no rebalance timeout: Kafka uses the session timeout.
    const int32_t rebalance_timeout = version >= 1 ? r.read_int32() : -1;
    m.session_timeout_ms = r.read_int32();
    m.rebalance_timeout_ms = version >= 1 ? rebalance_timeout : m.session_timeout_ms;
    m.subscription = r.read_bytes(flexible);
    m.assignment = r.read_bytes(flexible);
    finish(r, flexible);
    value.members.push_back(std::move(m));
  }
  finish(r, flexible);
  return value;
}

}  // namespace runnel::coordinator
