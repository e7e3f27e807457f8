#include "storage/leader_epoch_cache.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace runnel::storage {

namespace {

template <typename T>
bool parse_int(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

std::string describe(const std::vector<EpochEntry>& entries) {
  std::string out;
  for (const auto& e : entries) out += (out.empty() ? "" : ", ") + fmt::format("({}, {})", e.epoch, e.start_offset);
  return "[" + out + "]";
}

}  // namespace

LeaderEpochCache::LeaderEpochCache(Env& env, std::string dir)
    : env_(env), dir_(std::move(dir)), path_(dir_ + "/" + kLeaderEpochCheckpointFile) {}

std::string LeaderEpochCache::format(const std::vector<EpochEntry>& entries) {
  std::string out = "0\n" + std::to_string(entries.size()) + "\n";
  for (const auto& e : entries) out += std::to_string(e.epoch) + " " + std::to_string(e.start_offset) + "\n";
  return out;
}

std::optional<std::vector<EpochEntry>> LeaderEpochCache::parse(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  size_t count = 0;
  if (lines.size() < 2 || lines[0] != "0" || !parse_int(lines[1], count)) return std::nullopt;
  // As Kafka's CheckpointFile: exactly `count` entry lines, each two whitespace-separated numbers.
  if (lines.size() != 2 + count) return std::nullopt;
  std::vector<EpochEntry> entries;
  for (size_t i = 2; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    const auto first_end = line.find_first_of(" \t");
    if (first_end == std::string_view::npos) return std::nullopt;
    const auto second = line.find_first_not_of(" \t", first_end);
    if (second == std::string_view::npos) return std::nullopt;
    EpochEntry e;
    if (!parse_int(line.substr(0, first_end), e.epoch) || !parse_int(line.substr(second), e.start_offset))
      return std::nullopt;
    if (e.epoch < 0 || e.start_offset < 0) return std::nullopt;
    entries.push_back(e);
  }
  return entries;
}

LeaderEpochCache::LoadState LeaderEpochCache::load() {
  std::string text;
  LoadState state = LoadState::kOk;
  std::vector<EpochEntry> loaded;
  if (!env_.exists(path_)) {
    state = LoadState::kMissing;
  } else if (read_whole_file(env_, path_, text)) {
    state = LoadState::kMalformed;
  } else if (text.empty()) {
    state = LoadState::kMissing;
  } else if (auto parsed = parse(text)) {
    loaded = std::move(*parsed);
  } else {
    state = LoadState::kMalformed;
  }
  std::lock_guard lock(mu_);
  entries_.clear();
  // Through assign, as Kafka loads the file: out-of-order lines resolve as they would live.
  for (const auto& e : loaded) assign_locked(e.epoch, e.start_offset);
  ++version_;
  // Clean when memory matches the file (or its absence); dirty when assign had to
  // resolve conflicting lines, so the next persist() rewrites them.
  persisted_version_ = entries_ == loaded ? version_ : version_ - 1;
  return state;
}

bool LeaderEpochCache::assign(int32_t epoch, int64_t start_offset) {
  std::lock_guard lock(mu_);
  return assign_locked(epoch, start_offset);
}

bool LeaderEpochCache::assign_locked(int32_t epoch, int64_t start_offset) {
  if (epoch < 0 || start_offset < 0) {
    spdlog::warn("leader epoch cache {}: ignoring invalid entry ({}, {})", dir_, epoch, start_offset);
    return false;
  }
  if (!entries_.empty()) {
    const EpochEntry& latest = entries_.back();
    // Kafka's isUpdateNeeded: the same epoch continuing, or a repeat, changes nothing.
    if (epoch == latest.epoch && start_offset >= latest.start_offset) return false;
  }
  std::vector<EpochEntry> removed;
  while (!entries_.empty() && (entries_.back().epoch >= epoch || entries_.back().start_offset >= start_offset)) {
    removed.insert(removed.begin(), entries_.back());
    entries_.pop_back();
  }
  // Only a removal that drops data is worth a warning: an epoch that never got a
  // batch (same start offset) being replaced is expected.
  if (removed.size() > 1 || (removed.size() == 1 && removed.front().start_offset != start_offset))
    spdlog::warn("leader epoch cache {}: new entry ({}, {}) removed conflicting entries {}", dir_, epoch, start_offset,
                 describe(removed));
  entries_.push_back({epoch, start_offset});
  ++version_;
  return true;
}

bool LeaderEpochCache::truncate_from_end(int64_t end_offset) {
  std::lock_guard lock(mu_);
  if (end_offset < 0) return false;
  bool changed = false;
  while (!entries_.empty() && entries_.back().start_offset >= end_offset) {
    entries_.pop_back();
    changed = true;
  }
  if (changed) ++version_;
  return changed;
}

bool LeaderEpochCache::truncate_from_start(int64_t start_offset) {
  std::lock_guard lock(mu_);
  size_t below = 0;  // entries starting at or below start_offset
  while (below < entries_.size() && entries_[below].start_offset <= start_offset) ++below;
  if (below == 0) return false;
  EpochEntry first = entries_[below - 1];
  if (below == 1 && first.start_offset == start_offset) return false;  // already exact
  first.start_offset = start_offset;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(below));
  entries_.insert(entries_.begin(), first);
  ++version_;
  return true;
}

