#pragma once
// Outcome of an inter-broker client call: a value, or a failure made of a small
// error enum and a one-line message. Network trouble is data here, never an
// exception: the callers (replica fetchers, controller forwarding) retry or
// give up per request, they do not unwind.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace runnel::replication {

enum class ClientError {
  kConnectFailed,       // refused, unreachable, unresolvable host, bad source address
  kConnectTimedOut,     // no connection within connect_timeout_ms
  kTimedOut,            // this request got no answer within request_timeout_ms (the connection was closed)
  kDisconnected,        // the connection broke (or another request timed out) while this one was in flight
  kProtocolError,       // malformed or unexpected bytes from the peer
  kClosed,              // close() was called (or the client destroyed) while in flight
  kUnsupportedVersion,  // the peer does not support this api version (not sent)
  kInvalidRequest,      // the request cannot be encoded in the asked version (not sent)
};

std::string_view to_string(ClientError error);

struct ClientFailure {
  ClientError code;
  std::string message;  // one line, for logs

  // "timed out: Fetch v13 (correlation id 7) got no answer within 30000 ms"
  std::string describe() const { return std::string(to_string(code)) + ": " + message; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(ClientFailure failure) : state_(std::in_place_index<1>, std::move(failure)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &value(); }

  const ClientFailure& error() const {
    if (ok()) throw std::logic_error("Result::error() on a success");
    return std::get<1>(state_);
  }

 private:
  T& checked() {
    if (!ok()) throw std::logic_error("Result::value() on a failure: " + std::get<1>(state_).describe());
    return std::get<0>(state_);
  }

  std::variant<T, ClientFailure> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(ClientFailure failure) : failure_(std::move(failure)) {}  // NOLINT: implicit on purpose

  bool ok() const { return !failure_.has_value(); }
  explicit operator bool() const { return ok(); }
  const ClientFailure& error() const {
    if (ok()) throw std::logic_error("Result::error() on a success");
    return *failure_;
  }

 private:
  std::optional<ClientFailure> failure_;
};

// A response as received: the whole frame after its size prefix (response
// header + body), shared so that decoded messages viewing into it (the
// RecordsView of a Fetch response) can keep it alive by holding a copy.
struct RawResponse {
  std::shared_ptr<const std::vector<uint8_t>> frame;  // null when no response was expected (Produce acks=0)
  size_t body_offset = 0;                             // where the body starts, after the response header
  int32_t correlation_id = 0;

  std::span<const uint8_t> body() const {
    if (!frame) return {};
    return std::span<const uint8_t>(*frame).subspan(body_offset);
  }
};

using RawResult = Result<RawResponse>;

}  // namespace runnel::replication
