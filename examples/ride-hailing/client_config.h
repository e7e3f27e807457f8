// librdkafka configuration from a list of settings, shared by every client here.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <utility>
#include <vector>

namespace ride {

using Settings = std::vector<std::pair<std::string, std::string>>;

// A conf with every setting applied, or nullptr with *error set.
rd_kafka_conf_t* make_conf(const Settings& settings, std::string* error);

// rd_kafka_new with the conf (which it takes over), or nullptr with *error set.
rd_kafka_t* make_client(rd_kafka_type_t type, rd_kafka_conf_t* conf, std::string* error);

}  // namespace ride
