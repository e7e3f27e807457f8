#include "record_batch_builder.h"

namespace runnel::it {

namespace {

Bytes EncodeRecord(const TestRecord& r, std::int32_t offset_delta) {
  WireWriter body;
  body.i8(0);          // attributes
  body.varint(0);      // timestamp delta
  body.varint(offset_delta);
  if (r.key) {
    body.varint(static_cast<std::int64_t>(r.key->size())).raw(*r.key);
  } else {
    body.varint(-1);
  }
  body.varint(static_cast<std::int64_t>(r.value.size())).raw(r.value);
  body.varint(static_cast<std::int64_t>(r.headers.size()));
  for (const auto& [k, v] : r.headers) {
    body.varint(static_cast<std::int64_t>(k.size())).raw(k);
    body.varint(static_cast<std::int64_t>(v.size())).raw(v);
  }
  WireWriter out;
  out.varint(static_cast<std::int64_t>(body.size())).raw(body.data());
  return out.data();
}

std::uint64_t ReadBe(const std::string& data, std::size_t pos, int width) {
  std::uint64_t v = 0;
  for (int i = 0; i < width; ++i) v = (v << 8) | static_cast<std::uint8_t>(data[pos + static_cast<std::size_t>(i)]);
  return v;
}

}  // namespace

Bytes BuildRecordBatch(const std::vector<TestRecord>& records, const BatchOptions& options) {
  // Part covered by the CRC: attributes .. end of records.
  WireWriter tail;
  tail.i16(0);  // attributes: no compression, CreateTime, not transactional
  tail.i32(static_cast<std::int32_t>(records.size()) - 1);  // lastOffsetDelta
  tail.i64(options.base_timestamp);
  tail.i64(options.base_timestamp);
  tail.i64(-1);  // producerId
  tail.i16(-1);  // producerEpoch
  tail.i32(-1);  // baseSequence
  tail.i32(static_cast<std::int32_t>(records.size()) + options.count_delta);
  for (std::size_t i = 0; i < records.size(); ++i) tail.raw(EncodeRecord(records[i], static_cast<std::int32_t>(i)));

  std::uint32_t crc = Crc32c(tail.data().data(), tail.size());
  if (options.flip_crc) crc ^= 0xDEADBEEFu;

  // batchLength counts everything after the length field itself:
  // partitionLeaderEpoch(4) + magic(1) + crc(4) + tail.
  const auto batch_length = static_cast<std::int32_t>(4 + 1 + 4 + tail.size()) + options.length_delta;
  WireWriter batch;
  batch.i64(options.base_offset);
  batch.i32(batch_length);
  batch.i32(-1);  // partitionLeaderEpoch
  batch.i8(options.magic);
  batch.u32(crc);
  batch.raw(tail.data());
  return batch.data();
}

std::vector<std::size_t> BatchStarts(const std::string& data, std::size_t* valid_end) {
  std::vector<std::size_t> starts;
  std::size_t pos = 0;
  while (data.size() - pos >= 12) {
    const auto length = static_cast<std::int32_t>(ReadBe(data, pos + 8, 4));
    if (length < 49 || data.size() - pos - 12 < static_cast<std::size_t>(length)) break;
    starts.push_back(pos);
    pos += 12 + static_cast<std::size_t>(length);
  }
  if (valid_end != nullptr) *valid_end = pos;
  return starts;
}

std::int64_t BatchBaseOffset(const std::string& data, std::size_t pos) {
  return static_cast<std::int64_t>(ReadBe(data, pos, 8));
}

std::int32_t BatchRecordCount(const std::string& data, std::size_t pos) {
  // baseOffset 8, length 4, epoch 4, magic 1, crc 4, attributes 2 -> lastOffsetDelta at 23.
  return static_cast<std::int32_t>(ReadBe(data, pos + 23, 4)) + 1;
}

}  // namespace runnel::it
