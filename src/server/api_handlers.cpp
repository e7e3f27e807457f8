#include "server/api_handlers.h"

#include <algorithm>
#include <array>

namespace runnel::server {
namespace {

// Api keys are Kafka's; ranges are what the handlers and the generated codecs support.
constexpr std::array kHandlers = {
    ApiHandler{0, 0, 9, &handle_produce},
    ApiHandler{1, 0, 13, &handle_fetch},
    ApiHandler{2, 0, 7, &handle_list_offsets},
    ApiHandler{3, 0, 12, &handle_metadata},
    ApiHandler{8, 0, 8, &handle_offset_commit},
    ApiHandler{9, 0, 8, &handle_offset_fetch},
    ApiHandler{10, 0, 4, &handle_find_coordinator},
    ApiHandler{11, 0, 9, &handle_join_group},
    ApiHandler{12, 0, 4, &handle_heartbeat},
    ApiHandler{13, 0, 5, &handle_leave_group},
    ApiHandler{14, 0, 5, &handle_sync_group},
    ApiHandler{15, 0, 5, &handle_describe_groups},
    ApiHandler{16, 0, 4, &handle_list_groups},
    ApiHandler{18, 0, 3, &handle_api_versions},
    ApiHandler{19, 0, 7, &handle_create_topics},
    ApiHandler{20, 0, 6, &handle_delete_topics},
    ApiHandler{21, 0, 2, &handle_delete_records},
    ApiHandler{22, 0, 4, &handle_init_producer_id},
    ApiHandler{23, 0, 4, &handle_offset_for_leader_epoch},
    ApiHandler{32, 0, 4, &handle_describe_configs},
    ApiHandler{33, 0, 2, &handle_alter_configs},
    ApiHandler{35, 0, 4, &handle_describe_log_dirs},
    ApiHandler{37, 0, 3, &handle_create_partitions},
    ApiHandler{42, 0, 2, &handle_delete_groups},
    ApiHandler{43, 0, 2, &handle_elect_leaders},
    ApiHandler{44, 0, 1, &handle_incremental_alter_configs},
    ApiHandler{45, 0, 0, &handle_alter_partition_reassignments},
    ApiHandler{46, 0, 0, &handle_list_partition_reassignments},
    ApiHandler{47, 0, 0, &handle_offset_delete},
    ApiHandler{56, 0, 3, &handle_alter_partition},
    ApiHandler{60, 0, 1, &handle_describe_cluster},
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
