#include "firewall.h"

#include <arpa/inet.h>

#include "child_process.h"
#include "network_namespace.h"

namespace runnel::fault {

namespace {

bool ValidIpv4(const std::string& address) {
  in_addr parsed{};
  return ::inet_pton(AF_INET, address.c_str(), &parsed) == 1;
}

std::string Elements(const std::string& a, const std::vector<std::string>& peers) {
  std::string s = "{ ";
  for (size_t i = 0; i < peers.size(); ++i) {
    if (i > 0) s += ", ";
    s += a + " . " + peers[i] + ", " + peers[i] + " . " + a;
  }
  return s + " }";
}

void SetError(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

}  // namespace

Firewall::~Firewall() {
  std::lock_guard lock(mu_);
  if (installed_) RunNft(std::string("delete table ip ") + kTable, nullptr);
}

bool Firewall::RunNft(const std::string& commands, std::string* error, std::string* out) {
  const std::vector<std::string> argv = {kNftPath, commands};
  ChildResult r = RunChild(argv, {}, kNftTimeout);
  if (out != nullptr) *out = r.out;
  if (r.ok()) return true;
  SetError(error, DescribeCommand(argv) + (r.timed_out ? " timed out" : " exited " + std::to_string(r.exit_code)) +
                      ": " + r.err);
  return false;
}

bool Firewall::InstallLocked(std::string* error) {
  if (installed_) return true;
  if (!InPrivateNetworkNamespace()) {
    SetError(error, "refusing to run nft outside a private network namespace (EnterPrivateNetworkNamespace "
                    "was not called or failed): it would change the host's firewall");
    return false;
  }
  const std::string t = std::string("ip ") + kTable;
  // add+delete+add: a fresh table whether or not one was left over. The input
  // hook sees every loopback packet once, on receipt; dropping there (not in
  // output) keeps the sender free of EPERM errors, as on a real network.
  const std::string script = "add table " + t + "; delete table " + t + "; add table " + t + "; add set " + t +
                             " cuts { type ipv4_addr . ipv4_addr; }; add chain " + t +
                             " input { type filter hook input priority filter; policy accept; }; add rule " + t +
                             " input ip saddr . ip daddr @cuts drop";
  if (!RunNft(script, error)) return false;
  installed_ = true;
  return true;
}

bool Firewall::Install(std::string* error) {
  std::lock_guard lock(mu_);
  return InstallLocked(error);
}

bool Firewall::ChangeCuts(bool heal, const std::string& a, const std::vector<std::string>& peers,
                          std::string* error) {
  // Validated here, also because the addresses become part of an nft command.
  std::vector<std::string> all = peers;
  all.push_back(a);
  for (const auto& address : all) {
    if (!ValidIpv4(address)) {
      SetError(error, "not an IPv4 address: '" + address + "'");
      return false;
    }
  }
  if (peers.empty()) return true;
  std::lock_guard lock(mu_);
  if (!InstallLocked(error)) return false;
  const std::string set = std::string("ip ") + kTable + " cuts ";
  const std::string elements = Elements(a, peers);
  // Adding an element that exists is a no-op; deleting one that does not is an
  // error, so a heal first adds then deletes, in one transaction.
  std::string script = "add element " + set + elements;
  if (heal) script += "; delete element " + set + elements;
  return RunNft(script, error);
}

bool Firewall::Cut(const std::string& a, const std::string& b, std::string* error) {
  return ChangeCuts(false, a, {b}, error);
}

bool Firewall::Isolate(const std::string& a, const std::vector<std::string>& peers, std::string* error) {
  return ChangeCuts(false, a, peers, error);
}

bool Firewall::Heal(const std::string& a, const std::string& b, std::string* error) {
  return ChangeCuts(true, a, {b}, error);
}

bool Firewall::HealAll(std::string* error) {
  std::lock_guard lock(mu_);
  if (!InstallLocked(error)) return false;
  return RunNft(std::string("flush set ip ") + kTable + " cuts", error);
}

std::string Firewall::Describe() {
  std::lock_guard lock(mu_);
  if (!installed_) return "";
  std::string out, error;
  if (!RunNft(std::string("list table ip ") + kTable, &error, &out)) return error;
  return out;
}

}  // namespace runnel::fault
