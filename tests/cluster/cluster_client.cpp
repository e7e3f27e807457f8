#include "cluster_client.h"

#include <asio/co_spawn.hpp>

#include "record_batch_builder.h"
#include "run_coroutine.h"

namespace runnel::it {

std::map<int32_t, int> ClusterView::leaders(const std::string& topic) const {
  std::map<int32_t, int> count;
  auto it = topics.find(topic);
  if (it == topics.end()) return count;
  for (const auto& p : it->second)
    if (p.leader >= 0) ++count[p.leader];
  return count;
}

ClusterClient::ClusterClient(const std::string& address) {
  const auto colon = address.rfind(':');
  replication::BrokerClient::Options options;
  options.host = address.substr(0, colon);
  options.port = static_cast<uint16_t>(std::stoi(address.substr(colon + 1)));
  options.client_id = "cluster-test";
  options.connect_timeout_ms = 5000;
  options.request_timeout_ms = 20000;
  client_ = replication::BrokerClient::create(io_.get_executor(), options);
}

ClusterClient::~ClusterClient() {
  client_->close();
  replication::test::run_for(io_, std::chrono::milliseconds(10));
}

template <typename Request>
std::optional<typename Request::Response> ClusterClient::call(Request request, std::chrono::milliseconds timeout) {
  using Response = typename Request::Response;
  auto task = [](std::shared_ptr<replication::BrokerClient> client,
                 Request request) -> asio::awaitable<std::optional<Response>> {
    auto result = co_await client->send(std::move(request));
    if (!result) co_return std::nullopt;
    co_return std::move(result->message);
  };
  try {
    return replication::test::run(io_, task(client_, std::move(request)), timeout);
  } catch (const std::exception&) {
    client_->close();
    return std::nullopt;
  }
}

template <typename Request>
std::optional<typename Request::Response> ClusterClient::call_version(Request request, int16_t version,
                                                                      std::chrono::milliseconds timeout) {
  using Response = typename Request::Response;
  auto task = [](std::shared_ptr<replication::BrokerClient> client, Request request,
                 int16_t version) -> asio::awaitable<std::optional<Response>> {
    auto ready = co_await client->connect();
    if (!ready) co_return std::nullopt;
    auto result = co_await client->send(std::move(request), version);
    if (!result) co_return std::nullopt;
    co_return std::move(result->message);
  };
  try {
    return replication::test::run(io_, task(client_, std::move(request), version), timeout);
  } catch (const std::exception&) {
    client_->close();
    return std::nullopt;
  }
}

template std::optional<protocol::FetchResponse> ClusterClient::call_version(protocol::FetchRequest, int16_t,
                                                                           std::chrono::milliseconds);
template std::optional<protocol::MetadataResponse> ClusterClient::call(protocol::MetadataRequest, std::chrono::milliseconds);
template std::optional<protocol::CreateTopicsResponse> ClusterClient::call(protocol::CreateTopicsRequest,
                                                                          std::chrono::milliseconds);
template std::optional<protocol::DescribeClusterResponse> ClusterClient::call(protocol::DescribeClusterRequest,
                                                                             std::chrono::milliseconds);
template std::optional<protocol::FindCoordinatorResponse> ClusterClient::call(protocol::FindCoordinatorRequest,
                                                                             std::chrono::milliseconds);
template std::optional<protocol::AlterPartitionReassignmentsResponse> ClusterClient::call(
    protocol::AlterPartitionReassignmentsRequest, std::chrono::milliseconds);
template std::optional<protocol::ListPartitionReassignmentsResponse> ClusterClient::call(
    protocol::ListPartitionReassignmentsRequest, std::chrono::milliseconds);
template std::optional<protocol::ElectLeadersResponse> ClusterClient::call(protocol::ElectLeadersRequest,
                                                                          std::chrono::milliseconds);
template std::optional<protocol::ProduceResponse> ClusterClient::call(protocol::ProduceRequest, std::chrono::milliseconds);
template std::optional<protocol::ListOffsetsResponse> ClusterClient::call(protocol::ListOffsetsRequest,
                                                                         std::chrono::milliseconds);

std::optional<ClusterView> ClusterClient::view(const std::vector<std::string>& topics) {
  protocol::MetadataRequest request;
  if (!topics.empty()) {
    request.topics.emplace();
    for (const auto& t : topics) request.topics->emplace_back().name = t;
  }
  request.allow_auto_topic_creation = false;
  auto response = call(std::move(request));
  if (!response) return std::nullopt;
  ClusterView view;
  view.controller = response->controller_id;
  for (const auto& b : response->brokers) view.brokers[b.node_id] = b.host + ":" + std::to_string(b.port);
  for (const auto& t : response->topics) {
    if (t.error_code != 0 || !t.name) continue;
    auto& partitions = view.topics[*t.name];
    partitions.resize(t.partitions.size());
    for (const auto& p : t.partitions) {
      if (p.partition_index < 0 || static_cast<size_t>(p.partition_index) >= partitions.size()) continue;
      auto isr = p.isr_nodes;
      std::sort(isr.begin(), isr.end());
      partitions[static_cast<size_t>(p.partition_index)] = {p.error_code, p.leader_id, p.leader_epoch, p.replica_nodes, isr};
    }
  }
  return view;
}

int16_t ClusterClient::create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                                    const std::map<std::string, std::string>& configs, std::string* message) {
  protocol::CreateTopicsRequest request;
  request.timeout_ms = 15000;
  auto& topic = request.topics.emplace_back();
  topic.name = name;
  topic.num_partitions = partitions;
  topic.replication_factor = replication_factor;
  for (const auto& [k, v] : configs) {
    auto& c = topic.configs.emplace_back();
    c.name = k;
    c.value = v;
  }
  auto response = call(std::move(request), std::chrono::seconds(40));
  if (!response || response->topics.empty()) return -1;
  if (message) *message = response->topics[0].error_message.value_or("");
  return response->topics[0].error_code;
}

int32_t ClusterClient::coordinator_of(const std::string& group) {
  protocol::FindCoordinatorRequest request;
  request.key = group;
  request.coordinator_keys = {group};
  auto response = call(std::move(request), std::chrono::seconds(30));
  if (!response) return -1;
  if (!response->coordinators.empty()) {
    return response->coordinators[0].error_code == 0 ? response->coordinators[0].node_id : -1;
  }
  return response->error_code == 0 ? response->node_id : -1;
}

int64_t ClusterClient::latest_offset(const std::string& topic, int32_t partition) {
  protocol::ListOffsetsRequest request;
  request.replica_id = -1;
  auto& t = request.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = partition;
  p.timestamp = -1;
  auto response = call(std::move(request));
  if (!response || response->topics.empty() || response->topics[0].partitions.empty()) return -1;
  const auto& out = response->topics[0].partitions[0];
  return out.error_code == 0 ? out.offset : -1;
}

}  // namespace runnel::it

namespace runnel::it {

int16_t ClusterClient::produce_one(const std::string& topic, int32_t partition, const std::string& value, int16_t acks,
                                   int32_t timeout_ms, std::chrono::milliseconds wait) {
  const Bytes batch = BuildRecordBatch({TestRecord{std::nullopt, value, {}}});
  protocol::ProduceRequest request;
  request.acks = acks;
  request.timeout_ms = timeout_ms;
  auto& t = request.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = partition;
  p.records = protocol::RecordsView::of(batch);
  protocol::ProduceRequest copy = request;
  auto response = call(std::move(copy), wait);
  if (!response || response->responses.empty() || response->responses[0].partition_responses.empty()) return -1;
  return response->responses[0].partition_responses[0].error_code;
}

}  // namespace runnel::it
