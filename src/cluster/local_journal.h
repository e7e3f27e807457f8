#pragma once
// LocalStore on disk: `snapshot` (the whole key space at one revision, rewritten
// atomically) plus `journal` (one record per writing revision since, appended and
// fdatasynced before the writes are acknowledged). Keys bound to a lease are not
// persisted: a put with a lease is journaled as a delete of that key, so after a
// restart the key is gone, as if its lease had expired while the node was down.
// Revision numbers are journaled even for lease-only writes, so they never go
// backwards across restarts.
//
// Files: "<dir>/journal" starts with an 8-byte magic, then frames
// [u32 payload length][u32 crc32c of payload][payload], integers little-endian.
// "<dir>/snapshot" is the magic followed by one frame. All methods throw
// std::runtime_error with a one-line message; not thread-safe.
#include <cstdint>
#include <string>
#include <vector>

#include "cluster/local_kv_state.h"
#include "cluster/metadata_store.h"

namespace runnel::cluster {

class LocalJournal {
 public:
  LocalJournal() = default;
  LocalJournal(const LocalJournal&) = delete;
  LocalJournal& operator=(const LocalJournal&) = delete;
  ~LocalJournal();

  // Locks the directory (one store per dir), loads the snapshot and replays the
  // journal into `state`. A torn last record is dropped (the file is truncated to
  // the last whole record); damage before the last record is an error.
  void open(const std::string& dir, LocalKvState& state);

  // Buffers the record of one writing revision; sync() makes it durable.
  void append(int64_t revision, const std::vector<WatchEvent>& events);
  bool has_pending() const { return !pending_.empty(); }
  void sync();

  // Bytes in the journal file (after sync).
  uint64_t size() const { return size_; }
  // Writes a snapshot of `state` (tmp, fsync, rename, fsync dir), then empties the journal.
  void roll(const LocalKvState& state);

  std::string journal_path() const { return dir_ + "/journal"; }
  std::string snapshot_path() const { return dir_ + "/snapshot"; }

 private:
  void load_snapshot(LocalKvState& state);
  void replay_journal(LocalKvState& state);

  std::string dir_;
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string pending_;
};

}  // namespace runnel::cluster
