#pragma once
// An Env wrapper that simulates a full disk (a write budget, with a torn prefix
// written when it runs out), failing fsyncs, and a crash: after `ops_budget`
// file-system changes (write, truncate, fsync, rename, remove, create) every
// further change fails, so the files are left as a crash at that point would
// leave them (mmap'ed index stores excepted: they reach the page cache anyway).
#include <atomic>

#include "storage/env.h"

namespace runnel::testing {

class FaultEnv : public storage::Env {
 public:
  std::atomic<int64_t> write_budget{-1};  // bytes left before ENOSPC; -1 = unlimited
  std::atomic<bool> fail_sync{false};
  std::atomic<int64_t> ops_budget{-1};  // changes left before the "crash"; -1 = unlimited
  std::atomic<int64_t> ops_done{0};     // changes made (to size a crash test's loop)
  // fsyncs succeed without reaching the disk: crash tests loop a lot, and their
  // simulated crash loses nothing unsynced anyway.
  std::atomic<bool> skip_sync{false};

  // One more file-system change: false (and nothing done) once the budget is spent.
  bool take_op() {
    if (ops_budget.load() == 0) return false;
    if (ops_budget.load() > 0) --ops_budget;
    ++ops_done;
    return true;
  }
  static std::error_code crashed() { return std::make_error_code(std::errc::io_error); }

  std::error_code open_file(const std::string& path, bool create, std::unique_ptr<storage::File>& out) override {
    if (create && !base_.exists(path) && !take_op()) return crashed();
    std::unique_ptr<storage::File> inner;
    if (auto ec = base_.open_file(path, create, inner)) return ec;
    out = std::make_unique<FaultFile>(std::move(inner), *this);
    return {};
  }
  std::error_code rename(const std::string& a, const std::string& b) override {
    if (!take_op()) return crashed();
    return base_.rename(a, b);
  }
  std::error_code remove(const std::string& p) override {
    if (!take_op()) return crashed();
    return base_.remove(p);
  }
  std::error_code create_dir(const std::string& p) override {
    if (!base_.exists(p) && !take_op()) return crashed();
    return base_.create_dir(p);
  }
  std::error_code list_dir(const std::string& p, std::vector<std::string>& n) override { return base_.list_dir(p, n); }
  std::error_code sync_dir(const std::string& p) override {
    if (fail_sync) return std::make_error_code(std::errc::io_error);
    if (!take_op()) return crashed();
    if (skip_sync) return {};
    return base_.sync_dir(p);
  }
  bool exists(const std::string& p) override { return base_.exists(p); }
  bool is_dir(const std::string& p) override { return base_.is_dir(p); }

 private:
  class FaultFile : public storage::File {
   public:
    FaultFile(std::unique_ptr<storage::File> inner, FaultEnv& env) : inner_(std::move(inner)), env_(env) {}
    std::error_code write_at(std::span<const uint8_t> data, int64_t pos) override {
      if (!env_.take_op()) return crashed();
      int64_t budget = env_.write_budget.load();
      if (budget >= 0 && budget < static_cast<int64_t>(data.size())) {
        env_.write_budget = 0;
        (void)inner_->write_at(data.first(static_cast<size_t>(budget)), pos);  // torn prefix
        return std::make_error_code(std::errc::no_space_on_device);
      }
      if (budget >= 0) env_.write_budget -= static_cast<int64_t>(data.size());
      return inner_->write_at(data, pos);
    }
    std::error_code read_at(std::span<uint8_t> out, int64_t pos, size_t& n) const override {
      return inner_->read_at(out, pos, n);
    }
    std::error_code truncate(int64_t size) override {
      if (!env_.take_op()) return crashed();
      return inner_->truncate(size);
    }
    std::error_code sync() override {
      if (env_.fail_sync) return std::make_error_code(std::errc::io_error);
      if (!env_.take_op()) return crashed();
      if (env_.skip_sync) return {};
      return inner_->sync();
    }
    std::error_code size(int64_t& out) const override { return inner_->size(out); }
    std::error_code map(size_t length, std::unique_ptr<storage::MappedRegion>& out) override {
      return inner_->map(length, out);
    }
    int fd() const override { return inner_->fd(); }

   private:
    std::unique_ptr<storage::File> inner_;
    FaultEnv& env_;
  };

  storage::Env& base_ = storage::Env::posix();
};

}  // namespace runnel::testing
