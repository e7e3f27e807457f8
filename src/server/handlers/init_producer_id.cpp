// InitProducerId: a producer id and epoch for an idempotent producer.
// As Kafka's TransactionCoordinator.handleInitProducerId for a null transactional
// id: always a fresh id (epoch 0), even when a v3+ client passes its current id
// and epoch to bump it (KIP-360). Ids come in blocks from one counter in the
// metadata store, so no two brokers and no restart ever hand out the same id.
//
// Transactional ids: there is no transaction coordinator yet, so a non-null id
// gets COORDINATOR_NOT_AVAILABLE — the same answer FindCoordinator gives for the
// transaction key type, so clients see one consistent "not available" (Kafka
// answers it too while __transaction_state cannot be loaded). An empty id is
// INVALID_REQUEST, as in Kafka.
#include "protocol/messages/init_producer_id.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_init_producer_id(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::InitProducerIdRequest>();
  protocol::InitProducerIdResponse response;
  response.producer_id = -1;
  response.producer_epoch = -1;
  const bool no_id = request.producer_id == -1;
  const bool no_epoch = request.producer_epoch == -1;
  if (request.transactional_id && request.transactional_id->empty()) {
    response.error_code = to_wire(ErrorCode::kInvalidRequest);
  } else if (request.transactional_id) {
    response.error_code = to_wire(ErrorCode::kCoordinatorNotAvailable);
  } else if (no_id != no_epoch) {
    response.error_code = to_wire(ErrorCode::kInvalidRequest);  // both or neither (Kafka's KafkaApis)
  } else {
    const auto id = co_await broker.cluster.producer_ids().allocate();
    if (id) {
      response.producer_id = *id;
      response.producer_epoch = 0;
    } else {
      // The metadata store did not answer: retriable.
      response.error_code = to_wire(ErrorCode::kCoordinatorLoadInProgress);
    }
  }
  context.respond(response);
}

}  // namespace runnel::server
