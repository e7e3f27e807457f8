#include "storage/producer_id_manager.h"

#include <spdlog/spdlog.h>

#include <charconv>

namespace runnel::storage {

// File format: "version: 0\nnext_producer_id: <n>\n" — every id below n may have been used.
std::error_code ProducerIdManager::open(Env& env, const std::string& dir) {
  env_ = &env;
  path_ = dir + "/" + kProducerIdBlockFile;
  int64_t start = 0;
  if (env.exists(path_)) {
    std::string text;
    if (auto ec = read_whole_file(env, path_, text)) return ec;
    const std::string_view key = "next_producer_id: ";
    const auto at = text.find(key);
    const char* first = at == std::string::npos ? nullptr : text.data() + at + key.size();
    if (!first || std::from_chars(first, text.data() + text.size(), start).ec != std::errc() || start < 0) {
      spdlog::error("{} is malformed", path_);
      return std::make_error_code(std::errc::invalid_argument);
    }
  }
  if (auto ec = persist(start + kBlockSize)) return ec;
  std::lock_guard lock(mu_);
  next_ = start;
  current_end_ = start + kBlockSize;
  reserved_end_ = current_end_;
  return {};
}

std::error_code ProducerIdManager::persist(int64_t reserved_end) {
  return write_file_atomically(*env_, path_, "version: 0\nnext_producer_id: " + std::to_string(reserved_end) + "\n");
}

std::optional<int64_t> ProducerIdManager::allocate() {
  std::function<void()> hook;
  std::optional<int64_t> id;
  {
    std::lock_guard lock(mu_);
    if (next_ >= current_end_ && spare_start_ >= 0) {
      next_ = spare_start_;
      current_end_ = spare_start_ + kBlockSize;
      spare_start_ = -1;
    }
    if (next_ < current_end_) id = next_++;
    if (spare_start_ < 0 && current_end_ - next_ < kBlockSize / 2) hook = on_reservation_needed_;
  }
  if (hook) hook();
  return id;
}

bool ProducerIdManager::reservation_needed() const {
  std::lock_guard lock(mu_);
  return env_ && spare_start_ < 0 && current_end_ - next_ < kBlockSize / 2;
}

std::error_code ProducerIdManager::reserve_next_block() {
  std::lock_guard io(io_mu_);
  int64_t start = 0;
  {
    std::lock_guard lock(mu_);
    if (!env_ || spare_start_ >= 0) return {};
    start = reserved_end_;
  }
  if (auto ec = persist(start + kBlockSize)) {
    spdlog::error("cannot reserve producer ids: {}", ec.message());
    return ec;
  }
  std::lock_guard lock(mu_);
  reserved_end_ = start + kBlockSize;
  spare_start_ = start;
  return {};
}

void ProducerIdManager::set_on_reservation_needed(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  on_reservation_needed_ = std::move(hook);
}

}  // namespace runnel::storage
