// libFuzzer target: segment recovery fed a corrupted segment file. The input
// becomes a partition directory: byte 0 picks options, bytes 1-2 how many of
// the following bytes form the offset index (garbage or truncated indexes),
// and the rest is 00000000000000000000.log. With option bit 0 each batch's CRC
// is recomputed first so mutations reach the offset/length checks behind it.
// The log is opened (clean or unclean shutdown), then everything it serves
// must be whole, CRC-valid batches with increasing offsets, and an append
// followed by a read must work: recovery never leaves a corrupt batch behind.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "storage/log.h"
#include "storage/record_batch.h"
#include "storage/record_codec.h"

using namespace runnel::storage;

namespace {

std::string work_dir;

void fix_crcs(std::vector<uint8_t>& bytes) {
  size_t pos = 0;
  while (pos + kBatchHeaderSize <= bytes.size()) {
    const int64_t total = int64_t{load_be32(bytes.data() + pos + batch_layout::kBatchLength)} +
                          static_cast<int64_t>(batch_layout::kLogOverhead);
    if (total < static_cast<int64_t>(kBatchHeaderSize) || pos + static_cast<uint64_t>(total) > bytes.size()) return;
    std::span<uint8_t> batch(bytes.data() + pos, static_cast<size_t>(total));
    store_be32(batch.data() + batch_layout::kCrc, static_cast<int32_t>(compute_batch_crc(batch)));
    pos += static_cast<size_t>(total);
  }
}

void write_file(const std::string& path, std::span<const uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Everything from the log start must be whole batches, each with magic 2 and a
// valid CRC, in increasing offset order. (Not validate_batches: that is the
// produce path's stricter check, and e.g. compacted batches legitimately carry
// fewer records than their offset range.)
void check_readable(const Log& log) {
  int64_t offset = log.log_start_offset();
  const int64_t end = log.log_end_offset();
  while (offset < end) {
    ReadResult r = log.read(offset, 1 << 20, end, true);
    if (r.error != runnel::ErrorCode::kNone || r.bytes.empty()) abort();  // a hole below the log end
    size_t pos = 0;
    while (pos < r.bytes.size()) {
      if (r.bytes.size() - pos < kBatchHeaderSize) abort();  // a partial batch served
      const BatchHeader h = parse_batch_header(std::span<const uint8_t>(r.bytes).subspan(pos));
      if (h.total_size() < static_cast<int64_t>(kBatchHeaderSize) ||
          static_cast<uint64_t>(h.total_size()) > r.bytes.size() - pos)
        abort();
      const auto batch = std::span<const uint8_t>(r.bytes).subspan(pos, static_cast<size_t>(h.total_size()));
      if (h.magic != kCurrentMagic || compute_batch_crc(batch) != h.crc) abort();  // a corrupt batch served
      if (h.last_offset() < offset || h.last_offset_delta < 0) abort();            // offsets go backwards
      offset = h.last_offset() + 1;
      pos += batch.size();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  // A tmpfs (/dev/shm) by default: recovery fsyncs, which is slow on a real disk.
  const char* tmp = getenv("RUNNEL_FUZZ_TMPDIR");
  if (!tmp) tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  std::string pattern = std::string(tmp) + "/runnel-fuzz-XXXXXX";
  if (!mkdtemp(pattern.data())) abort();
  work_dir = pattern;
  atexit([] { std::filesystem::remove_all(work_dir); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (work_dir.empty()) LLVMFuzzerInitialize(nullptr, nullptr);  // replay driver
  if (size < 3) return 0;
  const uint8_t mode = data[0];
  const size_t index_len = std::min<size_t>((size_t{data[1]} << 8) | data[2], size - 3);
  std::vector<uint8_t> index(data + 3, data + 3 + index_len);
  std::vector<uint8_t> segment(data + 3 + index_len, data + size);
  if (mode & 1) fix_crcs(segment);

  const std::string dir = work_dir + "/t-0";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  write_file(dir + "/00000000000000000000.log", segment);
  if (mode & 4) write_file(dir + "/00000000000000000000.index", index);
  if (mode & 8) write_file(dir + "/00000000000000000000.timeindex", index);

  LogOpenOptions options;
  options.dir = dir;
  options.config.segment_bytes = (mode & 16) ? 256 : 1 << 20;  // small: appends roll
  options.config.index_interval_bytes = (mode & 32) ? 0 : 4096;
  options.config.segment_index_bytes = 4096;
  options.clean_shutdown = (mode & 2) != 0;
  std::error_code ec;
  auto log = Log::open(options, ec);
  if (!log) return 0;  // refusing to open is allowed; crashing is not
  check_readable(*log);

  // The recovered log takes appends at its end and serves them.
  const int64_t end = log->log_end_offset();
  const std::string value = "after-recovery";
  RecordView record;
  record.value = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(value.data()), value.size());
  BatchHeader header;
  header.magic = kCurrentMagic;
  header.base_timestamp = header.max_timestamp = 1'000;
  header.record_count = 1;
  std::vector<uint8_t> batch;
  if (!encode_batch(header, std::span<const RecordView>(&record, 1), -1, batch)) abort();
  const AppendResult appended = log->append(batch, 0, 2'000);
  if (appended.error != runnel::ErrorCode::kNone || appended.base_offset != end) abort();
  log->flush();
  check_readable(*log);
  log->close();
  return 0;
}
