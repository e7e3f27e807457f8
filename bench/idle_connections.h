// Opens many client connections that then stay idle, to measure what idle
// connections cost a broker.
#pragma once

#include <string>
#include <vector>

namespace runnel::bench {

// Connects `count` TCP connections to host:port. protocol "nats" sends the
// CONNECT line NATS requires; "kafka" sends one ApiVersions request (and
// reads its answer) so the broker sees a real client; anything else only
// connects. Returns the sockets; the caller closes them.
std::vector<int> open_idle_connections(const std::string& address, int count, const std::string& protocol);
void close_connections(std::vector<int>& fds);

}  // namespace runnel::bench
