// Network partitions between loopback addresses inside the test's private
// network namespace, with nftables (/usr/sbin/nft).
//
// The Firewall owns one nft table (`ip runnel_fault`) holding a set of
// (source . destination) address pairs and one rule in the input hook that
// drops every IPv4 packet whose pair is in the set. Cut(a, b) adds both
// directions, so new connections time out and established TCP connections
// stall (segments and their retransmissions vanish silently, as on a real
// partition: the sender sees no error). Heal removes the pairs; stalled
// connections then recover by retransmission.
//
// Every operation is idempotent and atomic (one nft transaction). It refuses to
// work unless this process entered a private network namespace
// (network_namespace.h), so it can never change the host's firewall. One
// Firewall per process; its destructor deletes the table.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace runnel::fault {

class Firewall {
 public:
  Firewall() = default;
  ~Firewall();  // deletes the table if it was installed (best effort)
  Firewall(const Firewall&) = delete;
  Firewall& operator=(const Firewall&) = delete;

  // Creates the table, set and rule (replacing any leftover table of the same
  // name). Called by the other operations on first use; call it directly to
  // fail early. All operations return false with `error` (nft's stderr
  // included) on failure; `error` may be null.
  bool Install(std::string* error = nullptr);

  // Drops all traffic between a and b (IPv4 dotted quads), both directions.
  bool Cut(const std::string& a, const std::string& b, std::string* error = nullptr);
  // Cut(a, p) for every p in peers, in one transaction. Pass the addresses `a`
  // must no longer reach (e.g. the other brokers and etcd, but not 127.0.0.1
  // to keep the test's own clients connected).
  bool Isolate(const std::string& a, const std::vector<std::string>& peers, std::string* error = nullptr);
  // Undoes Cut(a, b); a no-op if they were not cut.
  bool Heal(const std::string& a, const std::string& b, std::string* error = nullptr);
  // Removes every cut.
  bool HealAll(std::string* error = nullptr);

  // `nft list table ...` output, for failure messages ("" if not installed).
  std::string Describe();

  static constexpr const char* kNftPath = "/usr/sbin/nft";
  static constexpr const char* kTable = "runnel_fault";
  static constexpr std::chrono::milliseconds kNftTimeout{10000};

 private:
  bool InstallLocked(std::string* error);
  bool RunNft(const std::string& commands, std::string* error, std::string* out = nullptr);
  bool ChangeCuts(bool heal, const std::string& a, const std::vector<std::string>& peers, std::string* error);

  std::mutex mu_;
  bool installed_ = false;
};

}  // namespace runnel::fault
