// LeakSanitizer suppressions of this test binary (read by the sanitizer
// runtime; unused in normal builds). Debian 12's c-ares (1.18), which gRPC's
// "dns:" resolver uses, leaks the name on every lookup of "localhost" (10
// bytes); EtcdStoreTest.HostNamesWork resolves it. A third-party leak, not ours.
extern "C" const char* __lsan_default_suppressions() { return "leak:libcares.so\n"; }
