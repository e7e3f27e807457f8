// AlterPartition (inter-broker): a leader proposes a new ISR for its partitions;
// the controller accepts it only from the current leader at the current leader
// and partition epochs (a deposed leader cannot change the ISR) and answers with
// the committed state. Other brokers answer NOT_CONTROLLER; leaders then retry
// with the controller their image names.
#include "protocol/messages/alter_partition.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_alter_partition(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::AlterPartitionRequest>();
  const int16_t version = context.version();
  protocol::AlterPartitionResponse response;
  auto& controller = broker.cluster.controller();
  if (!controller.active()) {
    response.error_code = to_wire(ErrorCode::kNotController);
    context.respond(response);
    co_return;
  }
  const auto image = broker.cluster.image();
  std::vector<cluster::IsrChange> changes;
  for (const auto& topic : request.topics) {
    for (const auto& p : topic.partitions) {
      cluster::IsrChange change;
      change.topic_id = version >= 2 ? topic.topic_id : Uuid{};
      change.partition = {topic.topic_name, p.partition_index};
      std::vector<int32_t> isr = p.new_isr;
      if (version >= 3) {
        isr.clear();
        for (const auto& b : p.new_isr_with_epochs) isr.push_back(b.broker_id);
      }
      change.request = {request.broker_id, request.broker_epoch, p.leader_epoch, p.partition_epoch, isr};
      changes.push_back(std::move(change));
    }
  }
  const auto results = co_await controller.change_isr(changes);
  size_t i = 0;
  for (const auto& topic : request.topics) {
    auto& topic_out = response.topics.emplace_back();
    topic_out.topic_name = topic.topic_name;
    topic_out.topic_id = topic.topic_id;
    for (const auto& p : topic.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = p.partition_index;
      const auto& r = results[i++];
      out.error_code = to_wire(r.error);
      if (r.error == ErrorCode::kNone && r.state) {
        out.leader_id = r.state->leader;
        out.leader_epoch = r.state->leader_epoch;
        out.isr = r.state->isr;
        out.partition_epoch = r.state->partition_epoch;
      }
    }
  }
  context.respond(response);
}

}  // namespace runnel::server
