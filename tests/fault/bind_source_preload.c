/* librunnel_bind_source.so: an LD_PRELOAD library that makes a process's
 * outbound IPv4 loopback connections leave from one source address.
 *
 * Why: in a fault test every broker binds its own loopback address
 * (127.0.0.11, .12, ...) and partitions are nft rules on address pairs. But an
 * unbound socket connecting to 127.0.0.12 gets source 127.0.0.1 from the
 * kernel, so a broker's outbound connections (replica fetches, gRPC to etcd)
 * would slip past the cuts. With RUNNEL_BIND_SOURCE=127.0.0.11 in its
 * environment, this connect() binds an unbound socket to 127.0.0.11:0 (or
 * ::ffff:127.0.0.11 for an AF_INET6 socket) first, then calls the real
 * connect().
 *
 * It only acts when the destination is in 127.0.0.0/8 (plain or v4-mapped)
 * and the socket is unbound (getsockname: any address, port 0); anything
 * else, and any failure of its own, leaves the connect exactly as the program
 * made it.
 * Only dynamically linked programs that call libc's connect() are covered: Go
 * programs (etcd, etcdctl) make the system call directly.
 *
 * Built without sanitizers: it is loaded into processes that may not be. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*connect_fn)(int, const struct sockaddr*, socklen_t);

static connect_fn real_connect;
static int have_source;
static struct in_addr source;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) {
  real_connect = (connect_fn)dlsym(RTLD_NEXT, "connect");
  const char* value = getenv("RUNNEL_BIND_SOURCE");
  have_source = value != NULL && inet_pton(AF_INET, value, &source) == 1;
}

/* The IPv4 loopback destination of a connect, or 0: a sockaddr_in in
 * 127.0.0.0/8, or a v4-mapped sockaddr_in6 (::ffff:127.x.y.z), which is how
 * gRPC connects to an IPv4 address (on a dual-stack AF_INET6 socket). */
static int loopback_family(const struct sockaddr* addr, socklen_t len) {
  if (addr == NULL) return 0;
  if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    const struct sockaddr_in* in = (const struct sockaddr_in*)addr;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127 ? AF_INET : 0;
  }
  if (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
    const struct in6_addr* a = &((const struct sockaddr_in6*)addr)->sin6_addr;
    return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127 ? AF_INET6 : 0;
  }
  return 0;
}

static void bind_if_unbound(int fd, int family) {
  struct sockaddr_storage local;
  socklen_t len = sizeof local;
  memset(&local, 0, sizeof local);
  if (getsockname(fd, (struct sockaddr*)&local, &len) != 0 || local.ss_family != family) return;
  struct sockaddr_storage want;
  memset(&want, 0, sizeof want);
  socklen_t want_len = 0;
  if (family == AF_INET) {
    const struct sockaddr_in* bound = (const struct sockaddr_in*)&local;
    if (bound->sin_addr.s_addr != htonl(INADDR_ANY) || bound->sin_port != 0) return;
    struct sockaddr_in* w = (struct sockaddr_in*)&want;
    w->sin_family = AF_INET;
    w->sin_addr = source;
    want_len = sizeof *w;
  } else {
    const struct sockaddr_in6* bound = (const struct sockaddr_in6*)&local;
    if (!IN6_IS_ADDR_UNSPECIFIED(&bound->sin6_addr) || bound->sin6_port != 0) return;
    struct sockaddr_in6* w = (struct sockaddr_in6*)&want;
    w->sin6_family = AF_INET6;
    w->sin6_addr.s6_addr[10] = 0xff; /* ::ffff:a.b.c.d */
    w->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&w->sin6_addr.s6_addr[12], &source, 4);
    want_len = sizeof *w;
  }
  /* Let connect() pick the port per destination (as without the bind),
   * instead of bind() reserving one per source address. */
  int one = 1;
  (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  (void)bind(fd, (const struct sockaddr*)&want, want_len);
}

int connect(int fd, const struct sockaddr* addr, socklen_t len) {
  pthread_once(&once, init);
  if (real_connect == NULL) {
    errno = ENOSYS;
    return -1;
  }
  const int family = have_source ? loopback_family(addr, len) : 0;
  if (family != 0) {
    const int saved = errno;
    bind_if_unbound(fd, family);
    errno = saved;
  }
  return real_connect(fd, addr, len);
}
