#pragma once
// A bidirectional gRPC stream driven on the Runtime's thread: one read always
// outstanding, at most one write in flight, and Finish() once both are over, so
// the stream reports its end exactly once (on_closed). Tags hold a shared_ptr
// to the stream, which therefore lives until its last operation came back.
#include <functional>
#include <memory>

#include <grpcpp/client_context.h>
#include <grpcpp/support/async_stream.h>
#include <grpcpp/support/status.h>

#include "cluster/etcd_runtime.h"

namespace runnel::cluster::etcd {

template <class Request, class Response>
class BidiStream : public std::enable_shared_from_this<BidiStream<Request, Response>> {
 public:
  using Stream = grpc::ClientAsyncReaderWriter<Request, Response>;
  using Prepare = std::function<std::unique_ptr<Stream>(grpc::ClientContext*, grpc::CompletionQueue*)>;
  struct Handlers {
    std::function<void()> on_ready;                      // the call started: writes may begin
    std::function<void(Response&)> on_message;           // each message from the server
    std::function<void(const grpc::Status&)> on_closed;  // once, when the stream is over
  };

  // Runtime thread. `setup` may add metadata to the context before the call starts.
  static std::shared_ptr<BidiStream> open(Runtime& runtime, const Prepare& prepare, Handlers handlers,
                                          const std::function<void(grpc::ClientContext&)>& setup = {}) {
    std::shared_ptr<BidiStream> self(new BidiStream(runtime, std::move(handlers)));
    if (setup) setup(self->context_);
    self->stream_ = prepare(&self->context_, runtime.cq());
    self->stream_->StartCall(runtime.tag([self](bool ok) { self->on_started(ok); }));
    return self;
  }

  bool ready() const { return started_ && !broken_; }
  bool writing() const { return writing_; }

  // Sends one message. False (nothing sent) before on_ready, after the end, or
  // while the previous write is in flight.
  bool write(const Request& request) {
    if (!ready() || writing_) return false;
    writing_ = true;
    request_ = request;
    auto self = this->shared_from_this();
    stream_->Write(request_, runtime_.tag([self](bool ok) { self->on_written(ok); }));
    return true;
  }

  // Ends the stream; on_closed follows (unless detached).
  void cancel() { context_.TryCancel(); }
  // No handler runs any more (the owner is going away).
  void detach() { handlers_ = {}; }

 private:
  BidiStream(Runtime& runtime, Handlers handlers) : runtime_(runtime), handlers_(std::move(handlers)) {}

  void on_started(bool ok) {
    if (!ok) {
      broken_ = true;
      finish_if_idle();
      return;
    }
    started_ = true;
    read();
    if (handlers_.on_ready) handlers_.on_ready();
  }

  void read() {
    reading_ = true;
    auto self = this->shared_from_this();
    stream_->Read(&response_, runtime_.tag([self](bool ok) { self->on_read(ok); }));
  }

  void on_read(bool ok) {
    reading_ = false;
    if (!ok) {
      broken_ = true;
      finish_if_idle();
      return;
    }
    if (handlers_.on_message) handlers_.on_message(response_);
    read();  // after a cancel() this read fails at once and the stream finishes
  }

  void on_written(bool ok) {
    writing_ = false;
    if (!ok) {
      broken_ = true;
      context_.TryCancel();  // makes the outstanding read fail too
    }
    finish_if_idle();
  }

  void finish_if_idle() {
    if (!broken_ || reading_ || writing_ || finishing_) return;
    finishing_ = true;
    auto self = this->shared_from_this();
    stream_->Finish(&status_, runtime_.tag([self](bool) {
      auto on_closed = std::move(self->handlers_.on_closed);
      self->handlers_ = {};
      if (on_closed) on_closed(self->status_);
    }));
  }

  Runtime& runtime_;
  Handlers handlers_;
  grpc::ClientContext context_;
  std::unique_ptr<Stream> stream_;
  Request request_;
  Response response_;
  grpc::Status status_;
  bool started_ = false;
  bool broken_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool finishing_ = false;
};

}  // namespace runnel::cluster::etcd
