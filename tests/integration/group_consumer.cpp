#include "group_consumer.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "kcat.h"
#include "rdkafka_consumer.h"

extern char** environ;

namespace runnel::it {

void ConsumptionLog::add(Consumption c) {
  std::lock_guard lock(mu_);
  entries_.push_back(std::move(c));
}

std::vector<Consumption> ConsumptionLog::snapshot() const {
  std::lock_guard lock(mu_);
  return entries_;
}

std::size_t ConsumptionLog::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::size_t ConsumptionLog::distinct() const {
  std::lock_guard lock(mu_);
  std::set<std::pair<std::int32_t, std::int64_t>> seen;
  for (const auto& e : entries_) seen.emplace(e.partition, e.offset);
  return seen.size();
}

GroupConsumer::GroupConsumer(const std::string& bootstrap, GroupConsumerOptions options) : options_(std::move(options)) {
  ClientConfig config = {{"bootstrap.servers", bootstrap},
                         {"group.id", options_.group},
                         {"client.id", options_.name},
                         {"enable.auto.commit", "false"},
                         {"auto.offset.reset", "earliest"},
                         {"session.timeout.ms", "3000"},
                         {"heartbeat.interval.ms", "300"},
                         {"max.poll.interval.ms", "20000"},
                         {"reconnect.backoff.ms", "50"},
                         {"reconnect.backoff.max.ms", "500"},
                         {"topic.metadata.refresh.interval.ms", "1000"}};
  for (const auto& [k, v] : options_.overrides) config[k] = v;
  rd_kafka_conf_t* conf = MakeConf(config, &error_);
  if (!conf) return;
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_rebalance_cb(conf, &GroupConsumer::OnRebalance);
  char errstr[512];
  rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!rk_) {
    error_ = errstr;
    rd_kafka_conf_destroy(conf);
    return;
  }
  rd_kafka_poll_set_consumer(rk_);
}

GroupConsumer::~GroupConsumer() {
  stop();
  if (rk_) {
    if (!closed_) rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
}

void GroupConsumer::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                void* opaque) {
  auto* self = static_cast<GroupConsumer*>(opaque);
  ++self->rebalances_;
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  rd_kafka_error_t* error = nullptr;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative) {
      error = rd_kafka_incremental_assign(rk, partitions);
    } else {
      rd_kafka_assign(rk, partitions);
    }
  } else if (cooperative) {
    error = rd_kafka_incremental_unassign(rk, partitions);
  } else {
    rd_kafka_assign(rk, nullptr);
  }
  if (error) rd_kafka_error_destroy(error);
}

bool GroupConsumer::subscribe(const std::vector<std::string>& topics) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) error_ = rd_kafka_err2str(err);
  return err == RD_KAFKA_RESP_ERR_NO_ERROR;
}

void GroupConsumer::start(ConsumptionLog* log) {
  thread_ = std::thread([this, log] { run(log); });
}

void GroupConsumer::run(ConsumptionLog* log) {
  // Bounded by the tests' own deadlines: they always call stop().
  while (!stop_) {
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk_, 100);
    if (!msg) continue;
    if (msg->err) {
      rd_kafka_message_destroy(msg);
      continue;
    }
    Consumption c;
    c.member = options_.name;
    c.partition = msg->partition;
    c.offset = msg->offset;
    c.value.assign(static_cast<const char*>(msg->payload), msg->len);
    c.at = std::chrono::steady_clock::now();
    log->add(std::move(c));
    ++consumed_;
    if (options_.per_record_delay.count() > 0) std::this_thread::sleep_for(options_.per_record_delay);
    if (options_.commit_each) {
      if (rd_kafka_commit_message(rk_, msg, 0) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::lock_guard lock(mu_);
        acked_[msg->partition] = msg->offset + 1;
        history_.push_back({msg->partition, msg->offset + 1, std::chrono::steady_clock::now()});
      } else {
        ++commit_failures_;
      }
    }
    rd_kafka_message_destroy(msg);
  }
}

void GroupConsumer::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void GroupConsumer::close() {
  stop();
  if (rk_ && !closed_) rd_kafka_consumer_close(rk_);
  closed_ = true;
}

