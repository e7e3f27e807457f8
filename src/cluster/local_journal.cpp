#include "cluster/local_journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "storage/crc32c.h"

namespace runnel::cluster {
namespace {

constexpr std::string_view kJournalMagic = "RNLJRNL1";
constexpr std::string_view kSnapshotMagic = "RNLSNAP1";
constexpr size_t kFrameHeader = 8;
constexpr uint8_t kRecordKind = 1;
constexpr uint8_t kSnapshotKind = 2;
constexpr uint8_t kPut = 1;
constexpr uint8_t kDelete = 2;

[[noreturn]] void fail(const std::string& what, int err) {
  throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(err)));
}

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void i64(int64_t v) {
    const auto u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(u >> (8 * i)));
  }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    out_ += s;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Throws on reading past the end: a frame whose CRC matched but does not parse.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint8_t u8() { return static_cast<uint8_t>(take(1)[0]); }
  uint32_t u32() {
    auto b = take(4);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(b[i])) << (8 * i);
    return v;
  }
  int64_t i64() {
    auto b = take(8);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
    return static_cast<int64_t>(v);
  }
  std::string str() { return std::string(take(u32())); }
  bool done() const { return in_.empty(); }

 private:
  std::string_view take(size_t n) {
    if (n > in_.size()) throw std::out_of_range("truncated");
    auto out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }
  std::string_view in_;
};

uint32_t checksum(std::string_view payload) {
  return storage::crc32c({reinterpret_cast<const uint8_t*>(payload.data()), payload.size()});
}

std::string frame(const std::string& payload) {
  Writer w;
  w.u32(static_cast<uint32_t>(payload.size()));
  w.u32(checksum(payload));
  return w.take() + payload;
}

void write_kv(Writer& w, const KeyValue& kv) {
  w.str(kv.key);
  w.str(kv.value);
  w.i64(kv.create_revision);
  w.i64(kv.mod_revision);
  w.i64(kv.version);
}

KeyValue read_kv(Reader& r) {
  KeyValue kv;
  kv.key = r.str();
  kv.value = r.str();
  kv.create_revision = r.i64();
  kv.mod_revision = r.i64();
  kv.version = r.i64();
  return kv;
}

std::string read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("open " + path, errno);
  std::string data;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      fail("read " + path, err);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write " + path, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("open " + dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) fail("fsync " + dir, err);
}

}  // namespace

LocalJournal::~LocalJournal() {
  if (fd_ >= 0) ::close(fd_);  // also releases the lock
}

void LocalJournal::open(const std::string& dir, LocalKvState& state) {
  dir_ = dir;
  std::error_code ec;
  if (std::filesystem::create_directories(dir_, ec)) {
    auto path = std::filesystem::absolute(dir_).lexically_normal();
    if (!path.has_filename()) path = path.parent_path();  // "a/b/" names b
    fsync_dir(path.parent_path().string());               // the new directory's entry is durable too
  }
  if (ec) throw std::runtime_error(fmt::format("metadata store: create {}: {}", dir_, ec.message()));
  const std::string path = journal_path();
  const bool existed = ::access(path.c_str(), F_OK) == 0;
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("metadata store: open " + path, errno);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      throw std::runtime_error(fmt::format("metadata store {} is in use by another process or store", dir_));
    fail("metadata store: lock " + path, errno);
  }
  std::filesystem::remove(snapshot_path() + ".tmp", ec);  // a roll that did not finish
  load_snapshot(state);
  replay_journal(state);
  if (!existed) fsync_dir(dir_);
}

void LocalJournal::load_snapshot(LocalKvState& state) {
  const std::string path = snapshot_path();
  if (::access(path.c_str(), F_OK) != 0) return;
  const std::string data = read_file(path);
  const std::string corrupt = fmt::format("metadata snapshot {} is corrupt", path);
  if (data.size() < kSnapshotMagic.size() + kFrameHeader || data.compare(0, kSnapshotMagic.size(), kSnapshotMagic) != 0)
    throw std::runtime_error(corrupt + " (bad header)");
  Reader header(std::string_view(data).substr(kSnapshotMagic.size(), kFrameHeader));
  const uint32_t length = header.u32();
  const uint32_t crc = header.u32();
  const auto payload = std::string_view(data).substr(kSnapshotMagic.size() + kFrameHeader);
  if (payload.size() != length || checksum(payload) != crc) throw std::runtime_error(corrupt + " (bad checksum)");
  try {
    Reader r(payload);
    if (r.u8() != kSnapshotKind) throw std::out_of_range("kind");
    const int64_t revision = r.i64();
    std::map<std::string, KeyValue> kvs;
    for (uint32_t n = r.u32(); n > 0; --n) {
      KeyValue kv = read_kv(r);
      kvs[kv.key] = std::move(kv);
    }
    state.restore(revision, std::move(kvs));
  } catch (const std::out_of_range&) {
    throw std::runtime_error(corrupt + " (unreadable)");
  }
}

