#include "storage/record_codec.h"

#include <algorithm>

#include "storage/compression.h"

namespace runnel::storage {

namespace L = batch_layout;

void put_varlong(std::vector<uint8_t>& out, int64_t value) {
  uint64_t v = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

bool get_varlong(std::span<const uint8_t> in, size_t& pos, int64_t& value) {
  uint64_t raw = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size()) return false;
    const uint8_t b = in[pos++];
    raw |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      value = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
      return true;
    }
  }
  return false;
}

namespace {

bool fail(std::string* error, const std::string& message) {
  if (error) *error = message;
  return false;
}

// Client-supplied deltas may be anything: wrap like Java instead of overflowing.
int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t wrapping_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

// A varint-length-prefixed byte string; length -1 is null.
bool get_bytes(std::span<const uint8_t> in, size_t& pos, std::optional<std::span<const uint8_t>>& out) {
  int64_t len = 0;
  if (!get_varlong(in, pos, len) || len < -1) return false;
  if (len == -1) {
    out.reset();
    return true;
  }
  if (static_cast<uint64_t>(len) > in.size() - pos) return false;
  out = in.subspan(pos, static_cast<size_t>(len));
  pos += static_cast<size_t>(len);
  return true;
}

bool parse_records(std::span<const uint8_t> payload, const BatchHeader& h, std::vector<RecordView>& out,
                   std::string* error) {
  size_t pos = 0;
  out.clear();
  out.reserve(static_cast<size_t>(std::min<int32_t>(h.record_count, 1 << 16)));
  for (int32_t i = 0; i < h.record_count; ++i) {
    int64_t length = 0;
    if (!get_varlong(payload, pos, length) || length < 1 || static_cast<uint64_t>(length) > payload.size() - pos)
      return fail(error, "record " + std::to_string(i) + ": bad length");
    const auto body = payload.subspan(pos, static_cast<size_t>(length));
    pos += static_cast<size_t>(length);
    size_t p = 0;
    RecordView r;
    r.attributes = static_cast<int8_t>(body[p++]);
    int64_t ts_delta = 0, offset_delta = 0;
    if (!get_varlong(body, p, ts_delta) || !get_varlong(body, p, offset_delta))
      return fail(error, "record " + std::to_string(i) + ": bad deltas");
    if (offset_delta < 0 || offset_delta > h.last_offset_delta)
      return fail(error, "record " + std::to_string(i) + ": offset delta out of range");
    r.timestamp = wrapping_add(h.base_timestamp, ts_delta);
    r.offset = wrapping_add(h.base_offset, offset_delta);
    if (!get_bytes(body, p, r.key) || !get_bytes(body, p, r.value))
      return fail(error, "record " + std::to_string(i) + ": bad key or value");
    r.headers = body.subspan(p);
    int64_t header_count = 0;
    if (!get_varlong(body, p, header_count) || header_count < 0)
      return fail(error, "record " + std::to_string(i) + ": bad header count");
    for (int64_t k = 0; k < header_count; ++k) {
      std::optional<std::span<const uint8_t>> hk, hv;
      if (!get_bytes(body, p, hk) || !hk || !get_bytes(body, p, hv))
        return fail(error, "record " + std::to_string(i) + ": bad header");
    }
    if (p != body.size()) return fail(error, "record " + std::to_string(i) + ": trailing bytes");
    out.push_back(r);
  }
  if (pos != payload.size()) return fail(error, "trailing bytes after the last record");
  return true;
}

}  // namespace

bool decode_batch(std::span<const uint8_t> batch, DecodedBatch& out, std::string* error) {
  if (batch.size() < kBatchHeaderSize) return fail(error, "batch shorter than its header");
  out.header = parse_batch_header(batch);
  if (out.header.total_size() != static_cast<int64_t>(batch.size())) return fail(error, "batch length mismatch");
  if (out.header.record_count < 0) return fail(error, "negative record count");
  out.payload.clear();
  const auto codec = static_cast<CompressionType>(out.header.compression());
  if (!decompress(codec, batch.subspan(kBatchHeaderSize), out.payload, error)) return false;
  return parse_records(out.payload, out.header, out.records, error);
}

int32_t last_sequence(const BatchHeader& h) {
  if (h.base_sequence < 0) return -1;
  const int64_t last = int64_t{h.base_sequence} + h.last_offset_delta;
  return static_cast<int32_t>(last > INT32_MAX ? last - INT32_MAX - 1 : last);
}

