#include "network_namespace.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace runnel::fault {

namespace {

std::atomic<bool> g_entered{false};

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Number of threads of this process (entries of /proc/self/task), -1 if unknown.
int ThreadCount() {
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int n = 0;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n;
}

bool BringLoopbackUp(std::string* why) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *why = Errno("socket for SIOCSIFFLAGS");
    return false;
  }
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &req) == 0;
  if (!ok) *why = Errno("ioctl(SIOCGIFFLAGS, lo)");
  if (ok) {
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP | IFF_RUNNING);
    ok = ::ioctl(fd, SIOCSIFFLAGS, &req) == 0;
    if (!ok) *why = Errno("ioctl(SIOCSIFFLAGS, lo up)");
  }
  ::close(fd);
  return ok;
}

sockaddr_in Address(const char* ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &sa.sin_addr);
  return sa;
}

// Listens on 127.0.0.12, connects from 127.0.0.11 and accepts: proves that
// addresses other than 127.0.0.1 work and that the peer sees the bound source.
bool CheckLoopbackAddresses(std::string* why) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int accepted = -1;
  bool ok = false;
  do {
    if (listener < 0 || client < 0) {
      *why = Errno("socket");
      break;
    }
    sockaddr_in server = Address("127.0.0.12", 0);
    socklen_t len = sizeof server;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0 || ::listen(listener, 4) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&server), &len) != 0) {
      *why = Errno("listen on 127.0.0.12");
      break;
    }
    sockaddr_in source = Address("127.0.0.11", 0);
    if (::bind(client, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
      *why = Errno("bind 127.0.0.11");
      break;
    }
    // A loopback connect to a listening socket completes at once; the timeout
    // (honoured by connect and accept) only bounds the unexpected case.
    timeval tv{2, 0};
    ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ::setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(client, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
      *why = Errno("connect 127.0.0.11 -> 127.0.0.12");
      break;
    }
    sockaddr_in peer{};
    len = sizeof peer;
    accepted = ::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (accepted < 0) {
      *why = Errno("accept on 127.0.0.12");
      break;
    }
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
    if (std::string(text) != "127.0.0.11") {
      *why = std::string("connection from 127.0.0.11 arrived from ") + text;
      break;
    }
    ok = true;
  } while (false);
  for (int fd : {listener, client, accepted})
    if (fd >= 0) ::close(fd);
  return ok;
}

}  // namespace

std::string BrokerAddress(int broker_id) { return "127.0.0." + std::to_string(10 + broker_id); }

bool EnterPrivateNetworkNamespace(std::string* why) {
  std::string scratch;
  if (why == nullptr) why = &scratch;
  if (g_entered.load()) return true;
  const int threads = ThreadCount();
  if (threads != 1) {
    *why = threads < 0 ? "cannot read /proc/self/task to check that the process is single-threaded"
                       : "the process already runs " + std::to_string(threads) +
                             " threads; unshare(CLONE_NEWNET) would move only the calling one "
                             "(enter the namespace first thing in main())";
    return false;
  }
  if (::unshare(CLONE_NEWNET) != 0) {
    const int err = errno;
    *why = std::string("unshare(CLONE_NEWNET): ") + std::strerror(err);
    if (err == EPERM) *why += " (needs root or CAP_SYS_ADMIN, and no seccomp filter blocking unshare)";
    return false;
  }
  if (!BringLoopbackUp(why)) return false;
  if (!CheckLoopbackAddresses(why)) return false;
  g_entered.store(true);
  return true;
}

bool InPrivateNetworkNamespace() { return g_entered.load(); }

}  // namespace runnel::fault