void LocalJournal::replay_journal(LocalKvState& state) {
  const std::string path = journal_path();
  const std::string data = read_file(path);
  if (data.size() < kJournalMagic.size()) {
    // New, or its creation was torn: start it over.
    if (::ftruncate(fd_, 0) != 0) fail("truncate " + path, errno);
    write_all(fd_, kJournalMagic, path);
    if (::fdatasync(fd_) != 0) fail("fdatasync " + path, errno);
    size_ = kJournalMagic.size();
    return;
  }
  if (data.compare(0, kJournalMagic.size(), kJournalMagic) != 0)
    throw std::runtime_error(fmt::format("metadata journal {} has a bad header", path));

  const int64_t snapshot_revision = state.revision();
  size_t offset = kJournalMagic.size();
  while (offset < data.size()) {
    const size_t left = data.size() - offset;
    // A torn tail is the last write cut short: the frame runs to or past the end
    // of the file, or only zeros follow. Anything else is damage not to skip.
    bool good = false;
    bool torn = true;
    uint32_t length = 0;
    std::string_view payload;
    if (left >= kFrameHeader) {
      Reader header(std::string_view(data).substr(offset, kFrameHeader));
      length = header.u32();
      const uint32_t crc = header.u32();
      if (length <= left - kFrameHeader) {
        payload = std::string_view(data).substr(offset + kFrameHeader, length);
        good = length > 0 && checksum(payload) == crc;
        torn = length > 0 && length == left - kFrameHeader;
      }
    }
    if (!good) {
      torn = torn || std::all_of(data.begin() + static_cast<std::ptrdiff_t>(offset), data.end(),
                                 [](char c) { return c == 0; });
      if (!torn)
        throw std::runtime_error(
            fmt::format("metadata journal {} is corrupt at offset {} (a bad record before the last)", path, offset));
      if (::ftruncate(fd_, static_cast<off_t>(offset)) != 0) fail("truncate " + path, errno);
      if (::fdatasync(fd_) != 0) fail("fdatasync " + path, errno);
      break;
    }
    try {
      Reader r(payload);
      if (r.u8() != kRecordKind) throw std::out_of_range("kind");
      const int64_t revision = r.i64();
      const uint32_t count = r.u32();
      const bool apply = revision > snapshot_revision;  // else already in the snapshot
      for (uint32_t i = 0; i < count; ++i) {
        const uint8_t op = r.u8();
        if (op == kPut) {
          KeyValue kv = read_kv(r);
          if (apply) state.restore_put(kv);
        } else if (op == kDelete) {
          const std::string key = r.str();
          if (apply) state.restore_delete(key);
        } else {
          throw std::out_of_range("op");
        }
      }
      if (apply) state.set_revision(revision);
    } catch (const std::out_of_range&) {
      throw std::runtime_error(fmt::format("metadata journal {}: unreadable record at offset {}", path, offset));
    }
    offset += kFrameHeader + length;
  }
  size_ = std::min<uint64_t>(offset, data.size());
}

void LocalJournal::append(int64_t revision, const std::vector<WatchEvent>& events) {
  Writer w;
  w.u8(kRecordKind);
  w.i64(revision);
  w.u32(static_cast<uint32_t>(events.size()));
  for (const auto& event : events) {
    // A key bound to a lease is not kept across restarts: journal its removal.
    if (event.type == WatchEvent::Type::kPut && event.kv.lease == 0) {
      w.u8(kPut);
      write_kv(w, event.kv);
    } else {
      w.u8(kDelete);
      w.str(event.kv.key);
    }
  }
  pending_ += frame(w.take());
}

void LocalJournal::sync() {
  if (pending_.empty()) return;
  const std::string path = journal_path();
  std::string data = std::move(pending_);
  pending_.clear();
  write_all(fd_, data, path);
  if (::fdatasync(fd_) != 0) fail("fdatasync " + path, errno);
  size_ += data.size();
}

void LocalJournal::roll(const LocalKvState& state) {
  Writer w;
  w.u8(kSnapshotKind);
  w.i64(state.revision());
  uint32_t count = 0;
  for (const auto& [key, kv] : state.kvs()) count += kv.lease == 0 ? 1 : 0;
  w.u32(count);
  for (const auto& [key, kv] : state.kvs()) {
    if (kv.lease == 0) write_kv(w, kv);
  }
  const std::string tmp = snapshot_path() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("open " + tmp, errno);
  try {
    write_all(fd, std::string(kSnapshotMagic) + frame(w.take()), tmp);
    if (::fsync(fd) != 0) fail("fsync " + tmp, errno);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), snapshot_path().c_str()) != 0) fail("rename " + tmp, errno);
  fsync_dir(dir_);
  // A crash before this truncation is harmless: replay skips records the snapshot holds.
  const std::string path = journal_path();
  if (::ftruncate(fd_, static_cast<off_t>(kJournalMagic.size())) != 0) fail("truncate " + path, errno);
  if (::fdatasync(fd_) != 0) fail("fdatasync " + path, errno);
  size_ = kJournalMagic.size();
}

}  // namespace runnel::cluster
