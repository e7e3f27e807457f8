#pragma once
// etcd endpoints ("host:port", "[v6]:port") and the gRPC target that reaches
// all of them through one channel.
#include <cstdint>
#include <string>
#include <vector>

namespace runnel::cluster {

struct EtcdEndpoint {
  std::string host;  // an IPv4/IPv6 literal (no brackets) or a host name
  uint16_t port = 0;
  std::string to_string() const;  // brackets around IPv6
};

// Throws std::invalid_argument with a one-line message (missing or bad port, empty host).
EtcdEndpoint parse_etcd_endpoint(const std::string& text);

// "ipv4:a:p,b:p" / "ipv6:[a]:p,..." for literal addresses, "dns:///host:port" for
// one host name (gRPC resolves it, again after failures). Several endpoints with
// host names are resolved here, once; names that do not resolve are skipped, and
// if none resolves this throws std::runtime_error.
std::string etcd_grpc_target(const std::vector<EtcdEndpoint>& endpoints);

}  // namespace runnel::cluster
