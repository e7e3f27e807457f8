#pragma once
// A topic's storage settings (segment size, retention, compaction, ...) from its
// config overrides and the broker's defaults.
#include "common/topic_config.h"
#include "storage/log.h"

namespace runnel::cluster {

storage::LogConfig topic_log_config(const TopicConfigResolver& resolver, const ConfigMap& overrides);

}  // namespace runnel::cluster
