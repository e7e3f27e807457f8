#pragma once
// Runs a function when the scope ends. Declared before a lock_guard, it runs after
// the lock is released (destruction is in reverse order): Log uses it to write the
// epoch cache outside its mutex on every return path.
#include <utility>

namespace runnel::storage {

template <typename F>
class ScopeExit {
 public:
  explicit ScopeExit(F f) : f_(std::move(f)) {}
  ~ScopeExit() { f_(); }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;

 private:
  F f_;
};

}  // namespace runnel::storage
