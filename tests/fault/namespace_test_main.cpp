#include "namespace_test_main.h"

#include <cstdio>
#include <cstdlib>

namespace runnel::fault {

namespace {
std::string g_error;
}

int RunTestsInPrivateNetworkNamespace(int argc, char** argv) {
  // Before InitGoogleTest: nothing may have started a thread yet.
  const char* mode = std::getenv(kNamespaceVariable);
  if (mode != nullptr && std::string(mode) == "off") {
    g_error = std::string("disabled by ") + kNamespaceVariable + "=off";
  } else if (!EnterPrivateNetworkNamespace(&g_error)) {
    if (g_error.empty()) g_error = "unknown error";
    // stderr only: gtest_discover_tests parses stdout.
    std::fprintf(stderr, "note: no private network namespace (%s); tests needing it will be skipped\n",
                 g_error.c_str());
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

const std::string& PrivateNetworkNamespaceError() { return g_error; }

}  // namespace runnel::fault