bool encode_batch(const BatchHeader& header, std::span<const RecordView> records, int64_t delete_horizon,
                  std::vector<uint8_t>& out) {
  BatchHeader h = header;
  h.attributes = static_cast<int16_t>(h.attributes & ~batch_attr::kDeleteHorizon);
  if (records.empty()) h.attributes = static_cast<int16_t>(h.attributes & ~batch_attr::kCompressionMask);
  if (delete_horizon >= 0) h.attributes = static_cast<int16_t>(h.attributes | batch_attr::kDeleteHorizon);
  // Base timestamp: the delete horizon if any, else the first record's (as Kafka's builder).
  int64_t base_ts = records.empty() ? header.max_timestamp : records.front().timestamp;
  if (delete_horizon >= 0) base_ts = delete_horizon;
  int64_t max_ts = header.max_timestamp;
  if (!h.log_append_time() && !records.empty()) {
    max_ts = records.front().timestamp;
    for (const auto& r : records) max_ts = std::max(max_ts, r.timestamp);
  }

  std::vector<uint8_t> body;
  std::vector<uint8_t> rec;
  for (const auto& r : records) {
    rec.clear();
    rec.push_back(static_cast<uint8_t>(r.attributes));
    put_varlong(rec, wrapping_sub(r.timestamp, base_ts));
    put_varlong(rec, wrapping_sub(r.offset, h.base_offset));
    for (const auto* field : {&r.key, &r.value}) {
      if (!*field) {
        put_varlong(rec, -1);
      } else {
        put_varlong(rec, static_cast<int64_t>((*field)->size()));
        rec.insert(rec.end(), (*field)->begin(), (*field)->end());
      }
    }
    rec.insert(rec.end(), r.headers.begin(), r.headers.end());
    put_varlong(body, static_cast<int64_t>(rec.size()));
    body.insert(body.end(), rec.begin(), rec.end());
  }

  const size_t start = out.size();
  out.resize(start + kBatchHeaderSize);
  if (!compress(static_cast<CompressionType>(h.compression()), body, out)) {
    out.resize(start);
    return false;
  }
  uint8_t* p = out.data() + start;
  store_be64(p + L::kBaseOffset, h.base_offset);
  store_be32(p + L::kBatchLength, static_cast<int32_t>(out.size() - start - L::kLogOverhead));
  store_be32(p + L::kPartitionLeaderEpoch, h.partition_leader_epoch);
  p[L::kMagic] = static_cast<uint8_t>(kCurrentMagic);
  store_be16(p + L::kAttributes, h.attributes);
  store_be32(p + L::kLastOffsetDelta, h.last_offset_delta);
  store_be64(p + L::kBaseTimestamp, base_ts);
  store_be64(p + L::kMaxTimestamp, max_ts);
  store_be64(p + L::kProducerId, h.producer_id);
  store_be16(p + L::kProducerEpoch, h.producer_epoch);
  store_be32(p + L::kBaseSequence, h.base_sequence);
  store_be32(p + L::kRecordCount, static_cast<int32_t>(records.size()));
  store_be32(p + L::kCrc, static_cast<int32_t>(compute_batch_crc({p, out.size() - start})));
  return true;
}

bool find_record_without_key(std::span<const uint8_t> batch, int32_t& index, std::string* error) {
  DecodedBatch decoded;
  if (!decode_batch(batch, decoded, error)) return false;
  index = -1;
  for (size_t i = 0; i < decoded.records.size(); ++i) {
    if (!decoded.records[i].key) {
      index = static_cast<int32_t>(i);
      break;
    }
  }
  return true;
}

bool repair_max_timestamp(std::span<uint8_t> batch, BatchHeader& header) {
  if (header.log_append_time() || header.max_timestamp >= header.base_timestamp) return false;
  DecodedBatch decoded;
  std::string error;
  if (!decode_batch(batch, decoded, &error) || decoded.records.empty()) return false;
  int64_t max_timestamp = -1;
  for (const auto& record : decoded.records) max_timestamp = std::max(max_timestamp, record.timestamp);
  if (max_timestamp == header.max_timestamp) return false;
  set_max_timestamp(batch, max_timestamp);
  header.max_timestamp = max_timestamp;
  header.crc = static_cast<uint32_t>(load_be32(batch.data() + L::kCrc));
  return true;
}

}  // namespace runnel::storage
