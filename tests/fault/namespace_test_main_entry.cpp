// main() of the `runnel_fault_harness_main` library: link it instead of
// GTest::gtest_main to run a test binary in a private network namespace.
#include "namespace_test_main.h"

int main(int argc, char** argv) { return runnel::fault::RunTestsInPrivateNetworkNamespace(argc, argv); }
