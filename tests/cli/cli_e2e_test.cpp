// Acceptance 3: the CLI end to end against a real broker. Create a topic,
// produce from stdin, consume with a group, describe the group's lag, reset
// its offsets and consume again, delete everything. Needs the broker's admin
// APIs (CreateTopics, DescribeConfigs, AlterConfigs, CreatePartitions,
// DeleteTopics) and group APIs (FindCoordinator, JoinGroup, SyncGroup,
// OffsetCommit, OffsetFetch, ListGroups, DescribeGroups, DeleteGroups).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "broker_process.h"
#include "cli_runner.h"

namespace runnel::clitest {
namespace {

class CliEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    // Topics come only from `runnel topic create` here.
    broker_ = std::make_unique<it::BrokerProcess>(std::vector<std::string>{
        "auto.create.topics.enable=false", "group.initial.rebalance.delay.ms=0"});
    ASSERT_TRUE(broker_->start());
  }

  CliResult Run(std::vector<std::string> args, const std::string& input = "",
                std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    args.insert(args.end(), {"-b", broker_->bootstrap()});
    return RunCli(args, input, timeout);
  }

  // Runs `code` with the JSON output of `runnel ARGS --format json` as d.
  std::string Query(std::vector<std::string> args, const std::string& code) {
    args.insert(args.end(), {"--format", "json"});
    const CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return Python("import json,sys\nd=json.load(sys.stdin)\n" + code, r.out);
  }

  std::string GroupOffsets(const std::string& group) {
    // "state total_lag | p:committed/end/lag ..." for compact assertions.
    return Query(
        {"group", "describe", group},
        "g=d[0]\n"
        "print(g['state'], g['total_lag'], '|', ' '.join('%d:%s/%s/%s' % (o['partition'], o['committed_offset'],"
        " o['log_end_offset'], o['lag']) for o in g['offsets']))");
  }

  std::unique_ptr<it::BrokerProcess> broker_;
};

