#pragma once
// Keys and values of __consumer_offsets records, in Kafka's own layout
// (OffsetCommitKey/Value, GroupMetadataKey/Value), so the topic stays readable by
// Kafka's tools and a log written by either side replays on the other.
//
//   offset commit key    v1: int16 1, string group, string topic, int32 partition
//   offset commit value  v3: int16 3, int64 offset, int32 leader epoch, string metadata,
//                            int64 commit timestamp
//   group metadata key   v2: int16 2, string group
//   group metadata value v3: int16 3, string protocol type, int32 generation,
//                            nullable protocol, nullable leader, int64 state timestamp,
//                            [member id, nullable instance id, client id, client host,
//                             int32 rebalance timeout, int32 session timeout,
//                             bytes subscription, bytes assignment]
// A deleted offset or group is a record with the key and a null value (tombstone).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace runnel::coordinator {

using Bytes = std::vector<uint8_t>;

inline constexpr int16_t kOffsetCommitKeyVersion = 1;
inline constexpr int16_t kOffsetCommitValueVersion = 3;
inline constexpr int16_t kGroupMetadataKeyVersion = 2;
inline constexpr int16_t kGroupMetadataValueVersion = 3;

struct OffsetCommitKey {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  bool operator==(const OffsetCommitKey&) const = default;
};

struct OffsetCommitValue {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp = -1;
  int64_t expire_timestamp = -1;  // only in value version 1 (read, never written)
  bool operator==(const OffsetCommitValue&) const = default;
};

struct GroupMetadataKey {
  std::string group;
  bool operator==(const GroupMetadataKey&) const = default;
};

struct GroupMetadataValue {
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    int32_t rebalance_timeout_ms = 0;
    int32_t session_timeout_ms = 0;
    Bytes subscription;
    Bytes assignment;
    bool operator==(const Member&) const = default;
  };
  std::string protocol_type;
  int32_t generation = 0;
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t current_state_timestamp = -1;
  std::vector<Member> members;
  bool operator==(const GroupMetadataValue&) const = default;
};

// A key whose version is neither an offset key (0, 1) nor a group key (2):
// skipped on replay, as Kafka does.
struct UnknownKey {
  int16_t version = 0;
};

using RecordKey = std::variant<OffsetCommitKey, GroupMetadataKey, UnknownKey>;

Bytes encode_offset_commit_key(const OffsetCommitKey& key);
Bytes encode_offset_commit_value(const OffsetCommitValue& value);
Bytes encode_group_metadata_key(const GroupMetadataKey& key);
Bytes encode_group_metadata_value(const GroupMetadataValue& value);

// Decoders accept every version Kafka has written (values 0-4, the flexible v4
// included). They throw protocol::DecodeError on malformed input.
RecordKey decode_record_key(std::span<const uint8_t> bytes);
OffsetCommitValue decode_offset_commit_value(std::span<const uint8_t> bytes);
GroupMetadataValue decode_group_metadata_value(std::span<const uint8_t> bytes);

}  // namespace runnel::coordinator
