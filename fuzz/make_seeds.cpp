// Writes seed inputs for the fuzz targets (scripts/fuzz.sh runs it before
// fuzzing): every request API at every version (header + default body), record
// batches with each compression codec, and small segment files. Usage:
//   fuzz_make_seeds <out-dir>   -> <out-dir>/<target>/seed-*
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_requests.h"
#include "protocol/api_info.h"
#include "protocol/messages.h"
#include "protocol/wire.h"
#include "storage/compression.h"
#include "storage/legacy_message_set.h"
#include "storage/record_batch.h"
#include "storage/record_codec.h"

namespace {

namespace fs = std::filesystem;
using namespace runnel;

int written = 0;

void write(const fs::path& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ++written;
}

template <typename Request>
void request_seeds(const fs::path& dir) {
  for (int16_t v = Request::kMinVersion; v <= Request::kMaxVersion; ++v) {
    std::vector<uint8_t> bytes;
    protocol::Writer w(bytes);
    protocol::RequestHeader header;
    header.request_api_key = Request::kApiKey;
    header.request_api_version = v;
    header.correlation_id = 7;
    header.client_id = "seed";
    header.encode(w, protocol::request_header_version(Request::kApiKey, v));
    Request request;
    request.encode(w, v);
    write(dir, "seed-" + std::string(Request::kName) + "-v" + std::to_string(v), bytes);
  }
}

std::vector<uint8_t> batch(int64_t base, int records, storage::CompressionType codec, bool with_producer) {
  std::vector<std::string> values;
  for (int i = 0; i < records; ++i) values.push_back("value-" + std::to_string(i) + std::string(i * 7 % 40, 'z'));
  std::vector<storage::RecordView> views;
  for (int i = 0; i < records; ++i) {
    storage::RecordView r;
    r.offset = base + i;
    r.timestamp = 1'000 + i;
    if (i % 3 != 0) r.key = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(values[i].data()), 3);
    r.value = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(values[i].data()), values[i].size());
    views.push_back(r);
  }
  storage::BatchHeader h;
  h.base_offset = base;
  h.magic = storage::kCurrentMagic;
  h.attributes = static_cast<int16_t>(codec);
  h.last_offset_delta = records - 1;
  h.base_timestamp = 1'000;
  if (with_producer) {
    h.producer_id = 42;
    h.producer_epoch = 0;
    h.base_sequence = static_cast<int32_t>(base);
  }
  std::vector<uint8_t> out;
  if (!storage::encode_batch(h, views, -1, out)) std::abort();
  return out;
}

// An old-format message set (magic 0 or 1) of three messages, plain or inside
// one compressed wrapper message, as a Produce v0-2 client sends it.
std::vector<uint8_t> message_set(int8_t magic, storage::CompressionType codec) {
  std::vector<uint8_t> plain;
  const std::string key = "key";
  for (int i = 0; i < 3; ++i) {
    const std::string value = "value-" + std::to_string(i);
    storage::write_message(plain, i, magic, 0, 1'000 + i,
                           i == 1 ? std::nullopt : std::optional(std::span(reinterpret_cast<const uint8_t*>(key.data()), key.size())),
                           std::span(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
  }
  if (codec == storage::CompressionType::kNone) return plain;
  std::vector<uint8_t> packed;
  if (!storage::compress(codec, plain, packed)) std::abort();
  std::vector<uint8_t> wrapped;
  storage::write_message(wrapped, 2, magic, static_cast<int8_t>(codec), 2'000, std::nullopt,
                         std::span<const uint8_t>(packed));
  return wrapped;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1];
#define RUNNEL_SEED_CASE(Request) request_seeds<protocol::Request>(out / "fuzz_request");
  RUNNEL_FUZZ_REQUESTS(RUNNEL_SEED_CASE)
#undef RUNNEL_SEED_CASE

  using storage::CompressionType;
  const CompressionType codecs[] = {CompressionType::kNone, CompressionType::kGzip, CompressionType::kSnappy,
                                    CompressionType::kLz4, CompressionType::kZstd};
  for (auto codec : codecs) {
    const std::string name = std::to_string(static_cast<int>(codec));
    for (uint8_t mode : {0, 1}) {
      std::vector<uint8_t> input{mode};
      const auto a = batch(0, 5, codec, false);
      const auto b = batch(5, 3, codec, true);
      input.insert(input.end(), a.begin(), a.end());
      input.insert(input.end(), b.begin(), b.end());
      write(out / "fuzz_record_batch", "seed-codec" + name + "-mode" + std::to_string(mode), input);
    }
    // Segment: options byte, index length (0), then three batches.
    for (uint8_t mode : {0, 1, 2, 16 | 32}) {
      std::vector<uint8_t> input{mode, 0, 0};
      int64_t base = 0;
      for (int n : {4, 1, 6}) {
        const auto bytes = batch(base, n, codec, true);
        input.insert(input.end(), bytes.begin(), bytes.end());
        base += n;
      }
      write(out / "fuzz_segment_recovery", "seed-codec" + name + "-mode" + std::to_string(mode), input);
    }
  }
  // Old message sets: zstd cannot appear in them.
  for (auto codec : {CompressionType::kNone, CompressionType::kGzip, CompressionType::kSnappy, CompressionType::kLz4}) {
    for (int8_t magic : {0, 1}) {
      for (uint8_t mode : {0, 1}) {
        std::vector<uint8_t> input{mode};
        const auto set = message_set(magic, codec);
        input.insert(input.end(), set.begin(), set.end());
        write(out / "fuzz_message_set", "seed-codec" + std::to_string(static_cast<int>(codec)) + "-magic" +
                                            std::to_string(magic) + "-mode" + std::to_string(mode), input);
      }
    }
  }
  std::printf("wrote %d seeds under %s\n", written, out.c_str());
  return 0;
}
