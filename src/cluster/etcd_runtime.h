#pragma once
// One gRPC completion queue and the thread that serves it. Every etcd call,
// stream and timer of an EtcdStore runs on this thread, so their state needs no
// locks; other threads hand work over with submit().
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <grpcpp/alarm.h>
#include <grpcpp/completion_queue.h>

namespace runnel::cluster::etcd {

class Runtime {
 public:
  Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  ~Runtime();

  grpc::CompletionQueue* cq() { return &cq_; }

  // Runtime thread: a tag for one async operation; `handler(ok)` runs on the
  // runtime thread when the operation completes.
  void* tag(std::function<void(bool ok)> handler);

  // Any thread: runs `fn` on the runtime thread, in submission order. Silently
  // dropped once stop() has begun.
  void submit(std::function<void()> fn);

  // Runtime thread: true once stop() began; start nothing new then.
  bool stopping() const { return draining_; }

  // Not from the runtime thread: runs `cancel` there (it must cancel every call,
  // stream and timer it started), waits until all their operations completed,
  // then ends the thread. Idempotent.
  void stop(std::function<void()> cancel);

 private:
  struct Tag {
    std::function<void(bool)> handler;
  };
  void run();

  grpc::CompletionQueue cq_;
  std::mutex mu_;
  std::vector<std::function<void()>> inbox_;
  std::unique_ptr<grpc::Alarm> doorbell_;  // an alarm set to "now" wakes the thread for the inbox
  bool doorbell_pending_ = false;
  bool accepting_ = true;
  char doorbell_tag_ = 0;  // its address is the doorbell's tag

  // Runtime thread only.
  size_t outstanding_ = 0;
  bool draining_ = false;
  bool cq_shut_down_ = false;

  std::thread thread_;
};

// A one-shot timer on the runtime thread. Once cancelled or destroyed, its
// function never runs.
class Timer {
 public:
  explicit Timer(Runtime& runtime) : runtime_(runtime) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { cancel(); }

  // Runtime thread. Replaces a pending start. Does nothing while the runtime stops.
  void start(int64_t delay_ms, std::function<void()> fn);
  void cancel();
  bool pending() const { return armed_ && *armed_; }

 private:
  Runtime& runtime_;
  std::unique_ptr<grpc::Alarm> alarm_;
  std::shared_ptr<bool> armed_;
};

}  // namespace runnel::cluster::etcd
