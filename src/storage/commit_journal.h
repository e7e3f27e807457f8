#pragma once
// The commit journal: one write-ahead journal shared by every log of a broker,
// so that a flush round over many partitions costs one fdatasync instead of one
// per partition. A round writes the batches each log gained since its durable
// point into one record and fdatasyncs the journal; those batches are then
// durable (acknowledged, below the high watermark) although their segment
// files are not yet synced. At startup, after the logs' own recovery, the
// batches a log lacks are appended back from the journal.
//
// Two files take turns. A checkpoint switches records to the other file, then
// fsyncs (in the background) every log that has records in the file left
// behind; that file is overwritten only at the next switch, after the
// checkpoint is done, so records never have to wait for a checkpoint.
//
// File layout (fixed-width fields big-endian): a 4 KiB header {magic, version, generation, crc} and records from
// offset 4096 on. A record is {magic, body length, generation, crc32c} and a
// body of items; an item is {kind, topic id, partition dir name, batches}.
// Starting a file over writes a new generation into its header; the file keeps
// its size and later records overwrite old ones in place (an fdatasync then has
// no file size to persist). Reading a file stops at the first record that is
// torn, corrupt or of another generation; generation 0 marks an empty file.
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/uuid.h"
#include "storage/env.h"

namespace runnel::storage {

class Log;

// The two files are <log dir>/runnel-commit-journal.0 and .1.
inline constexpr const char* kCommitJournalFile = "runnel-commit-journal";

class CommitJournal {
 public:
  enum class ItemKind : uint8_t {
    kBatches = 1,  // whole batches to append where the log ends
    kForget = 2,   // earlier items for this log no longer apply (it was synced, then truncated or removed)
  };
  struct Item {
    ItemKind kind = ItemKind::kBatches;
    Uuid topic_id;
    std::string name;  // the partition dir's name, <topic>-<partition>
    std::vector<uint8_t> batches;
  };

  // Opens (creating if missing) the journal's two files in `dir` and reads their
  // records into `items`, in the order they were written. Call reset() once
  // what they hold is safe in the logs, before the first record.
  static std::unique_ptr<CommitJournal> open(Env& env, const std::string& dir, std::vector<Item>& items,
                                             std::error_code& ec);

  // Builds one record: begin_record(), then add_* per log, then commit_record().
  // The caller holds mutex() throughout (CommitJournal::forget takes it too).
  std::mutex& mutex() { return mu_; }
  void begin_record();
  // Returns where the batches go: append them to the returned buffer, then call
  // end_batches(). Keeps the copy of a log's batches to one.
  std::vector<uint8_t>& begin_batches(const Uuid& topic_id, std::string_view name);
  void end_batches();
  void add_forget(const Uuid& topic_id, std::string_view name);
  bool record_empty() const;
  // Writes the record and fdatasyncs the journal. A failed write (a full disk)
  // only fails this record; after a failed fdatasync the journal is failed()
  // and takes no more.
  std::error_code commit_record();

  // Makes sure no earlier item for a log is ever replayed: fsyncs `log` if given
  // (so nothing it holds depends on the journal), then writes and syncs a forget
  // item. Called before a truncation rewrites the log (with it) or a removal
  // deletes it (without).
  std::error_code forget(Log* log, const Uuid& topic_id, std::string_view name);

  // Records go to the other file from now on, started over. Call only once
  // every log with records in that other file was fsynced past them (the
  // previous checkpoint is done).
  std::error_code switch_files();
  // Both files start over: call only once every log with records in either
  // was fsynced past them (after the startup replay).
  std::error_code reset();

  // Bytes of records in the current file (since the last switch or reset).
  int64_t used_bytes() const { return write_position_ - kHeaderBytes; }
  bool failed() const { return failed_; }
  uint64_t generation() const { return generations_[current_]; }

  static constexpr int64_t kHeaderBytes = 4096;

 private:
  CommitJournal(std::unique_ptr<File> first, std::unique_ptr<File> second);
  std::error_code write_header(int which, uint64_t generation);
  // Appends an item's fixed fields and name to record_; returns where it starts.
  size_t put_item_header(ItemKind kind, const Uuid& topic_id, std::string_view name);

  std::mutex mu_;
  std::unique_ptr<File> files_[2];
  uint64_t generations_[2] = {0, 0};
  int current_ = 0;
  int64_t write_position_ = kHeaderBytes;
  bool failed_ = false;
  std::vector<uint8_t> record_;   // the record being built, header first
  size_t open_item_ = 0;          // where the open batches item starts in record_
};

// "<topic>-<partition>" of a log dir path: its last component (a view into `dir`).
std::string_view partition_dir_name(std::string_view dir);

}  // namespace runnel::storage
