#include "cluster/etcd_runtime.h"

#include <grpc/support/time.h>

namespace runnel::cluster::etcd {
namespace {

gpr_timespec after_ms(int64_t ms) {
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

}  // namespace

Runtime::Runtime() { thread_ = std::thread([this] { run(); }); }

Runtime::~Runtime() { stop({}); }

void* Runtime::tag(std::function<void(bool)> handler) {
  ++outstanding_;
  return new Tag{std::move(handler)};
}

void Runtime::submit(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  if (!accepting_) return;
  inbox_.push_back(std::move(fn));
  if (!doorbell_pending_) {
    doorbell_pending_ = true;
    doorbell_ = std::make_unique<grpc::Alarm>();  // the previous one has fired and been handled
    doorbell_->Set(&cq_, gpr_now(GPR_CLOCK_MONOTONIC), &doorbell_tag_);
  }
}

void Runtime::stop(std::function<void()> cancel) {
  {
    std::lock_guard lock(mu_);
    if (accepting_) {
      accepting_ = false;
      inbox_.push_back([this, cancel = std::move(cancel)] {
        draining_ = true;
        if (cancel) cancel();
      });
      if (!doorbell_pending_) {
        doorbell_pending_ = true;
        doorbell_ = std::make_unique<grpc::Alarm>();
        doorbell_->Set(&cq_, gpr_now(GPR_CLOCK_MONOTONIC), &doorbell_tag_);
      }
    }
  }
  if (thread_.joinable()) thread_.join();
}

void Runtime::run() {
  void* got = nullptr;
  bool ok = false;
  while (cq_.Next(&got, &ok)) {
    if (got == &doorbell_tag_) {
      std::vector<std::function<void()>> work;
      {
        std::lock_guard lock(mu_);
        work.swap(inbox_);
        doorbell_pending_ = false;
      }
      for (auto& fn : work) fn();
    } else {
      std::unique_ptr<Tag> done(static_cast<Tag*>(got));
      --outstanding_;
      done->handler(ok);
    }
    // Nothing can be added after stop()'s item ran, so once every operation
    // has come back the queue can be shut down; Next() then returns false.
    if (draining_ && outstanding_ == 0 && !cq_shut_down_) {
      cq_shut_down_ = true;
      cq_.Shutdown();
    }
  }
}

void Timer::start(int64_t delay_ms, std::function<void()> fn) {
  cancel();
  if (runtime_.stopping()) return;
  armed_ = std::make_shared<bool>(true);
  alarm_ = std::make_unique<grpc::Alarm>();
  alarm_->Set(runtime_.cq(), after_ms(delay_ms), runtime_.tag([armed = armed_, fn = std::move(fn)](bool ok) {
    if (!ok || !*armed) return;  // cancelled
    *armed = false;
    fn();
  }));
}

void Timer::cancel() {
  if (armed_) *armed_ = false;
  if (alarm_) alarm_->Cancel();
}

}  // namespace runnel::cluster::etcd
