// Source-address binding for processes a fault test starts (brokers, client
// tools): see bind_source_preload.c for why and how.
//
//   RunChild({broker, ...}, BindSourceEnvironment(BrokerAddress(1)));
//
// Covers dynamically linked programs calling libc's connect() to an IPv4
// loopback address, plain or v4-mapped (the runnel broker, its gRPC etcd
// client, curl, librdkafka tools). Not Go programs (etcd, etcdctl): they make
// the connect system call directly. Not ::1 either: give brokers IPv4
// literals, not "localhost".
#pragma once

#include <string>
#include <vector>

namespace runnel::fault {

inline constexpr const char* kBindSourceVariable = "RUNNEL_BIND_SOURCE";

// Absolute path of librunnel_bind_source.so, fixed at build time.
std::string BindSourcePreloadPath();

// Environment entries ("KEY=VALUE") to add to a child's environment so that its
// outbound loopback connections leave from `address`:
//   LD_PRELOAD=<current LD_PRELOAD:>librunnel_bind_source.so
//   RUNNEL_BIND_SOURCE=<address>
//   ASAN_OPTIONS=<current ASAN_OPTIONS:>verify_asan_link_order=0
// The last one is needed for sanitizer-built children: the ASan runtime
// refuses to start ("ASan runtime does not come first in initial library
// list") when a preloaded library precedes it; it is harmless otherwise.
std::vector<std::string> BindSourceEnvironment(const std::string& address);

}  // namespace runnel::fault
