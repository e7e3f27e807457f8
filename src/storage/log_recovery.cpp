// Log::load: segment discovery and crash recovery at open.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "storage/log.h"
#include "storage/producer_state.h"
#include "storage/segment.h"

namespace runnel::storage {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "00000000000000000042" -> 42; anything else -> nullopt.
std::optional<int64_t> parse_base_offset(const std::string& stem) {
  if (stem.size() != 20 || !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  try {
    return std::stoll(stem);
  } catch (...) {
    return std::nullopt;
  }
}

std::string stem_of(const std::string& name) { return name.substr(0, name.find('.')); }

// Whether a partition dir may hold `name`: segment files, snapshots, Kafka's
// metadata files and the temporaries of a crash-safe rename.
bool known_partition_file(const std::string& name) {
  if (name == "partition.metadata" || name == "leader-epoch-checkpoint" || name == kForgottenProducersFile ||
      ends_with(name, ".tmp"))
    return true;
  const auto dot = name.find('.');
  if (dot == std::string::npos || !parse_base_offset(name.substr(0, dot))) return false;
  const std::string ext = name.substr(dot);
  for (const char* known : {".log", ".index", ".timeindex", ".snapshot", ".txnindex"})
    if (ext.starts_with(known)) return true;  // also .log.swap, .index.cleaned, ...
  return false;
}

}  // namespace

std::error_code Log::resolve_swap_files(std::vector<std::string>& names) {
  // Kafka's suffixes: *.deleted were on their way out; *.cleaned are an
  // unfinished cleaner output. Both go.
  bool changed = false;
  std::set<int64_t> swaps;
  for (const auto& name : names) {
    if (ends_with(name, ".deleted") || ends_with(name, ".cleaned")) {
      if (ends_with(name, ".log.cleaned")) spdlog::info("log {}: discarding unfinished cleaner output {}", dir_, name);
      (void)env_.remove(dir_ + "/" + name);
      changed = true;
    } else if (ends_with(name, ".log.swap")) {
      if (auto base = parse_base_offset(stem_of(name))) swaps.insert(*base);
    }
  }
  for (const auto& name : names) {
    if ((ends_with(name, ".index.swap") || ends_with(name, ".timeindex.swap")) && !ends_with(name, ".log.swap")) {
      auto base = parse_base_offset(stem_of(name));
      if (!base || !swaps.count(*base)) {
        (void)env_.remove(dir_ + "/" + name);
        changed = true;
      }
    }
  }
  // A *.swap segment is a complete, fsynced cleaner output: it replaces every old
  // segment in its offset range, then takes the plain name (Kafka's LogLoader).
  for (int64_t base : swaps) {
    std::shared_ptr<Segment> swap;
    if (auto ec = Segment::open(env_, dir_, base, config_, swap, ".swap")) return ec;
    int64_t truncated = 0;
    std::string reason;
    if (auto ec = swap->recover(base, INT64_MAX, truncated, reason)) return ec;
    if (swap->empty() || !reason.empty()) {
      spdlog::warn("log {}: discarding invalid cleaned segment {} ({})", dir_, base, reason.empty() ? "empty" : reason);
      (void)swap->remove_files();
      continue;
    }
    const int64_t end = swap->next_offset();
    for (const auto& name : names) {
      if (!ends_with(name, ".log")) continue;
      auto old = parse_base_offset(stem_of(name));
      if (!old || *old < base || *old >= end) continue;
      for (const char* ext : {".log", ".index", ".timeindex"}) (void)env_.remove(dir_ + "/" + Segment::file_name(*old, ext));
    }
    if (auto ec = swap->sync_log()) return ec;
    if (auto ec = swap->sync_indexes()) return ec;
    if (auto ec = swap->change_suffix("")) return ec;
    spdlog::info("log {}: completed the swap of cleaned segment {} (offsets [{}, {}))", dir_, base, base, end);
    changed = true;
  }
  if (!changed) return {};
  if (auto ec = env_.sync_dir(dir_)) return ec;
  return env_.list_dir(dir_, names);
}

bool Log::load_producer_state() {
  std::vector<std::string> names;
  if (env_.list_dir(dir_, names)) return false;
  snapshots_.clear();
  for (const auto& name : names)
    if (auto offset = parse_snapshot_file_name(name)) snapshots_.insert(*offset);
  if (std::find(names.begin(), names.end(), kForgottenProducersFile) != names.end()) {
    std::string bytes;
    if (read_whole_file(env_, dir_ + "/" + kForgottenProducersFile, bytes) || !producers_.parse_forgotten(bytes))
      // Not fatal: those producers get OUT_OF_ORDER_SEQUENCE_NUMBER instead of a reset.
      spdlog::warn("log {}: ignoring unreadable {}", dir_, kForgottenProducersFile);
  }
  return rebuild_producer_state_locked(log_end_offset_);
}

bool Log::rebuild_producer_state_locked(int64_t end) {
  // Snapshots past the end describe data that recovery or a truncation cut off.
  bool removed = remove_snapshots_above_locked(end);
  producers_.clear();
  int64_t start = segments_.begin()->first;
  bool loaded = false;
  const std::vector<int64_t> newest_first(snapshots_.rbegin(), snapshots_.rend());
  for (int64_t offset : newest_first) {
    const std::string path = dir_ + "/" + snapshot_file_name(offset);
    std::string bytes;
    if (!read_whole_file(env_, path, bytes) && producers_.parse(bytes)) {
      start = std::max(start, offset);
      loaded = true;
      break;
    }
    spdlog::warn("log {}: removing invalid producer snapshot {}", dir_, path);
    (void)env_.remove(path);
    std::erase(unsynced_snapshots_, path);
    snapshots_.erase(offset);
    removed = true;
  }
  // Replay the batch headers after the snapshot (the whole log without one).
  size_t batches = 0;
  auto it = segments_.upper_bound(start);
  if (it != segments_.begin()) --it;
  for (; it != segments_.end(); ++it) {
    const auto& seg = it->second;
    int64_t pos = seg->position_for(start);
    while (pos + static_cast<int64_t>(kBatchHeaderSize) <= seg->size()) {
      BatchHeader h;
      if (seg->read_header(pos, h)) break;
      if (h.base_offset >= end) break;
      if (h.last_offset() >= start) {
        producers_.replay(h);
        ++batches;
      }
      pos += h.total_size();
    }
  }
  if (batches > 0 || producers_.size() > 0)
    spdlog::info("log {}: producer state of {} producers (snapshot {}, {} batches replayed)", dir_, producers_.size(),
                 loaded ? std::to_string(start) : "none", batches);
  return removed;
}

bool Log::remove_snapshots_above_locked(int64_t offset) {
  bool removed = false;
  for (auto it = snapshots_.upper_bound(offset); it != snapshots_.end(); it = snapshots_.erase(it)) {
    const std::string path = dir_ + "/" + snapshot_file_name(*it);
    spdlog::info("log {}: removing producer snapshot {} (past the log end {})", dir_, path, offset);
    (void)env_.remove(path);
    std::erase(unsynced_snapshots_, path);
    removed = true;
  }
  return removed;
}

std::error_code Log::load(const LogOpenOptions& options) {
  if (auto ec = env_.create_dir(dir_)) return ec;
  std::vector<std::string> names;
  if (auto ec = env_.list_dir(dir_, names)) return ec;
  if (auto ec = resolve_swap_files(names)) return ec;
  for (const auto& name : names)
    if (!known_partition_file(name))
      spdlog::warn("log {}: ignoring unexpected file '{}' (not a segment, index or snapshot)", dir_, name);
  cleaner_checkpoint_ = options.cleaner_checkpoint;
  // Tombstone delete horizons live in the cleaned batches; after a restart the
  // cleaner makes one pass over a cleaned log to find the due ones.
  delete_horizon_due_ = cleaner_checkpoint_ >= 0 ? 0 : -1;

  std::set<int64_t> bases;
  for (const auto& name : names)
    if (ends_with(name, ".log"))
      if (auto base = parse_base_offset(stem_of(name))) bases.insert(*base);
  // Index files whose segment is gone (e.g. a crash while deleting) are removed.
  for (const auto& name : names) {
    if (!ends_with(name, ".index") && !ends_with(name, ".timeindex")) continue;
    auto base = parse_base_offset(stem_of(name));
    if (base && !bases.count(*base)) {
      spdlog::warn("log {}: removing orphaned index file {}", dir_, name);
      (void)env_.remove(dir_ + "/" + name);
    }
  }

  std::lock_guard lock(mu_);
  if (bases.empty()) {
    const int64_t base = std::max<int64_t>(options.log_start_offset, 0);
    std::shared_ptr<Segment> seg;
    if (auto ec = Segment::create(env_, dir_, base, config_, seg)) return ec;
    segments_[base] = seg;
    log_start_offset_ = log_end_offset_ = durable_offset_ = synced_offset_ = base;
    load_producer_state();  // drops stale snapshots
    load_leader_epochs_locked(base);
    init_high_watermark_locked(options.high_watermark);
    return env_.sync_dir(dir_);
  }

  std::vector<std::shared_ptr<Segment>> segs;
  for (int64_t base : bases) {
    std::shared_ptr<Segment> seg;
    if (auto ec = Segment::open(env_, dir_, base, config_, seg)) return ec;
    segs.push_back(std::move(seg));
  }

  // Without a clean shutdown, everything from the segment holding the recovery point on
  // may hold unsynced (torn) data and gets a full CRC scan.
  // Even after a clean shutdown the active segment is scanned: it is the only one
  // anything could have been appended to since, and a bad batch there must never be served.
  size_t first_to_scan = segs.size() - 1;
  if (!options.clean_shutdown) {
    first_to_scan = 0;
    for (size_t i = 0; i < segs.size(); ++i)
      if (segs[i]->base_offset() <= options.recovery_point) first_to_scan = i;
  }

  bool dir_changed = false;
  int64_t prev_end = segs.front()->base_offset();
  int64_t scanned_from = INT64_MAX;  // base of the first segment scanned batch by batch
  size_t kept = segs.size();
  for (size_t i = 0; i < segs.size(); ++i) {
    auto& seg = segs[i];
    // Segments never overlap: batches at or past the next segment's base are what a
    // truncation cut off (Segment::cut_at) before a crash or restart.
    const int64_t bound = i + 1 < segs.size() ? segs[i + 1]->base_offset() : INT64_MAX;
    bool scan = i >= first_to_scan;
    if (!scan) {
      bool ok = false;
      if (auto ec = seg->load_clean(ok)) return ec;
      if (!ok) {
        spdlog::warn("log {}: indexes of segment {} are missing or inconsistent, rebuilding", dir_, seg->base_offset());
        scan = true;
      } else if (seg->next_offset() > bound) {
        scan = true;
      }
    }
    if (scan) {
      int64_t truncated = 0;
      std::string reason;
      scanned_from = std::min(scanned_from, seg->base_offset());
      if (auto ec = seg->recover(prev_end, bound, truncated, reason)) return ec;
      if (auto ec = seg->sync_log()) return ec;  // what survives recovery is durable
      if (auto ec = seg->sync_indexes()) return ec;
      if (reason.empty() && truncated > 0)
        spdlog::info("log {}: cut {} bytes of segment {} at the next segment's base offset {} (a truncation)", dir_,
                     truncated, seg->base_offset(), bound);
      if (!reason.empty()) {
        kept = i + 1;
        spdlog::warn(
            "log {}: recovery found {} in segment {} at byte {}: truncated {} bytes, deleting {} later segment(s); "
            "log end offset is now {}",
            dir_, reason, seg->base_offset(), seg->size(), truncated, segs.size() - kept, seg->next_offset());
        dir_changed = true;
        break;
      }
    }
    prev_end = seg->next_offset();
  }
  for (size_t i = kept; i < segs.size(); ++i)
    if (auto ec = segs[i]->remove_files()) return ec;
  segs.resize(kept);
  // A trailing segment emptied by truncation stays as the active segment only if it is the
  // first; otherwise the previous one becomes active again.
  while (segs.size() > 1 && segs.back()->empty() && segs.back()->base_offset() != segs[segs.size() - 2]->next_offset()) {
    if (auto ec = segs.back()->remove_files()) return ec;
    segs.pop_back();
  }

  for (size_t i = 0; i + 1 < segs.size(); ++i)
    if (auto ec = segs[i]->become_inactive()) return ec;
  if (auto ec = segs.back()->become_active()) return ec;
  for (auto& seg : segs) segments_[seg->base_offset()] = seg;

  log_end_offset_ = segs.back()->next_offset();
  log_start_offset_ = std::clamp(options.log_start_offset, segs.front()->base_offset(), log_end_offset_);
  durable_offset_ = log_end_offset_;
  synced_offset_ = log_end_offset_;
  durable_position_ = segs.back()->size();
  if (load_producer_state()) dir_changed = true;
  load_leader_epochs_locked(std::min(scanned_from, log_end_offset_));
  init_high_watermark_locked(options.high_watermark);
  if (dir_changed) return env_.sync_dir(dir_);
  return {};
}

}  // namespace runnel::storage
