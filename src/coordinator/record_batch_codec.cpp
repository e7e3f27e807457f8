#include "coordinator/record_batch_codec.h"

#include "protocol/wire.h"
#include "storage/crc32c.h"

namespace runnel::coordinator {
namespace {

namespace L = storage::batch_layout;

constexpr int16_t kNoProducerEpoch = -1;
constexpr int64_t kNoProducerId = -1;
constexpr int32_t kNoSequence = -1;

void write_varint_bytes(protocol::Writer& w, const std::optional<Bytes>& bytes) {
  if (!bytes) {
    w.write_varint(-1);
    return;
  }
  w.write_varint(static_cast<int32_t>(bytes->size()));
  w.write_raw(*bytes);
}

std::optional<Bytes> read_varint_bytes(protocol::Reader& r) {
  const int32_t length = r.read_varint();
  if (length < 0) return std::nullopt;
  auto raw = r.read_raw(static_cast<size_t>(length));
  return Bytes(raw.begin(), raw.end());
}

}  // namespace

Bytes build_record_batch(std::span<const LogRecord> records, int64_t timestamp_ms) {
  Bytes out;
  protocol::Writer w(out);
  w.write_int64(0);                     // base offset: assigned by the log
  const size_t length_at = w.reserve_int32();
  w.write_int32(0);                     // partition leader epoch: set by the log
  w.write_int8(storage::kCurrentMagic);
  const size_t crc_at = w.reserve_int32();
  w.write_int16(0);                     // attributes: no compression, create time
  w.write_int32(static_cast<int32_t>(records.size()) - 1);
  w.write_int64(timestamp_ms);          // base timestamp
  w.write_int64(timestamp_ms);          // max timestamp
  w.write_int64(kNoProducerId);
  w.write_int16(kNoProducerEpoch);
  w.write_int32(kNoSequence);
  w.write_int32(static_cast<int32_t>(records.size()));

  Bytes body;
  for (size_t i = 0; i < records.size(); ++i) {
    body.clear();
    protocol::Writer rw(body);
    rw.write_int8(0);                   // record attributes
    rw.write_varlong(0);                // timestamp delta
    rw.write_varint(static_cast<int32_t>(i));  // offset delta
    write_varint_bytes(rw, records[i].key);
    write_varint_bytes(rw, records[i].value);
    rw.write_varint(0);                 // no headers
    w.write_varint(static_cast<int32_t>(body.size()));
    w.write_raw(body);
  }
  w.patch_int32(length_at, static_cast<int32_t>(out.size() - L::kLogOverhead));
  const uint32_t crc = storage::crc32c(std::span<const uint8_t>(out).subspan(L::kAttributes));
  w.patch_int32(crc_at, static_cast<int32_t>(crc));
  return out;
}

ParsedBatch parse_record_batch(std::span<const uint8_t> batch) {
  ParsedBatch result;
  if (batch.size() < L::kHeaderSize) return result;
  result.header = storage::parse_batch_header(batch);  // even when corrupt: replay skips past it
  if (result.header.magic != storage::kCurrentMagic) return result;
  if (result.header.total_size() != static_cast<int64_t>(batch.size())) return result;
  if (storage::compute_batch_crc(batch) != result.header.crc) return result;
  if (result.header.compression() != 0) {
    result.status = ParsedBatch::Status::kCompressed;
    return result;
  }
  if (result.header.control()) {
    result.status = ParsedBatch::Status::kControl;
    return result;
  }
  if (result.header.record_count < 0) return result;
  try {
    protocol::Reader r(batch.subspan(L::kHeaderSize));
    // Each record takes at least 7 bytes, so this bounds the reservation.
    if (static_cast<size_t>(result.header.record_count) > r.remaining()) return result;
    result.records.reserve(static_cast<size_t>(result.header.record_count));
    for (int32_t i = 0; i < result.header.record_count; ++i) {
      const int32_t length = r.read_varint();
      if (length < 0) return result;
      protocol::Reader record = r.sub_reader(static_cast<size_t>(length));
      record.read_int8();     // attributes
      record.read_varlong();  // timestamp delta
      record.read_varint();   // offset delta
      LogRecord parsed;
      auto key = read_varint_bytes(record);
      if (key) parsed.key = std::move(*key);
      parsed.value = read_varint_bytes(record);
      const int32_t headers = record.read_varint();
      for (int32_t h = 0; h < headers; ++h) {
        const int32_t key_length = record.read_varint();
        if (key_length < 0) return result;
        record.skip(static_cast<size_t>(key_length));
        read_varint_bytes(record);
      }
      result.records.push_back(std::move(parsed));
    }
  } catch (const protocol::DecodeError&) {
    result.records.clear();
    return result;
  }
  result.status = ParsedBatch::Status::kOk;
  return result;
}

std::vector<std::span<const uint8_t>> split_batches(std::span<const uint8_t> bytes) {
  std::vector<std::span<const uint8_t>> batches;
  size_t pos = 0;
  while (bytes.size() - pos >= L::kHeaderSize) {
    const int32_t length = storage::load_be32(bytes.data() + pos + L::kBatchLength);
    if (length < static_cast<int32_t>(L::kHeaderSize - L::kLogOverhead)) break;
    const size_t total = static_cast<size_t>(length) + L::kLogOverhead;
    if (total > bytes.size() - pos) break;
    batches.push_back(bytes.subspan(pos, total));
    pos += total;
  }
  return batches;
}

}  // namespace runnel::coordinator
