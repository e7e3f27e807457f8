// Hand-encoded Kafka requests and hand-decoded responses for the few
// versions the raw-socket tests need (non-flexible ones, plus ApiVersions
// with a flexible header for the unsupported-version fallback).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wire_codec.h"

namespace runnel::it {

namespace api {
inline constexpr std::int16_t kProduce = 0;
inline constexpr std::int16_t kFetch = 1;
inline constexpr std::int16_t kListOffsets = 2;
inline constexpr std::int16_t kMetadata = 3;
inline constexpr std::int16_t kApiVersions = 18;
}  // namespace api

namespace kafka_error {
inline constexpr std::int16_t kNone = 0;
inline constexpr std::int16_t kCorruptMessage = 2;
inline constexpr std::int16_t kUnknownTopicOrPartition = 3;
inline constexpr std::int16_t kLeaderNotAvailable = 5;
inline constexpr std::int16_t kMessageTooLarge = 10;
inline constexpr std::int16_t kInvalidTopic = 17;
inline constexpr std::int16_t kUnsupportedVersion = 35;
inline constexpr std::int16_t kInvalidRecord = 87;
}  // namespace kafka_error

// size(int32) + header + body. Header v1 (api key, version, correlation id,
// nullable client id), plus an empty tagged-field section if `flexible`.
Bytes RequestFrame(std::int16_t api_key, std::int16_t version, std::int32_t correlation_id, const Bytes& body,
                   bool flexible_header = false, const std::optional<std::string>& client_id = "runnel-it");

// ApiVersions v0 (empty body).
Bytes ApiVersionsV0Request(std::int32_t correlation_id);
// ApiVersions at an arbitrary (e.g. unsupported) version, encoded like v3+:
// flexible header and a client software name/version body.
Bytes ApiVersionsFlexibleRequest(std::int16_t version, std::int32_t correlation_id);

struct ApiRange {
  std::int16_t key = -1;
  std::int16_t min = -1;
  std::int16_t max = -1;
};

struct ApiVersionsV0Response {
  bool parsed = false;
  std::int32_t correlation_id = -1;
  std::int16_t error = -1;
  std::vector<ApiRange> apis;
  std::optional<ApiRange> find(std::int16_t key) const;
};
ApiVersionsV0Response ParseApiVersionsV0Response(const Bytes& payload);

// Metadata v4: topics (null = all), allow_auto_topic_creation.
Bytes MetadataV4Request(std::int32_t correlation_id, const std::optional<std::vector<std::string>>& topics,
                        bool allow_auto_create = true);

struct MetadataTopicInfo {
  std::int16_t error = -1;
  std::string name;
  std::vector<std::int16_t> partition_errors;
};

struct MetadataV4Response {
  bool parsed = false;
  std::int32_t correlation_id = -1;
  int broker_count = 0;
  std::vector<MetadataTopicInfo> topics;
  const MetadataTopicInfo* find(const std::string& name) const;
};
MetadataV4Response ParseMetadataV4Response(const Bytes& payload);

// Produce v3 with one topic, one partition, the given records blob.
Bytes ProduceV3Request(std::int32_t correlation_id, const std::string& topic, std::int32_t partition,
                       const Bytes& records, std::int16_t acks = -1, std::int32_t timeout_ms = 30000);

struct ProducePartitionResult {
  std::string topic;
  std::int32_t partition = -1;
  std::int16_t error = -1;
  std::int64_t base_offset = -1;
};

struct ProduceV3Response {
  bool parsed = false;
  std::int32_t correlation_id = -1;
  std::vector<ProducePartitionResult> partitions;
};
ProduceV3Response ParseProduceV3Response(const Bytes& payload);

// Opens a fresh connection to 127.0.0.1:port, sends `frame` and reads one
// response frame. nullopt (with *why) on any failure.
std::optional<Bytes> RoundTrip(std::uint16_t port, const Bytes& frame,
                               std::chrono::milliseconds timeout = std::chrono::seconds(15),
                               std::string* why = nullptr);

}  // namespace runnel::it
