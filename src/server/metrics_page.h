#pragma once
// What the broker's HTTP listener serves: GET /metrics (Prometheus text
// format), a one-line index at /, 404 for anything else.
#include "server/broker_context.h"
#include "server/http_request.h"

namespace runnel::server {

// The whole /metrics page: the counters in broker.metrics, plus gauges read
// from the broker's state now (partitions, offsets, sizes, group lag, fsync).
std::string render_metrics_page(BrokerContext& broker);

HttpResponse handle_http_request(BrokerContext& broker, const HttpRequest& request);

}  // namespace runnel::server
