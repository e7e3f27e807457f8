// produce -> consume through the CLI against a real broker: keys, headers,
// every compression codec, JSON output, and every start position.
// Topics are auto-created by a metadata request (kcat -L -t), so these tests
// do not depend on CreateTopics.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "broker_process.h"
#include "cli_runner.h"
#include "kcat.h"

namespace runnel::clitest {
namespace {

class CliRoundTrip : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = std::make_unique<it::BrokerProcess>(std::vector<std::string>{"num.partitions=2", "group.initial.rebalance.delay.ms=0"});
    if (!broker_->start()) broker_.reset();
  }
  static void TearDownTestSuite() { broker_.reset(); }
  void SetUp() override {
    if (!broker_) GTEST_SKIP() << "broker did not start";
  }

  static std::string b() { return broker_->bootstrap(); }

  // Auto-creates `topic` (num.partitions=2) with a metadata request for it.
  static void AutoCreate(const std::string& topic) {
    const auto r = it::KcatMetadata(b(), topic);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (int i = 0; i < 50; ++i) {
      const CliResult list = RunCli({"topic", "list", "-b", b()});
      if (list.out.find(topic) != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "topic " << topic << " was not auto-created";
  }

  static CliResult Run(std::vector<std::string> args, const std::string& input = "") {
    args.push_back("-b");
    args.push_back(b());
    return RunCli(args, input, std::chrono::seconds(60));
  }

  static std::unique_ptr<it::BrokerProcess> broker_;
};

std::unique_ptr<it::BrokerProcess> CliRoundTrip::broker_;

TEST_F(CliRoundTrip, KeysHeadersAndEveryCompressionCodecSurviveTheRoundTrip) {
  for (const std::string codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    SCOPED_TRACE(codec);
    const std::string topic = "rt-" + codec;
    AutoCreate(topic);
    std::string input, expected;
    for (int i = 0; i < 200; ++i) {
      const std::string key = "key-" + std::to_string(i);
      // Repetitive values so every codec actually compresses something.
      const std::string value = "value " + std::to_string(i) + " " + std::string(40, 'x') + " é";
      input += key + "\t" + value + "\n";
      expected += "1|" + key + "|" + value + "|app=runnel,trace=a=b|" + std::to_string(i) + "\n";
    }
    input += "no separator here\n";  // no key
    expected += "1||no separator here|app=runnel,trace=a=b|200\n";

    const CliResult produced = Run(
        {"produce", topic, "-k", "\\t", "-H", "app=runnel", "-H", "trace=a=b", "-p", "1", "-z", codec, "--acks", "all"},
        input);
    ASSERT_EQ(produced.exit_code, 0) << Describe(produced);
    EXPECT_NE(produced.out.find("201"), std::string::npos) << produced.out;  // records column

    const CliResult consumed = Run({"consume", topic, "-p", "1", "-e", "-f", "%p|%k|%s|%h|%o\\n"});
    ASSERT_EQ(consumed.exit_code, 0) << Describe(consumed);
    EXPECT_EQ(consumed.out, expected);
    EXPECT_EQ(consumed.err, "");
    const CliResult lengths = Run({"consume", topic, "-p", "1", "-o", "-1", "-e", "-f", "%K %S\\n"});
    EXPECT_EQ(lengths.out, "-1 17\n") << Describe(lengths);
  }
}

TEST_F(CliRoundTrip, JsonOutputsParse) {
  const std::string topic = "rt-json";
  AutoCreate(topic);
  const CliResult produced = Run({"produce", topic, "-k", ":", "-H", "h=\"quoted\"", "--format", "json"},
                                 "k1:v1\nk2:line with \"quotes\" and \\backslash\n:\nbinary \x01\x02\xff\n");
  ASSERT_EQ(produced.exit_code, 0) << Describe(produced);
  EXPECT_TRUE(IsJsonDocument(produced.out)) << produced.out;
  EXPECT_EQ(Python("import json,sys; print(json.load(sys.stdin)['records'])", produced.out), "4\n");

  const CliResult consumed = Run({"consume", topic, "-e", "--format", "json"});
  ASSERT_EQ(consumed.exit_code, 0) << Describe(consumed);
  const auto lines = Lines(consumed.out);
  ASSERT_EQ(lines.size(), 4u) << consumed.out;
  for (const auto& line : lines) EXPECT_TRUE(IsJsonDocument(line)) << line;
  // All records, sorted by value: keys, values and headers come back exactly.
  const std::string summary = Python(
      "import json,sys\n"
      "rs=[json.loads(l) for l in sys.stdin]\n"
      "for r in sorted(rs, key=lambda r: r['value']):\n"
      "  print(repr((r['topic'], r['key'], r['value'], r['headers'], type(r['offset']).__name__)))\n",
      consumed.out);
  EXPECT_EQ(
      summary,
      "('rt-json', '', '', [{'key': 'h', 'value': '\"quoted\"'}], 'int')\n"
      "('rt-json', None, 'binary \\x01\\x02ÿ', [{'key': 'h', 'value': '\"quoted\"'}], 'int')\n"
      "('rt-json', 'k2', 'line with \"quotes\" and \\\\backslash', [{'key': 'h', 'value': '\"quoted\"'}], 'int')\n"
      "('rt-json', 'k1', 'v1', [{'key': 'h', 'value': '\"quoted\"'}], 'int')\n");

  for (const auto& args :
       std::vector<std::vector<std::string>>{{"topic", "list", "--format", "json"},
                                             {"topic", "describe", topic, "--no-configs", "--format", "json"},
                                             {"cluster", "info", "--format", "json"}}) {
    const CliResult r = Run(args);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_TRUE(IsJsonDocument(r.out)) << Describe(r);
  }
  const CliResult describe = Run({"topic", "describe", topic, "--no-configs", "--format", "json"});
  EXPECT_EQ(Python("import json,sys\n"
                   "d=json.load(sys.stdin)[0]\n"
                   "print(d['name'], len(d['partitions']), sum(p['log_end_offset'] for p in d['partitions']))",
                   describe.out),
            "rt-json 2 4\n");
}

TEST_F(CliRoundTrip, ConsumeStartsAtEarliestLatestOffsetTimestampOrRelative) {
  const std::string topic = "rt-positions";
  AutoCreate(topic);
  auto produce_range = [&](int from, int to) {
    std::string input;
    for (int i = from; i < to; ++i) input += "v" + std::to_string(i) + "\n";
    const CliResult r = Run({"produce", topic, "-p", "0"}, input);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  };
  produce_range(0, 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto middle =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  produce_range(5, 10);

  auto values = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"consume", topic, "-p", "0", "-e", "-f", "%s,"};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r.out;
  };
  const std::string all = "v0,v1,v2,v3,v4,v5,v6,v7,v8,v9,";
  EXPECT_EQ(values({}), all);  // default: earliest
  EXPECT_EQ(values({"-o", "earliest"}), all);
  EXPECT_EQ(values({"-o", "beginning"}), all);
  EXPECT_EQ(values({"-o", "latest"}), "");
  EXPECT_EQ(values({"-o", "3"}), "v3,v4,v5,v6,v7,v8,v9,");
  EXPECT_EQ(values({"-o", "100"}), "");  // past the end: clamped to the end
  EXPECT_EQ(values({"-o", "-2"}), "v8,v9,");
  EXPECT_EQ(values({"--offset=-3"}), "v7,v8,v9,");
  EXPECT_EQ(values({"-o", "-100"}), all);  // clamped to the start
  EXPECT_EQ(values({"-o", "@" + std::to_string(middle)}), "v5,v6,v7,v8,v9,");
  EXPECT_EQ(values({"-o", "@0"}), all);
  EXPECT_EQ(values({"-o", "@" + std::to_string(middle + 3600 * 1000)}), "");
  EXPECT_EQ(values({"-n", "3"}), "v0,v1,v2,");
  EXPECT_EQ(values({"-o", "4", "-n", "2"}), "v4,v5,");

  // Partition 1 is empty: with -e the command still ends.
  const CliResult empty = Run({"consume", topic, "-p", "1", "-e"});
  EXPECT_EQ(empty.exit_code, 0) << Describe(empty);
  EXPECT_EQ(empty.out, "");
  // Both partitions, default template: value per line.
  const CliResult both = Run({"consume", topic, "-e"});
  EXPECT_EQ(Lines(both.out).size(), 10u) << Describe(both);
}

TEST_F(CliRoundTrip, UnknownTopicIsOneLineAndExitOne) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"consume", "no-such-topic", "-e"},
                                             {"produce", "no-such-topic"},
                                             {"topic", "describe", "no-such-topic"},
                                             {"topic", "add-partitions", "no-such-topic", "-n", "1"}}) {
    const CliResult r = Run(args, "x\n");
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    ASSERT_EQ(Lines(r.err).size(), 1u) << Describe(r);
    EXPECT_NE(r.err.find("unknown topic 'no-such-topic'"), std::string::npos) << Describe(r);
  }
  // Describing must not have auto-created it.
  EXPECT_EQ(Run({"topic", "list"}).out.find("no-such-topic"), std::string::npos);
  // A partition the topic does not have is the same kind of failure.
  AutoCreate("rt-two-partitions");
  for (const auto& args : std::vector<std::vector<std::string>>{{"produce", "rt-two-partitions", "-p", "7"},
                                                                {"consume", "rt-two-partitions", "-p", "0,2"}}) {
    const CliResult r = Run(args, "x\n");
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_NE(r.err.find("has no partition"), std::string::npos) << Describe(r);
  }
}

TEST_F(CliRoundTrip, ClusterInfoShowsTheBrokerAndController) {
  const CliResult r = Run({"cluster", "info", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string port = std::to_string(broker_->port());
  EXPECT_EQ(Python("import json,sys\n"
                   "d=json.load(sys.stdin)\n"
                   "print(len(d['brokers']), d['brokers'][0]['port'], d['controller_id'] == d['brokers'][0]['id'],"
                   " d['cluster_id'] is not None)",
                   r.out),
            "1 " + port + " True True\n");
  const CliResult table = Run({"cluster", "info"});
  EXPECT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_NE(table.out.find("CONTROLLER"), std::string::npos);
}

}  // namespace
}  // namespace runnel::clitest
