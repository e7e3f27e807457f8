#include "cluster/etcd_endpoints.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace runnel::cluster {
namespace {

bool is_ipv4(const std::string& host) {
  in_addr addr{};
  return ::inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

bool is_ipv6(const std::string& host) {
  in6_addr addr{};
  return ::inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

// Every address of host:port, as "[v6]:port" (IPv4 as v4-mapped IPv6, so that
// one "ipv6:" target can carry both families).
std::vector<std::string> resolve(const EtcdEndpoint& endpoint) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(endpoint.host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    spdlog::warn("etcd endpoint {}: cannot resolve: {}", endpoint.to_string(), ::gai_strerror(rc));
    return {};
  }
  std::vector<std::string> out;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (ai->ai_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, text, sizeof text);
      out.push_back(fmt::format("[::ffff:{}]:{}", text, endpoint.port));
    } else if (ai->ai_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, text, sizeof text);
      out.push_back(fmt::format("[{}]:{}", text, endpoint.port));
    }
  }
  ::freeaddrinfo(found);
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ",") + part;
  return out;
}

}  // namespace

std::string EtcdEndpoint::to_string() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

EtcdEndpoint parse_etcd_endpoint(const std::string& text) {
  EtcdEndpoint endpoint;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      throw std::invalid_argument(fmt::format("etcd endpoint '{}': expected [IPv6]:PORT", text));
    endpoint.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos)
      throw std::invalid_argument(fmt::format("etcd endpoint '{}': missing port (expected HOST:PORT)", text));
    endpoint.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (endpoint.host.find(':') != std::string::npos)
      throw std::invalid_argument(fmt::format("etcd endpoint '{}': put an IPv6 address in brackets", text));
  }
  if (endpoint.host.empty()) throw std::invalid_argument(fmt::format("etcd endpoint '{}': empty host", text));
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
    throw std::invalid_argument(fmt::format("etcd endpoint '{}': bad port '{}'", text, port));
  endpoint.port = static_cast<uint16_t>(value);
  return endpoint;
}

std::string etcd_grpc_target(const std::vector<EtcdEndpoint>& endpoints) {
  if (endpoints.empty()) throw std::invalid_argument("no etcd endpoints");
  bool all_v4 = true;
  bool all_v6 = true;
  std::vector<std::string> addresses;
  for (const auto& e : endpoints) {
    all_v4 = all_v4 && is_ipv4(e.host);
    all_v6 = all_v6 && is_ipv6(e.host);
    addresses.push_back(e.to_string());
  }
  if (all_v4) return "ipv4:" + join(addresses);
  if (all_v6) return "ipv6:" + join(addresses);
  if (endpoints.size() == 1) return "dns:///" + endpoints.front().to_string();
  addresses.clear();
  for (const auto& e : endpoints) {
    if (is_ipv6(e.host)) {
      addresses.push_back(e.to_string());
    } else {
      auto found = resolve(e);  // IPv4 literals come back v4-mapped too
      addresses.insert(addresses.end(), found.begin(), found.end());
    }
  }
  if (addresses.empty()) throw std::runtime_error("none of the etcd endpoints resolves: " + [&] {
    std::vector<std::string> names;
    for (const auto& e : endpoints) names.push_back(e.to_string());
    return join(names);
  }());
  return "ipv6:" + join(addresses);
}

}  // namespace runnel::cluster
