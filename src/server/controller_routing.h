#pragma once
// Requests that must run on the controller (topic and partition admin, configs,
// elections, reassignments, ISR changes): handled here when this broker is the
// controller, else forwarded verbatim and the controller's answer relayed, so
// that no client needs to find the controller. Also the broker's own topic
// creations (auto-created topics, __consumer_offsets).
#include <chrono>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>

#include "cluster/controller.h"
#include "server/broker_context.h"
#include "server/request_context.h"

namespace runnel::server {

enum class Routing {
  kHandleHere,    // this broker is the controller
  kForwarded,     // context.response_body holds the controller's answer
  kNoController,  // none could be reached in time: answer NOT_CONTROLLER
};

asio::awaitable<Routing> route_to_controller(BrokerContext& broker, RequestContext& context);

// Creates topics through the controller (wherever it is) and waits until this
// broker's image shows them. One result per topic.
asio::awaitable<std::vector<cluster::CreatedTopic>> create_topics_via_controller(BrokerContext& broker,
                                                                                std::vector<cluster::NewTopic> topics);

// The topic exists (or was just auto-created and is in the image): kNone.
// INVALID_TOPIC_EXCEPTION for a bad name, UNKNOWN_TOPIC_OR_PARTITION when it does
// not exist and may not be created.
asio::awaitable<ErrorCode> ensure_topic(BrokerContext& broker, const std::string& name, bool allow_auto_create);

// Creates __consumer_offsets when missing (offsets.topic.num.partitions,
// offsets.topic.replication.factor capped to the live brokers, compacted);
// false when it still does not exist.
asio::awaitable<bool> ensure_offsets_topic(BrokerContext& broker);

// Waits (bounded) until this broker's image shows the topics with a leader for
// every partition, so an answer right after a creation is complete.
asio::awaitable<void> wait_for_leaders(BrokerContext& broker, const std::vector<std::string>& topics,
                                       std::chrono::milliseconds timeout);

}  // namespace runnel::server
