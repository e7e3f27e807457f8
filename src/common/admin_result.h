#pragma once
// The outcome of one admin operation: a Kafka error code with the message Kafka
// clients show to users.
#include <string>

#include "common/error_code.h"

namespace runnel {

struct AdminResult {
  ErrorCode error = ErrorCode::kNone;
  std::string message;
  bool ok() const { return error == ErrorCode::kNone; }
};

}  // namespace runnel
