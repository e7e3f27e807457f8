#include "replication/client_result.h"

namespace runnel::replication {

std::string_view to_string(ClientError error) {
  switch (error) {
    case ClientError::kConnectFailed: return "connect failed";
    case ClientError::kConnectTimedOut: return "connect timed out";
    case ClientError::kTimedOut: return "timed out";
    case ClientError::kDisconnected: return "disconnected";
    case ClientError::kProtocolError: return "protocol error";
    case ClientError::kClosed: return "closed";
    case ClientError::kUnsupportedVersion: return "unsupported version";
    case ClientError::kInvalidRequest: return "invalid request";
  }
  return "unknown client error";
}

}  // namespace runnel::replication
