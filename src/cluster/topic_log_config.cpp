#include "cluster/topic_log_config.h"

namespace runnel::cluster {

storage::LogConfig topic_log_config(const TopicConfigResolver& r, const ConfigMap& overrides) {
  storage::LogConfig c;
  c.segment_bytes = r.int_value(overrides, "segment.bytes");
  c.segment_ms = r.int_value(overrides, "segment.ms");
  c.index_interval_bytes = static_cast<int32_t>(r.int_value(overrides, "index.interval.bytes"));
  c.segment_index_bytes = static_cast<int32_t>(r.int_value(overrides, "segment.index.bytes"));
  c.max_message_bytes = static_cast<int32_t>(r.int_value(overrides, "max.message.bytes"));
  c.log_append_time = r.value(overrides, "message.timestamp.type") == "LogAppendTime";
  c.retention_ms = r.int_value(overrides, "retention.ms");
  c.retention_bytes = r.int_value(overrides, "retention.bytes");
  c.file_delete_delay_ms = r.int_value(overrides, "file.delete.delay.ms");
  const auto policy = r.value(overrides, "cleanup.policy");
  c.cleanup_delete = policy.find("delete") != std::string::npos;
  c.cleanup_compact = policy.find("compact") != std::string::npos;
  c.delete_retention_ms = r.int_value(overrides, "delete.retention.ms");
  c.min_compaction_lag_ms = r.int_value(overrides, "min.compaction.lag.ms");
  c.max_compaction_lag_ms = r.int_value(overrides, "max.compaction.lag.ms");
  c.min_cleanable_dirty_ratio = r.double_value(overrides, "min.cleanable.dirty.ratio");
  return c;
}

}  // namespace runnel::cluster
