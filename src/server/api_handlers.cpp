#include "server/api_handlers.h"

#include <algorithm>
#include <array>

namespace runnel::server {
namespace {

// Api keys are Kafka's; ranges are what the handlers and the generated codecs support.
constexpr std::array kHandlers = {
    ApiHandler{0, 3, 9, &handle_produce},
    ApiHandler{1, 4, 13, &handle_fetch},
    ApiHandler{2, 0, 7, &handle_list_offsets},
    ApiHandler{3, 0, 12, &handle_metadata},
    ApiHandler{18, 0, 3, &handle_api_versions},
};

static_assert(std::is_sorted(kHandlers.begin(), kHandlers.end(),
                             [](const ApiHandler& a, const ApiHandler& b) { return a.api_key < b.api_key; }));

}  // namespace

std::span<const ApiHandler> api_handlers() { return kHandlers; }

const ApiHandler* find_api_handler(int16_t api_key) {
  for (const auto& handler : kHandlers) {
    if (handler.api_key == api_key) return &handler;
  }
  return nullptr;
}

}  // namespace runnel::server
