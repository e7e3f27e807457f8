#include "bind_source.h"

#include <cstdlib>

#ifndef RUNNEL_BIND_SOURCE_PRELOAD
#error "RUNNEL_BIND_SOURCE_PRELOAD (path of librunnel_bind_source.so) must be defined by the build"
#endif

namespace runnel::fault {

namespace {

// `current` + separator + `addition`, or just `addition`.
std::string Appended(const char* variable, char separator, const std::string& addition) {
  const char* current = std::getenv(variable);
  if (current == nullptr || *current == '\0') return addition;
  return std::string(current) + separator + addition;
}

}  // namespace

std::string BindSourcePreloadPath() { return RUNNEL_BIND_SOURCE_PRELOAD; }

std::vector<std::string> BindSourceEnvironment(const std::string& address) {
  return {
      std::string("LD_PRELOAD=") + Appended("LD_PRELOAD", ':', BindSourcePreloadPath()),
      std::string(kBindSourceVariable) + "=" + address,
      std::string("ASAN_OPTIONS=") + Appended("ASAN_OPTIONS", ':', "verify_asan_link_order=0"),
  };
}

}  // namespace runnel::fault
