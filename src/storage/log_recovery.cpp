// Log::load: segment discovery and crash recovery at open.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "storage/log.h"
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

}  // namespace

std::error_code Log::load(const LogOpenOptions& options) {
  if (auto ec = env_.create_dir(dir_)) return ec;
  std::vector<std::string> names;
  if (auto ec = env_.list_dir(dir_, names)) return ec;

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
    log_start_offset_ = log_end_offset_ = durable_offset_ = base;
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
  size_t first_to_scan = segs.size();
  if (!options.clean_shutdown) {
    first_to_scan = 0;
    for (size_t i = 0; i < segs.size(); ++i)
      if (segs[i]->base_offset() <= options.recovery_point) first_to_scan = i;
  }

  bool dir_changed = false;
  int64_t prev_end = segs.front()->base_offset();
  size_t kept = segs.size();
  for (size_t i = 0; i < segs.size(); ++i) {
    auto& seg = segs[i];
    bool scan = i >= first_to_scan;
    if (!scan) {
      bool ok = false;
      if (auto ec = seg->load_clean(ok)) return ec;
      if (!ok) {
        spdlog::warn("log {}: indexes of segment {} are missing or inconsistent, rebuilding", dir_, seg->base_offset());
        scan = true;
      }
    }
    if (scan) {
      int64_t truncated = 0;
      std::string reason;
      if (auto ec = seg->recover(prev_end, truncated, reason)) return ec;
      if (auto ec = seg->sync_log()) return ec;  // what survives recovery is durable
      if (auto ec = seg->sync_indexes()) return ec;
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
  if (dir_changed) return env_.sync_dir(dir_);
  return {};
}

}  // namespace runnel::storage