TEST_F(CliEndToEnd, CreateProduceConsumeDescribeLagResetConsumeAgainDelete) {
  // Create.
  CliResult r = Run({"topic", "create", "orders", "-p", "3", "-r", "1", "-c", "retention.ms=3600000"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("created"), std::string::npos) << r.out;
  r = Run({"topic", "create", "orders", "-p", "3"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(Lines(r.err).size(), 1u) << Describe(r);
  EXPECT_NE(r.err.find("TOPIC_ALREADY_EXISTS"), std::string::npos) << Describe(r);
  EXPECT_EQ(Query({"topic", "list"}, "print([(t['name'], t['partitions']) for t in d])"), "[('orders', 3)]\n");

  // Produce 30 keyed records, spread over the partitions by key.
  std::string input;
  for (int i = 0; i < 30; ++i) input += "key" + std::to_string(i) + ":value" + std::to_string(i) + "\n";
  r = Run({"produce", "orders", "-k", ":", "--format", "json"}, input);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Python("import json,sys; print(json.load(sys.stdin)['records'])", r.out), "30\n");

  // Consume 20 of them as group g1: exactly what was printed is committed.
  r = Run({"consume", "orders", "-g", "g1", "-n", "20", "-f", "%k=%s\\n"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Lines(r.out).size(), 20u) << Describe(r);
  EXPECT_EQ(Query({"group", "list"}, "print([(g['group'], g['state']) for g in d])"), "[('g1', 'Empty')]\n");
  // Which partitions the 20 came from depends on fetch timing; a partition
  // the group never committed has lag "unknown" (null), all of it unread.
  EXPECT_EQ(Query({"group", "describe", "g1"},
                  "g=d[0]; offs=g['offsets']; known=[o for o in offs if o['committed_offset'] is not None]\n"
                  "print(g['state'], len(offs), sum(o['committed_offset'] for o in known),"
                  " sum(o['log_end_offset'] for o in offs),"
                  " all(o['lag'] == o['log_end_offset'] - o['committed_offset'] for o in known),"
                  " all(o['lag'] is None for o in offs if o not in known),"
                  " g['total_lag'] + sum(o['log_end_offset'] for o in offs if o not in known))"),
            "Empty 3 20 30 True True 10\n");
  r = Run({"group", "describe", "g1"});
  EXPECT_NE(r.out.find("TOTAL-LAG"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("LOG-END-OFFSET"), std::string::npos) << r.out;

  // Reset: the default is a dry run that changes nothing.
  const std::string committed_before = GroupOffsets("g1");
  r = Run({"group", "reset-offsets", "g1", "--topic", "orders", "--to-earliest"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("dry run"), std::string::npos) << r.out;
  EXPECT_EQ(GroupOffsets("g1"), committed_before);
  r = Run({"group", "reset-offsets", "g1", "--topic", "orders", "--to-earliest", "--execute", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(
      Python("import json,sys; d=json.load(sys.stdin); print(d['executed'], [o['new_offset'] for o in d['offsets']])",
             r.out),
      "True [0, 0, 0]\n");
  EXPECT_EQ(Query({"group", "describe", "g1"}, "print(d[0]['total_lag'])"), "30\n");

  // Consume again from the reset position: all 30, then no lag.
  r = Run({"consume", "orders", "-g", "g1", "-e"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Lines(r.out).size(), 30u) << Describe(r);
  EXPECT_EQ(Query({"group", "describe", "g1"}, "print(d[0]['total_lag'])"), "0\n");

  // Other strategies on selected partitions.
  const std::string end0 =
      Query({"topic", "describe", "orders", "--no-configs"}, "print(d[0]['partitions'][0]['log_end_offset'])");
  const long long p0_end = std::stoll(end0);
  r = Run({"group", "reset-offsets", "g1", "--topic", "orders:0", "--shift-by", "-2", "--execute"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Run({"group", "reset-offsets", "g1", "--topic", "orders:1,2", "--to-offset", "1", "--execute"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Query({"group", "describe", "g1"}, "print([o['committed_offset'] for o in d[0]['offsets']])"),
            "[" + std::to_string(std::max(0LL, p0_end - 2)) + ", 1, 1]\n");
  r = Run({"group", "reset-offsets", "g1", "--topic", "orders", "--to-datetime", "1970-01-01T00:00:00Z", "--execute"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Query({"group", "describe", "g1"}, "print(d[0]['total_lag'])"), "30\n");
  r = Run({"group", "reset-offsets", "g1", "--topic", "orders", "--to-latest", "--execute"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Query({"group", "describe", "g1"}, "print(d[0]['total_lag'])"), "0\n");

  // A group with an active member cannot be reset.
  BackgroundCli member({"consume", "orders", "-g", "g1", "-b", broker_->bootstrap()});
  std::string state;
  for (int i = 0; i < 100 && state != "Stable\n"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    state = Query({"group", "describe", "g1"}, "print(d[0]['state'])");
  }
  EXPECT_EQ(state, "Stable\n");
  r = Run({"group", "describe", "g1"});
  EXPECT_NE(r.out.find("MEMBER-ID"), std::string::npos) << r.out;
  r = Run({"group", "reset-offsets", "g1", "--topic", "orders", "--to-earliest", "--execute"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(Lines(r.err).size(), 1u) << Describe(r);
  EXPECT_NE(r.err.find("stop its consumers"), std::string::npos) << Describe(r);
  // Ctrl-C/SIGTERM: the member commits, leaves the group and exits 0.
  EXPECT_EQ(member.terminate(), 0) << member.err();
  EXPECT_EQ(member.out(), "");  // the group was at the end already
  EXPECT_EQ(Query({"group", "describe", "g1"}, "print(d[0]['state'], len(d[0]['members']))"), "Empty 0\n");

  // Delete the group and the topic.
  r = Run({"group", "delete", "g1"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = Run({"group", "describe", "g1"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << Describe(r);
  r = Run({"topic", "delete", "orders"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Query({"topic", "list"}, "print(len(d))"), "0\n");
  r = Run({"topic", "delete", "orders"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("UNKNOWN_TOPIC_OR_PART"), std::string::npos) << Describe(r);
}

TEST_F(CliEndToEnd, TopicConfigsPartitionsAndDryRuns) {
  CliResult r = Run({"topic", "create", "dry", "-p", "2", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("dry run"), std::string::npos) << r.out;
  EXPECT_EQ(Query({"topic", "list"}, "print(len(d))"), "0\n");

  r = Run({"topic", "create", "t1", "t2", "-p", "2", "-c", "retention.ms=3600000"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string configs =
      "c={x['name']: (x['value'], x['source']) for x in d[0]['configs']}\n"
      "print(c.get('retention.ms'), c.get('cleanup.policy'))";
  EXPECT_EQ(Query({"topic", "describe", "t1"}, configs),
            "('3600000', 'DYNAMIC_TOPIC_CONFIG') ('delete', 'DEFAULT_CONFIG')\n");
  r = Run({"topic", "describe", "t1"});
  EXPECT_NE(r.out.find("DYNAMIC_TOPIC_CONFIG"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("LOG-END-OFFSET"), std::string::npos) << r.out;

  // alter-config keeps other overrides (read-modify-write over AlterConfigs).
  r = Run({"topic", "alter-config", "t1", "--set", "cleanup.policy=compact", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Query({"topic", "describe", "t1"}, configs),
            "('3600000', 'DYNAMIC_TOPIC_CONFIG') ('delete', 'DEFAULT_CONFIG')\n");
  r = Run({"topic", "alter-config", "t1", "--set", "cleanup.policy=compact"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Query({"topic", "describe", "t1"}, configs),
            "('3600000', 'DYNAMIC_TOPIC_CONFIG') ('compact', 'DYNAMIC_TOPIC_CONFIG')\n");
  r = Run({"topic", "alter-config", "t1", "--delete", "retention.ms"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Query({"topic", "describe", "t1"},
                  "c={x['name']: x['source'] for x in d[0]['configs']}\n"
                  "print(c.get('retention.ms'), c.get('cleanup.policy'))"),
            "DEFAULT_CONFIG DYNAMIC_TOPIC_CONFIG\n");
  r = Run({"topic", "alter-config", "t1", "--set", "retention.ms=banana"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(Lines(r.err).size(), 1u) << Describe(r);

  // add-partitions by count and to a total; shrinking is refused.
  r = Run({"topic", "add-partitions", "t1", "-n", "2"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Run({"topic", "add-partitions", "t2", "--total", "3", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Query({"topic", "list"}, "print([(t['name'], t['partitions']) for t in d])"), "[('t1', 4), ('t2', 2)]\n");
  r = Run({"topic", "add-partitions", "t2", "--total", "1"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);

  // Deleting a mix: the known one goes, the unknown one is one error line.
  r = Run({"topic", "delete", "t1", "nope"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(Lines(r.err).size(), 1u) << Describe(r);
  EXPECT_NE(r.out.find("t1"), std::string::npos) << r.out;
  EXPECT_EQ(Query({"topic", "list"}, "print([t['name'] for t in d])"), "['t2']\n");
}

}  // namespace
}  // namespace runnel::clitest
