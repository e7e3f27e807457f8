// A private network namespace for fault tests: the test process leaves the
// host's network stack (unshare(CLONE_NEWNET)), brings its own loopback up and
// from then on every process it starts shares that namespace. Brokers bind
// their own loopback addresses (127.0.0.11, .12, ...; etcd 127.0.0.10) and the
// test can drop traffic between two of them with nft (firewall.h) without
// touching anything outside the namespace.
#pragma once

#include <string>

namespace runnel::fault {

// The address layout fault tests use. All of 127.0.0.0/8 is local once `lo`
// is up, so none of these needs configuring.
inline constexpr const char* kEtcdAddress = "127.0.0.10";
// 127.0.0.(10 + broker_id): broker 1 -> 127.0.0.11, broker 3 -> 127.0.0.13.
// broker_id must be in [1, 245].
std::string BrokerAddress(int broker_id);

// Moves the calling process into a new, empty network namespace, brings `lo`
// up (ioctl SIOCSIFFLAGS, no `ip` binary needed) and checks that a TCP
// connection from 127.0.0.11 to 127.0.0.12 works. The process must still be
// single-threaded (unshare(CLONE_NEWNET) only moves the calling thread, so
// other threads would stay behind in the host namespace); checked through
// /proc/self/task. Returns false with the reason (not root, no
// CAP_SYS_ADMIN, unshare blocked by seccomp, threads already running, ...).
// Calling it again after a success is a no-op that returns true.
bool EnterPrivateNetworkNamespace(std::string* why);

// True once EnterPrivateNetworkNamespace() succeeded in this process. The
// Firewall refuses to run nft otherwise: outside a private namespace it would
// change the host's firewall.
bool InPrivateNetworkNamespace();

}  // namespace runnel::fault