void GroupConsumer::abandon() {
  stop();
  if (rk_) rd_kafka_destroy_flags(rk_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  rk_ = nullptr;
}

std::set<std::int32_t> GroupConsumer::assignment() const {
  std::set<std::int32_t> result;
  if (!rk_) return result;
  rd_kafka_topic_partition_list_t* list = nullptr;
  if (rd_kafka_assignment(rk_, &list) == RD_KAFKA_RESP_ERR_NO_ERROR && list) {
    for (int i = 0; i < list->cnt; ++i) result.insert(list->elems[i].partition);
  }
  if (list) rd_kafka_topic_partition_list_destroy(list);
  return result;
}

std::map<std::int32_t, std::int64_t> GroupConsumer::acked_commits() const {
  std::lock_guard lock(mu_);
  return acked_;
}

std::vector<GroupConsumer::AckedCommit> GroupConsumer::commit_history() const {
  std::lock_guard lock(mu_);
  return history_;
}

KcatGroupMember::KcatGroupMember(const std::string& bootstrap, const std::string& group, const std::string& topic,
                                 ConsumptionLog* log, const std::string& stderr_path,
                                 const std::vector<std::string>& extra_properties) {
  std::vector<std::string> args = {kKcatPath, "-b", bootstrap, "-G", group, "-u", "-f", "%p %o %s\\n",
                                   "-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=3000",
                                   "-X", "heartbeat.interval.ms=300", "-X", "max.poll.interval.ms=20000"};
  for (const auto& p : extra_properties) {
    args.push_back("-X");
    args.push_back(p);
  }
  args.push_back(topic);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  read_fd_ = fds[0];
  // Ends at EOF, i.e. when kcat exits or is killed.
  reader_ = std::thread([fd = read_fd_, log] {
    std::string pending;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      pending.append(buffer, static_cast<std::size_t>(n));
      for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
        std::istringstream fields(pending.substr(0, nl));
        Consumption c;
        c.member = "kcat";
        c.at = std::chrono::steady_clock::now();
        if (fields >> c.partition >> c.offset >> c.value) log->add(std::move(c));
      }
    }
  });
}

KcatGroupMember::~KcatGroupMember() {
  kill9();
  if (reader_.joinable()) reader_.join();
  if (read_fd_ >= 0) ::close(read_fd_);
}

bool KcatGroupMember::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
  pid_ = -1;
  return false;
}

void KcatGroupMember::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  // Every line kcat wrote before dying is read before kill9() returns.
  if (reader_.joinable()) reader_.join();
}

namespace {

rd_kafka_t* NewPlainConsumer(const std::string& bootstrap, const std::string& group, std::string* why) {
  std::string error;
  rd_kafka_conf_t* conf = MakeConf({{"bootstrap.servers", bootstrap},
                                    {"group.id", group},
                                    {"enable.auto.commit", "false"},
                                    {"reconnect.backoff.ms", "50"}},
                                   &error);
  if (!conf) {
    if (why) *why = error;
    return nullptr;
  }
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!rk) {
    if (why) *why = errstr;
    rd_kafka_conf_destroy(conf);
  }
  return rk;
}

}  // namespace

std::map<std::int32_t, std::int64_t> CommittedOffsets(const std::string& bootstrap, const std::string& group,
                                                      const std::string& topic, int partitions, std::string* why) {
  std::map<std::int32_t, std::int64_t> result;
  rd_kafka_t* rk = NewPlainConsumer(bootstrap, group, why);
  if (!rk) return result;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  const rd_kafka_resp_err_t err = rd_kafka_committed(rk, list, 15000);
  if (err) {
    if (why) *why = rd_kafka_err2str(err);
  } else {
    for (int i = 0; i < list->cnt; ++i) {
      const auto& e = list->elems[i];
      result[e.partition] = e.offset < 0 ? -1 : e.offset;
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return result;
}

std::string CommitOffsetsAsSimpleConsumer(const std::string& bootstrap, const std::string& group,
                                          const std::string& topic,
                                          const std::map<std::int32_t, std::int64_t>& offsets) {
  std::string why;
  rd_kafka_t* rk = NewPlainConsumer(bootstrap, group, &why);
  if (!rk) return why;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& [p, o] : offsets) rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = o;
  // Not subscribed: librdkafka commits outside group management (generation -1).
  const rd_kafka_resp_err_t err = rd_kafka_commit(rk, list, 0);
  std::string result = err ? rd_kafka_err2str(err) : "";
  for (int i = 0; result.empty() && i < list->cnt; ++i) {
    if (list->elems[i].err) result = rd_kafka_err2str(list->elems[i].err);
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return result;
}

std::string ProduceNumbered(const std::string& bootstrap, const std::string& topic, int partitions, int first,
                            int count) {
  Producer producer(bootstrap, {{"linger.ms", "5"}});
  if (!producer.ok()) return producer.error();
  std::uint64_t id = 0;
  for (int i = first; i < first + count; ++i) {
    for (int p = 0; p < partitions; ++p) {
      TestRecord r;
      r.key = "k" + std::to_string(i);
      r.value = "p" + std::to_string(p) + "-" + std::to_string(i);
      if (auto err = producer.produce(topic, p, r, id++)) return rd_kafka_err2str(err);
    }
  }
  if (auto err = producer.flush(std::chrono::seconds(60))) return rd_kafka_err2str(err);
  for (const auto& d : producer.deliveries()) {
    if (d.err) return std::string("delivery failed: ") + rd_kafka_err2str(d.err);
  }
  return "";
}

std::map<std::int32_t, std::int64_t> HighWatermarks(const std::string& bootstrap, const std::string& topic,
                                                    int partitions) {
  std::map<std::int32_t, std::int64_t> result;
  for (int p = 0; p < partitions; ++p) {
    const Watermarks w = QueryWatermarks(bootstrap, topic, p);
    if (!w.error.empty()) return {};
    result[p] = w.high;
  }
  return result;
}

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds step) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(step);
  }
  return condition();
}

}  // namespace runnel::it
