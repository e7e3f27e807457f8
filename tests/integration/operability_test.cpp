// Logs and startup (issue 9): `--log-format json` writes one JSON object per
// line; the startup banner names the version, listeners, data dir and config
// source; serving requests prints nothing at the default level; bad values of
// the new options stop startup with one clear line.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include "broker_process.h"
#include "file_util.h"
#include "group_consumer.h"
#include "group_verification.h"
#include "kcat.h"
#include "subprocess.h"

namespace runnel::it {
namespace {

// The broker's own output lines (the harness adds "=== harness" lines).
std::vector<std::string> BrokerLines(const BrokerProcess& broker) {
  std::vector<std::string> lines;
  std::istringstream in(ReadWholeFile(broker.stderr_path()));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("=== harness", 0) != 0) lines.push_back(line);
  }
  return lines;
}

TEST(Operability, JsonLogsHaveABannerAndNothingPerRequest) {
  BrokerProcess broker(GroupBrokerSettings(2));
  broker.set_serve_args({"--log-format", "json"});
  ASSERT_TRUE(broker.start());
  // Creating the topic is an event worth a line; the requests after it are not.
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), "quiet", 2, 0, 10), "");
  const size_t lines_before = BrokerLines(broker).size();
  for (int i = 0; i < 15; ++i) ASSERT_EQ(ProduceNumbered(broker.bootstrap(), "quiet", 2, 10 + i, 1), "");
  const std::string out = broker.dir() + "/consumed.txt";
  for (int p = 0; p < 2; ++p) {
    const auto consumed = KcatConsumePartition(broker.bootstrap(), "quiet", p, "%s\n", out);
    ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  }
  EXPECT_EQ(BrokerLines(broker).size(), lines_before) << broker.stderr_tail();
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();

  // Every line is a JSON object with a time, a level and a message.
  const std::string lines_path = broker.dir() + "/broker-lines.json";
  std::string joined;
  for (const auto& line : BrokerLines(broker)) joined += line + "\n";
  ASSERT_TRUE(WriteWholeFile(lines_path, joined));
  const auto checked = RunProcess(
      {"/usr/bin/python3", "-c",
       "import json, sys\n"
       "n = 0\n"
       "for line in open(sys.argv[1]):\n"
       "    o = json.loads(line)\n"
       "    assert isinstance(o, dict) and {'ts', 'level', 'msg'} <= set(o), line\n"
       "    n += 1\n"
       "assert n >= 3, n\n",
       lines_path},
      {});
  EXPECT_EQ(checked.exit_code, 0) << checked.err << "\n" << joined;

  // The banner: version, both listeners as bound, data dir, config source.
  std::string banner;
  for (const auto& line : BrokerLines(broker)) {
    if (line.find(" started: ") != std::string::npos) banner = line;
  }
  ASSERT_FALSE(banner.empty()) << joined;
  EXPECT_NE(banner.find("\"level\":\"info\""), std::string::npos) << banner;
  EXPECT_NE(banner.find(std::string("runnel ") + RUNNEL_VERSION), std::string::npos) << banner;
  EXPECT_NE(banner.find("PLAINTEXT://127.0.0.1:" + std::to_string(broker.port())), std::string::npos) << banner;
  EXPECT_NE(banner.find(broker.metrics_url()), std::string::npos) << banner;
  EXPECT_NE(banner.find(broker.log_dir()), std::string::npos) << banner;
  EXPECT_NE(banner.find("config from --set"), std::string::npos) << banner;
}

TEST(Operability, TextLogsStartWithTheBanner) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  // The port accepts connections (queued) from the moment it is bound; the
  // banner comes once the broker has joined its cluster and serves.
  auto banner_logged = [&] {
    for (const auto& line : BrokerLines(broker)) {
      if (line.find(" info runnel ") != std::string::npos && line.find(" started: ") != std::string::npos) return true;
    }
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!banner_logged() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(broker.stop(), 0);
  EXPECT_TRUE(banner_logged()) << broker.stderr_tail();
}

TEST(Operability, BadLogFormatOrHttpListenersStopStartupWithOneLine) {
  struct Case {
    std::vector<std::string> args;
    std::string mentions;
  };
  for (const Case& c : {Case{{"--log-format", "xml"}, "--log-format"},
                        Case{{"--set", "http.listeners=127.0.0.1:9644"}, "http.listeners"},
                        Case{{"--set", "http.listeners=http://127.0.0.1:99999"}, "http.listeners"},
                        Case{{"--set", "http.listeners=https://127.0.0.1:9644"}, "http.listeners"}}) {
    std::vector<std::string> argv = {RunnelBinaryPath(), "serve", "--set", "log.dirs=/nonexistent-never-created"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const auto result = RunProcess(argv, {"", "", std::chrono::seconds(20)});
    EXPECT_EQ(result.exit_code, 2) << DescribeCommand(argv) << "\n" << result.err;
    EXPECT_NE(result.err.find(c.mentions), std::string::npos) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
  // A listener that cannot be bound (the port is taken) is a one-line startup error too.
  BrokerProcess first;
  ASSERT_TRUE(first.start());
  const std::string dir = MakeTempDir("runnel-it-http-");
  std::vector<std::string> argv = {RunnelBinaryPath(), "serve", "--set", "log.dirs=" + dir + "/logs", "--set",
                                   "listeners=PLAINTEXT://127.0.0.1:" + std::to_string(PickFreeLoopbackPort()),
                                   "--set", "http.listeners=http://127.0.0.1:" + std::to_string(first.http_port())};
  const auto result = RunProcess(argv, {"", "", std::chrono::seconds(30)});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("cannot listen on http://127.0.0.1:" + std::to_string(first.http_port())), std::string::npos)
      << result.err;
  RemoveTree(dir);
}

}  // namespace
}  // namespace runnel::it