bool LeaderEpochCache::clear() {
  std::lock_guard lock(mu_);
  if (entries_.empty()) return false;
  entries_.clear();
  ++version_;
  return true;
}

std::error_code LeaderEpochCache::persist(bool force) {
  std::lock_guard file_lock(file_mu_);
  std::string text;
  uint64_t version = 0;
  {
    std::lock_guard lock(mu_);
    if (!force && version_ == persisted_version_) return {};
    text = format(entries_);
    version = version_;
  }
  if (auto ec = write_file_atomically(env_, path_, text)) {
    spdlog::error("leader epoch cache {}: writing {} failed: {}", dir_, path_, ec.message());
    return ec;
  }
  std::lock_guard lock(mu_);
  persisted_version_ = std::max(persisted_version_, version);
  return {};
}

std::error_code LeaderEpochCache::remove_file() {
  std::lock_guard file_lock(file_mu_);
  if (env_.exists(path_)) {
    if (auto ec = env_.remove(path_)) {
      spdlog::error("leader epoch cache {}: removing {} failed: {}", dir_, path_, ec.message());
      return ec;
    }
  }
  std::lock_guard lock(mu_);
  ++version_;  // whatever memory holds, the file must be written again
  return {};
}

int32_t LeaderEpochCache::latest_epoch() const {
  std::lock_guard lock(mu_);
  return entries_.empty() ? kUndefinedEpoch : entries_.back().epoch;
}

std::optional<EpochEntry> LeaderEpochCache::latest_entry() const {
  std::lock_guard lock(mu_);
  if (entries_.empty()) return std::nullopt;
  return entries_.back();
}

std::vector<EpochEntry> LeaderEpochCache::entries() const {
  std::lock_guard lock(mu_);
  return entries_;
}

bool LeaderEpochCache::empty() const {
  std::lock_guard lock(mu_);
  return entries_.empty();
}

EpochEndOffset LeaderEpochCache::end_offset_for(int32_t requested_epoch, int64_t log_end_offset) const {
  std::lock_guard lock(mu_);
  // A bootstrapping follower (or one without epochs) asks with -1: undefined.
  if (requested_epoch == kUndefinedEpoch) return {};
  // The latest epoch is the one still being written: it ends at the log end.
  if (!entries_.empty() && entries_.back().epoch == requested_epoch) return {requested_epoch, log_end_offset};
  const auto higher = std::upper_bound(entries_.begin(), entries_.end(), requested_epoch,
                                       [](int32_t epoch, const EpochEntry& e) { return epoch < e.epoch; });
  // Above every known epoch: undefined.
  if (higher == entries_.end()) return {};
  // Below every known epoch: the data is gone; the follower restarts from the first start offset.
  if (higher == entries_.begin()) return {requested_epoch, higher->start_offset};
  // The largest epoch <= requested, ending where the next higher epoch starts.
  return {std::prev(higher)->epoch, higher->start_offset};
}

}  // namespace runnel::storage
