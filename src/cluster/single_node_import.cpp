#include "cluster/single_node_import.h"

#include <map>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "cluster/store_await.h"
#include "cluster/topic_config_store.h"
#include "storage/producer_id_manager.h"

namespace runnel::cluster {
namespace {

constexpr size_t kOpsPerTxn = 64;

asio::awaitable<void> put_all(MetadataStore& store, std::vector<TxnOp> ops) {
  for (size_t begin = 0; begin < ops.size(); begin += kOpsPerTxn) {
    Txn txn;
    for (size_t i = begin; i < std::min(ops.size(), begin + kOpsPerTxn); ++i) txn.success.push_back(ops[i]);
    auto [status, result] = co_await co_txn(store, std::move(txn));
    if (!status.ok()) throw std::runtime_error("cannot write the imported metadata: " + status.message);
  }
}

}  // namespace

asio::awaitable<int> import_single_node_data(MetadataStore& store, const MetadataKeys& keys, storage::LogManager& logs,
                                             int32_t node_id, const std::string& first_log_dir) {
  TopicConfigStore configs;
  if (auto ec = configs.open(first_log_dir))
    spdlog::warn("{}/{} is unreadable ({}); imported topics keep broker defaults", first_log_dir,
                 TopicConfigStore::kFileName, ec.message());
  std::vector<TxnOp> ops;
  int topics = 0;
  for (const auto& [name, info] : logs.topics()) {
    ops.push_back(TxnOp::put(keys.topic(name), encode(TopicRecord{info.id, info.partitions})));
    if (!configs.overrides(name).empty()) ops.push_back(TxnOp::put(keys.config(name), encode_configs(configs.overrides(name))));
    for (int32_t p = 0; p < info.partitions; ++p) {
      PartitionState state;
      state.replicas = {node_id};
      state.isr = {node_id};
      state.leader = node_id;
      if (auto log = logs.get(name, p)) state.leader_epoch = std::max(0, log->latest_epoch());
      ops.push_back(TxnOp::put(keys.partition(name, p), encode(state)));
    }
    ++topics;
  }
  // Ids below the old counter's end may have been handed out.
  int64_t reserved_end = 0;
  std::string text;
  auto& env = storage::Env::posix();
  const std::string block_file = first_log_dir + "/" + storage::kProducerIdBlockFile;
  // Its format: "version: 0\nnext_producer_id: <n>\n".
  if (env.exists(block_file) && !storage::read_whole_file(env, block_file, text)) {
    const auto at = text.find("next_producer_id:");
    try {
      if (at == std::string::npos) throw std::invalid_argument("no next_producer_id");
      reserved_end = std::stoll(text.substr(at + 17));
    } catch (const std::exception&) {
      spdlog::warn("{} is malformed; producer ids restart from the store's counter", block_file);
    }
  }
  if (reserved_end > 0) ops.push_back(TxnOp::put(keys.producer_id_block(), std::to_string(reserved_end)));
  co_await put_all(store, std::move(ops));
  if (topics > 0) spdlog::info("imported {} topics of this node's data into the local metadata store", topics);
  co_return topics;
}

}  // namespace runnel::cluster
