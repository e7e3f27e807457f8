#pragma once
// The internal topic names, as the coordinators use them.
#include "common/internal_topics.h"

namespace runnel::coordinator {

using runnel::is_internal_topic;
using runnel::kOffsetsTopic;
using runnel::kTransactionStateTopic;

}  // namespace runnel::coordinator
