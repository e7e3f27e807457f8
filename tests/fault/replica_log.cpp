#include "replica_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "storage/log_manager.h"
#include "storage/record_batch.h"
#include "storage/record_codec.h"

namespace runnel::fault {

namespace fs = std::filesystem;
using storage::batch_layout::kLogOverhead;

namespace {

constexpr const char* kReplicationCheckpointFile = "replication-offset-checkpoint";

struct SegmentFile {
  int64_t base_offset = 0;
  std::string path;
};

// <20 digits>.log files, by base offset. Other suffixes (.cleaned, .swap,
// .deleted) are leftovers of operations in progress, not part of the log.
std::vector<SegmentFile> ListSegments(const std::string& dir) {
  std::vector<SegmentFile> segments;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 24 || !name.ends_with(".log")) continue;
    const std::string digits = name.substr(0, 20);
    if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
    segments.push_back({std::stoll(digits), entry.path().string()});
  }
  std::sort(segments.begin(), segments.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.base_offset < b.base_offset; });
  return segments;
}

// The partition's offset from an offset-checkpoint file; nullopt if the file
// or the line is absent. A malformed file is a problem.
std::optional<int64_t> ReadCheckpoint(const std::string& path, const ReplicaLog& log,
                                      std::vector<std::string>& problems) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  auto entries = storage::parse_offset_checkpoint(text.str());
  if (!entries) {
    problems.push_back("malformed checkpoint " + path);
    return std::nullopt;
  }
  auto it = entries->find({log.topic, log.partition});
  if (it == entries->end()) return std::nullopt;
  return it->second;
}

bool ReadAt(int fd, int64_t pos, std::vector<uint8_t>& out, size_t size) {
  out.resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(pos + static_cast<int64_t>(done)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

class SegmentReader {
 public:
  SegmentReader(ReplicaLog& log, const SegmentFile& segment, bool last) : log_(log), segment_(segment), last_(last) {}

  // Appends the segment's records to log_.records; advances *next_offset.
  // `limit`: the next segment's base offset. Bytes from there on are what a
  // truncation left behind in this file: the new segment replaced them, and
  // the broker's recovery cuts them too, so they are not part of the log.
  void Read(int64_t& next_offset, int64_t limit) {
    const int fd = ::open(segment_.path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      Problem(0, std::string("cannot read: ") + std::strerror(errno));
      if (fd >= 0) ::close(fd);
      return;
    }
    const int64_t size = st.st_size;
    int64_t pos = 0;
    std::vector<uint8_t> bytes;
    while (pos < size) {
      const int64_t left = size - pos;
      if (left < static_cast<int64_t>(kLogOverhead) || !ReadAt(fd, pos, bytes, kLogOverhead)) {
        Partial(pos, left);
        break;
      }
      if (storage::load_be64(bytes.data() + storage::batch_layout::kBaseOffset) >= limit) break;
      const int32_t length = storage::load_be32(bytes.data() + storage::batch_layout::kBatchLength);
      const int64_t total = int64_t{length} + static_cast<int64_t>(kLogOverhead);
      if (length < static_cast<int32_t>(storage::kBatchHeaderSize - kLogOverhead)) {
        Problem(pos, "batch length " + std::to_string(length) + " below the header size");
        break;
      }
      if (total > left) {
        Partial(pos, left);
        break;
      }
      if (!ReadAt(fd, pos, bytes, static_cast<size_t>(total)) || !ReadBatch(pos, bytes, next_offset)) break;
      pos += total;
    }
    ::close(fd);
  }

 private:
  bool ReadBatch(int64_t pos, const std::vector<uint8_t>& bytes, int64_t& next_offset) {
    const storage::BatchHeader h = storage::parse_batch_header(bytes);
    if (h.magic != storage::kCurrentMagic) return Problem(pos, "magic " + std::to_string(h.magic));
    if (storage::compute_batch_crc(bytes) != h.crc) return Problem(pos, "CRC mismatch");
    if (h.base_offset < next_offset)
      return Problem(pos, "base offset " + std::to_string(h.base_offset) + " below the previous batch's end " +
                              std::to_string(next_offset));
    storage::DecodedBatch batch;
    std::string error;
    if (!storage::decode_batch(bytes, batch, &error)) return Problem(pos, "undecodable batch: " + error);
    next_offset = h.last_offset() + 1;
    if (h.control()) return true;
    for (const auto& r : batch.records) {
      if (r.offset < log_.log_start_offset) continue;
      StoredRecord stored;
      stored.offset = r.offset;
      if (r.key) stored.key.assign(r.key->begin(), r.key->end());
      if (r.value) stored.value.assign(r.value->begin(), r.value->end());
      stored.leader_epoch = h.partition_leader_epoch;
      stored.producer_id = h.producer_id;
      stored.producer_epoch = h.producer_epoch;
      log_.records.push_back(std::move(stored));
    }
    return true;
  }

  // An incomplete batch: expected at the end of the last segment after kill -9.
  void Partial(int64_t pos, int64_t bytes) {
    if (last_) {
      log_.torn_tail_bytes = bytes;
    } else {
      Problem(pos, "incomplete batch (" + std::to_string(bytes) + " bytes) in a segment that is not the last");
    }
  }

  bool Problem(int64_t pos, const std::string& what) {
    log_.problems.push_back(segment_.path + " at byte " + std::to_string(pos) + ": " + what);
    return false;
  }

  ReplicaLog& log_;
  const SegmentFile& segment_;
  const bool last_;
};

}  // namespace

std::string ReplicaLog::Name() const { return log_dir + "/" + topic + "-" + std::to_string(partition); }

ReplicaLog ReadReplica(const std::string& log_dir, const std::string& topic, int32_t partition) {
  ReplicaLog log;
  log.log_dir = log_dir;
  log.topic = topic;
  log.partition = partition;
  const std::string dir = log.Name();
  std::error_code ec;
  log.found = fs::is_directory(dir, ec);
  log.high_watermark = ReadCheckpoint(log_dir + "/" + kReplicationCheckpointFile, log, log.problems);
  log.checkpointed_log_start = ReadCheckpoint(log_dir + "/" + storage::kLogStartOffsetCheckpointFile, log, log.problems);
  if (!log.found) return log;

  const std::vector<SegmentFile> segments = ListSegments(dir);
  const int64_t first_base = segments.empty() ? 0 : segments.front().base_offset;
  log.log_start_offset = std::max(first_base, log.checkpointed_log_start.value_or(0));
  int64_t next_offset = first_base;
  for (size_t i = 0; i < segments.size(); ++i) {
    next_offset = std::max(next_offset, segments[i].base_offset);
    const int64_t limit = i + 1 < segments.size() ? segments[i + 1].base_offset : INT64_MAX;
    SegmentReader(log, segments[i], i + 1 == segments.size()).Read(next_offset, limit);
  }
  log.log_end_offset = next_offset;
  return log;
}

}  // namespace runnel::fault
