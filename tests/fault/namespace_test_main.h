// The main() of a GoogleTest binary whose tests run inside a private network
// namespace (network_namespace.h).
//
// Pattern: link the target `runnel_fault_harness_main` (its main() is one call
// to RunTestsInPrivateNetworkNamespace), or write your own main() that calls it
// before anything can start a thread:
//
//   int main(int argc, char** argv) {
//     return runnel::fault::RunTestsInPrivateNetworkNamespace(argc, argv);
//   }
//
// and begin each test that needs the namespace with
//   RUNNEL_REQUIRE_PRIVATE_NETWORK_NAMESPACE();
// which GTEST_SKIPs with the reason when the namespace could not be made (not
// root, unshare blocked). ctest (gtest_discover_tests) runs every test as its
// own process, so each test gets a fresh, empty namespace: its 127.0.0.x ports
// can never collide with another test's, and nft rules die with the process.
// Running the binary by hand runs all tests in one namespace, one after the
// other; tests must then stop their processes and heal their cuts (Firewall's
// destructor removes its table).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "network_namespace.h"

namespace runnel::fault {

// RUNNEL_FAULT_NAMESPACE=off in the environment: main() stays in the host's
// namespace (tests needing one skip). For debugging, and for the test that
// checks that the Firewall refuses to run there.
inline constexpr const char* kNamespaceVariable = "RUNNEL_FAULT_NAMESPACE";

// Enters the namespace (remembering why it failed), then InitGoogleTest and
// RUN_ALL_TESTS. Never fails because of the namespace: tests decide.
int RunTestsInPrivateNetworkNamespace(int argc, char** argv);

// Why main() could not enter the namespace ("" after a success or if it was not tried).
const std::string& PrivateNetworkNamespaceError();

}  // namespace runnel::fault

#define RUNNEL_REQUIRE_PRIVATE_NETWORK_NAMESPACE()                                         \
  do {                                                                                     \
    if (!::runnel::fault::InPrivateNetworkNamespace())                                     \
      GTEST_SKIP() << "no private network namespace: "                                    \
                   << (::runnel::fault::PrivateNetworkNamespaceError().empty()             \
                           ? std::string("main() did not call RunTestsInPrivateNetworkNamespace") \
                           : ::runnel::fault::PrivateNetworkNamespaceError());             \
  } while (false)
