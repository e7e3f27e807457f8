// Wire primitives: encodings checked against the Kafka protocol guide, and
// malformed input rejected with DecodeError.
#include "protocol/wire.h"

#include <gtest/gtest.h>

#include <limits>

namespace runnel::protocol {
namespace {

using Bytes = std::vector<uint8_t>;

template <typename WriteFn>
Bytes written(WriteFn write) {
  Bytes out;
  Writer w(out);
  write(w);
  return out;
}

TEST(Wire, FixedWidthIntegersAreBigEndian) {
  EXPECT_EQ(written([](Writer& w) { w.write_int16(0x0102); }), (Bytes{0x01, 0x02}));
  EXPECT_EQ(written([](Writer& w) { w.write_int32(-2); }), (Bytes{0xff, 0xff, 0xff, 0xfe}));
  EXPECT_EQ(written([](Writer& w) { w.write_int64(0x0102030405060708); }),
            (Bytes{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(written([](Writer& w) { w.write_uint16(0xfffe); }), (Bytes{0xff, 0xfe}));
  EXPECT_EQ(written([](Writer& w) { w.write_uint32(0x80000001u); }), (Bytes{0x80, 0, 0, 1}));

  const Bytes bytes = written([](Writer& w) {
    w.write_bool(true);
    w.write_int8(-5);
    w.write_int16(std::numeric_limits<int16_t>::min());
    w.write_int32(std::numeric_limits<int32_t>::max());
    w.write_int64(std::numeric_limits<int64_t>::min());
    w.write_uint16(65535);
    w.write_uint32(4000000000u);
    w.write_float64(-1.5);
  });
  Reader r(bytes);
  EXPECT_TRUE(r.read_bool());
  EXPECT_EQ(r.read_int8(), -5);
  EXPECT_EQ(r.read_int16(), std::numeric_limits<int16_t>::min());
  EXPECT_EQ(r.read_int32(), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(r.read_int64(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(r.read_uint16(), 65535);
  EXPECT_EQ(r.read_uint32(), 4000000000u);
  EXPECT_EQ(r.read_float64(), -1.5);
  EXPECT_TRUE(r.at_end());
}

TEST(Wire, Float64IsIeee754BigEndian) {
  EXPECT_EQ(written([](Writer& w) { w.write_float64(1.0); }), (Bytes{0x3f, 0xf0, 0, 0, 0, 0, 0, 0}));
}

TEST(Wire, UnsignedVarintEdgeCases) {
  EXPECT_EQ(written([](Writer& w) { w.write_unsigned_varint(0); }), (Bytes{0x00}));
  EXPECT_EQ(written([](Writer& w) { w.write_unsigned_varint(127); }), (Bytes{0x7f}));
  EXPECT_EQ(written([](Writer& w) { w.write_unsigned_varint(128); }), (Bytes{0x80, 0x01}));
  EXPECT_EQ(written([](Writer& w) { w.write_unsigned_varint(300); }), (Bytes{0xac, 0x02}));
  EXPECT_EQ(written([](Writer& w) { w.write_unsigned_varint(0xffffffffu); }), (Bytes{0xff, 0xff, 0xff, 0xff, 0x0f}));
  for (uint32_t v : {0u, 1u, 127u, 128u, 16383u, 16384u, 2097151u, 2097152u, 268435455u, 268435456u, 0xffffffffu}) {
    const Bytes bytes = written([v](Writer& w) { w.write_unsigned_varint(v); });
    Reader r(bytes);
    EXPECT_EQ(r.read_unsigned_varint(), v);
    EXPECT_TRUE(r.at_end());
  }
}

TEST(Wire, ZigzagVarintEdgeCases) {
  EXPECT_EQ(written([](Writer& w) { w.write_varint(0); }), (Bytes{0x00}));
  EXPECT_EQ(written([](Writer& w) { w.write_varint(-1); }), (Bytes{0x01}));
  EXPECT_EQ(written([](Writer& w) { w.write_varint(1); }), (Bytes{0x02}));
  EXPECT_EQ(written([](Writer& w) { w.write_varint(-64); }), (Bytes{0x7f}));
  EXPECT_EQ(written([](Writer& w) { w.write_varint(64); }), (Bytes{0x80, 0x01}));
  EXPECT_EQ(written([](Writer& w) { w.write_varint(std::numeric_limits<int32_t>::max()); }),
            (Bytes{0xfe, 0xff, 0xff, 0xff, 0x0f}));
  EXPECT_EQ(written([](Writer& w) { w.write_varint(std::numeric_limits<int32_t>::min()); }),
            (Bytes{0xff, 0xff, 0xff, 0xff, 0x0f}));
  for (int32_t v : {0, 1, -1, 63, -64, 64, -65, 8191, -8192, std::numeric_limits<int32_t>::max(),
                    std::numeric_limits<int32_t>::min()}) {
    const Bytes bytes = written([v](Writer& w) { w.write_varint(v); });
    Reader r(bytes);
    EXPECT_EQ(r.read_varint(), v);
    EXPECT_TRUE(r.at_end());
  }
}

TEST(Wire, ZigzagVarlongEdgeCases) {
  EXPECT_EQ(written([](Writer& w) { w.write_varlong(std::numeric_limits<int64_t>::min()); }),
            (Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1} << 40, -(int64_t{1} << 40),
                    std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}) {
    const Bytes bytes = written([v](Writer& w) { w.write_varlong(v); });
    Reader r(bytes);
    EXPECT_EQ(r.read_varlong(), v);
    EXPECT_TRUE(r.at_end());
  }
}

TEST(Wire, OverlongOrTruncatedVarintsAreRejected) {
  const Bytes six_bytes{0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
  EXPECT_THROW(Reader(six_bytes).read_unsigned_varint(), DecodeError);
  const Bytes fifth_byte_too_big{0xff, 0xff, 0xff, 0xff, 0x1f};
  EXPECT_THROW(Reader(fifth_byte_too_big).read_unsigned_varint(), DecodeError);
  const Bytes truncated{0x80, 0x80};
  EXPECT_THROW(Reader(truncated).read_unsigned_varint(), DecodeError);
  const Bytes eleven_bytes(11, 0x80);
  EXPECT_THROW(Reader(eleven_bytes).read_varlong(), DecodeError);
  const Bytes tenth_byte_too_big{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
  EXPECT_THROW(Reader(tenth_byte_too_big).read_varlong(), DecodeError);
}

TEST(Wire, Uuid) {
  Uuid id;
  for (size_t i = 0; i < 16; ++i) id.bytes[i] = static_cast<uint8_t>(i + 1);
  const Bytes bytes = written([&](Writer& w) { w.write_uuid(id); });
  ASSERT_EQ(bytes.size(), 16u);
  EXPECT_EQ(bytes[0], 1);
  EXPECT_EQ(bytes[15], 16);
  Reader r(bytes);
  EXPECT_EQ(r.read_uuid(), id);
}

TEST(Wire, ClassicStrings) {
  EXPECT_EQ(written([](Writer& w) { w.write_string("ab"); }), (Bytes{0, 2, 'a', 'b'}));
  EXPECT_EQ(written([](Writer& w) { w.write_string(""); }), (Bytes{0, 0}));
  EXPECT_EQ(written([](Writer& w) { w.write_nullable_string(std::nullopt); }), (Bytes{0xff, 0xff}));
  const Bytes null_string{0xff, 0xff};
  EXPECT_EQ(Reader(null_string).read_nullable_string(), std::nullopt);
  EXPECT_THROW(Reader(null_string).read_string(), DecodeError);
}

TEST(Wire, CompactStrings) {
  EXPECT_EQ(written([](Writer& w) { w.write_compact_string("ab"); }), (Bytes{3, 'a', 'b'}));
  EXPECT_EQ(written([](Writer& w) { w.write_compact_string(""); }), (Bytes{1}));
  EXPECT_EQ(written([](Writer& w) { w.write_compact_nullable_string(std::nullopt); }), (Bytes{0}));
  const Bytes compact_null{0};
  EXPECT_EQ(Reader(compact_null).read_compact_nullable_string(), std::nullopt);
  EXPECT_THROW(Reader(compact_null).read_compact_string(), DecodeError);
  const Bytes ab{3, 'a', 'b'};
  EXPECT_EQ(Reader(ab).read_compact_string(), "ab");
}

TEST(Wire, StringsLongerThanInt16AreRefused) {
  const std::string huge(40000, 'x');
  EXPECT_THROW(written([&](Writer& w) { w.write_string(huge); }), EncodeError);
  EXPECT_THROW(written([&](Writer& w) { w.write_compact_string(huge); }), EncodeError);
  Bytes compact = written([](Writer& w) { w.write_unsigned_varint(40001); });
  compact.resize(compact.size() + 40000, 'x');
  EXPECT_THROW(Reader(compact).read_compact_string(), DecodeError);
}

TEST(Wire, Bytes) {
  const Bytes payload{9, 8};
  EXPECT_EQ(written([&](Writer& w) { w.write_bytes(payload); }), (Bytes{0, 0, 0, 2, 9, 8}));
  EXPECT_EQ(written([&](Writer& w) { w.write_compact_bytes(payload); }), (Bytes{3, 9, 8}));
  EXPECT_EQ(written([](Writer& w) { w.write_nullable_bytes(std::nullopt); }), (Bytes{0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(written([](Writer& w) { w.write_compact_nullable_bytes(std::nullopt); }), (Bytes{0}));
  const Bytes classic{0, 0, 0, 2, 9, 8};
  EXPECT_EQ(Reader(classic).read_bytes(), payload);
  const Bytes compact{3, 9, 8};
  EXPECT_EQ(Reader(compact).read_compact_bytes(), payload);
  const Bytes null_bytes{0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(Reader(null_bytes).read_nullable_bytes(), std::nullopt);
  EXPECT_THROW(Reader(null_bytes).read_bytes(), DecodeError);
}

TEST(Wire, RecordsAreZeroCopyViews) {
  const Bytes input{0, 0, 0, 3, 0xaa, 0xbb, 0xcc, 0x04, 1, 2, 3, 0, 0xff, 0xff, 0xff, 0xff};
  Reader r(input);
  const RecordsView classic = r.read_records(false);
  EXPECT_FALSE(classic.is_null);
  EXPECT_EQ(classic.data, input.data() + 4);  // points into the input, no copy
  EXPECT_EQ(classic.size, 3u);
  const RecordsView compact = r.read_records(true);
  EXPECT_EQ(compact.data, input.data() + 8);
  EXPECT_EQ(compact.size, 3u);
  EXPECT_TRUE(r.read_records(true).is_null);
  EXPECT_TRUE(r.read_records(false).is_null);
  EXPECT_TRUE(r.at_end());

  EXPECT_EQ(written([&](Writer& w) { w.write_records(classic, true); }), (Bytes{4, 0xaa, 0xbb, 0xcc}));
  EXPECT_EQ(written([](Writer& w) { w.write_records(RecordsView{}, false); }), (Bytes{0xff, 0xff, 0xff, 0xff}));
  const Bytes copy{0xaa, 0xbb, 0xcc};
  EXPECT_EQ(RecordsView::of(copy), classic);  // equality compares contents
  EXPECT_NE(RecordsView{}, RecordsView::of(Bytes{}));
}

TEST(Wire, ArrayLengths) {
  EXPECT_EQ(written([](Writer& w) { w.write_array_length(2); }), (Bytes{0, 0, 0, 2}));
  EXPECT_EQ(written([](Writer& w) { w.write_array_length(-1); }), (Bytes{0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(written([](Writer& w) { w.write_compact_array_length(2); }), (Bytes{3}));
  EXPECT_EQ(written([](Writer& w) { w.write_compact_array_length(-1); }), (Bytes{0}));
  const Bytes null_classic{0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(Reader(null_classic).read_array_length(4), -1);
  const Bytes null_compact{0};
  EXPECT_EQ(Reader(null_compact).read_compact_array_length(4), -1);
}

TEST(Wire, NegativeAndHugeLengthsAreRejectedBeforeAllocating) {
  const Bytes negative_string{0xff, 0xfe, 'a'};
  EXPECT_THROW(Reader(negative_string).read_nullable_string(), DecodeError);
  const Bytes long_string{0x7f, 0xff, 'a'};
  EXPECT_THROW(Reader(long_string).read_string(), DecodeError);
  const Bytes negative_bytes{0x80, 0, 0, 0};
  EXPECT_THROW(Reader(negative_bytes).read_nullable_bytes(), DecodeError);
  const Bytes huge_bytes{0x7f, 0xff, 0xff, 0xff, 1, 2};
  EXPECT_THROW(Reader(huge_bytes).read_bytes(), DecodeError);
  EXPECT_THROW(Reader(huge_bytes).read_records(false), DecodeError);
  const Bytes huge_compact{0xff, 0xff, 0xff, 0xff, 0x0f, 1};
  EXPECT_THROW(Reader(huge_compact).read_compact_bytes(), DecodeError);
  EXPECT_THROW(Reader(huge_compact).read_records(true), DecodeError);
  EXPECT_THROW(Reader(huge_compact).read_compact_array_length(1), DecodeError);
  const Bytes huge_array{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0};
  EXPECT_THROW(Reader(huge_array).read_array_length(1), DecodeError);
  const Bytes negative_array{0xff, 0xff, 0xff, 0xfe};
  EXPECT_THROW(Reader(negative_array).read_array_length(1), DecodeError);
  // Two int32 elements need 8 bytes; only 4 remain.
  const Bytes short_array{0, 0, 0, 2, 0, 0, 0, 1};
  EXPECT_THROW(Reader(short_array).read_array_length(4), DecodeError);
  EXPECT_EQ(Reader(short_array).read_array_length(2), 2);
}

TEST(Wire, TruncatedFixedWidthReadsAreRejected) {
  const Bytes three{1, 2, 3};
  EXPECT_THROW(Reader(three).read_int32(), DecodeError);
  EXPECT_THROW(Reader(three).read_int64(), DecodeError);
  EXPECT_THROW(Reader(three).read_uuid(), DecodeError);
  const Bytes empty;
  EXPECT_THROW(Reader(empty).read_int8(), DecodeError);
  EXPECT_THROW(Reader(empty).read_bool(), DecodeError);
}

TEST(Wire, TaggedFieldsVisitKnownAndSkipUnknown) {
  // Two fields: tag 1 with an int32, tag 9 (unknown to the reader) with 3 bytes.
  const Bytes section = written([](Writer& w) {
    w.write_unsigned_varint(2);
    const Bytes one = written([](Writer& f) { f.write_int32(77); });
    w.write_tagged_field(1, one);
    w.write_tagged_field(9, Bytes{1, 2, 3});
    w.write_int8(42);  // whatever follows the section
  });
  Reader r(section);
  int32_t value = 0;
  int visits = 0;
  r.read_tagged_fields([&](uint32_t tag, Reader& field) {
    ++visits;
    if (tag == 1) value = field.read_int32();
  });
  EXPECT_EQ(visits, 2);
  EXPECT_EQ(value, 77);
  EXPECT_EQ(r.read_int8(), 42);  // the unknown field's bytes were skipped
}

TEST(Wire, TaggedFieldWithSizePastTheEndIsRejected) {
  const Bytes section{1, 0, 10, 1, 2};
  EXPECT_THROW(Reader(section).skip_tagged_fields(), DecodeError);
  const Bytes huge_count{0xff, 0xff, 0xff, 0xff, 0x0f};
  EXPECT_THROW(Reader(huge_count).skip_tagged_fields(), DecodeError);
}

TEST(Wire, PatchInt32ForSizePrefixes) {
  Bytes out;
  Writer w(out);
  w.reserve(16);
  const size_t at = w.reserve_int32();
  w.write_int16(7);
  w.patch_int32(at, static_cast<int32_t>(w.position() - at - 4));
  EXPECT_EQ(out, (Bytes{0, 0, 0, 2, 0, 7}));
  EXPECT_THROW(w.patch_int32(4, 1), EncodeError);
}

}  // namespace
}  // namespace runnel::protocol
