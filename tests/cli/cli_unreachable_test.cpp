// Acceptance 4: against a broker that is down, every command prints one
// clear line on stderr and exits 3 within a few seconds.
#include <gtest/gtest.h>

#include "broker_process.h"
#include "cli_runner.h"

namespace runnel::clitest {
namespace {

const std::vector<std::vector<std::string>>& Commands() {
  static const std::vector<std::vector<std::string>> commands = {
      {"topic", "list"},
      {"topic", "create", "t", "-p", "1"},
      {"topic", "describe", "t"},
      {"topic", "delete", "t"},
      {"topic", "alter-config", "t", "--set", "retention.ms=1000"},
      {"topic", "add-partitions", "t", "-n", "1"},
      {"produce", "t"},
      {"consume", "t"},
      {"consume", "t", "-g", "g"},
      {"group", "list"},
      {"group", "describe", "g"},
      {"group", "reset-offsets", "g", "--topic", "t", "--to-earliest"},
      {"group", "delete", "g"},
      {"cluster", "info"},
  };
  return commands;
}

void ExpectOneLineUnreachable(const CliResult& r, const std::string& address, double max_seconds) {
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_FALSE(r.timed_out) << Describe(r);
  EXPECT_LT(r.seconds, max_seconds) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  ASSERT_EQ(Lines(r.err).size(), 1u) << Describe(r);
  EXPECT_EQ(r.err.rfind("runnel: cannot reach broker at " + address, 0), 0u) << Describe(r);
}

TEST(CliUnreachable, EveryCommandFailsFastWithOneLineWhenNothingListens) {
  const std::string address = "127.0.0.1:" + std::to_string(it::PickFreeLoopbackPort());
  // One at a time: started all at once (tried), the sanitizer build's startup
  // on a busy 2-core machine alone exceeded the bound.
  for (auto args : Commands()) {
    args.insert(args.end(), {"-b", address, "--timeout", "2s"});
    ExpectOneLineUnreachable(RunCli(args, "x\n", std::chrono::seconds(30)), address, 6.0);
  }
}

TEST(CliUnreachable, DefaultTimeoutIsAFewSeconds) {
  const std::string address = "127.0.0.1:" + std::to_string(it::PickFreeLoopbackPort());
  const CliResult r = RunCli({"topic", "list", "-b", address}, "", std::chrono::seconds(30));
  ExpectOneLineUnreachable(r, address, 10.0);
  EXPECT_NE(r.err.find("Connection refused"), std::string::npos) << Describe(r);
}

TEST(CliUnreachable, UnresolvableHostIsAlsoOneLine) {
  const CliResult r =
      RunCli({"cluster", "info", "-b", "no-such-host.invalid:9092", "--timeout", "2s"}, "", std::chrono::seconds(30));
  ExpectOneLineUnreachable(r, "no-such-host.invalid:9092", 10.0);
}

TEST(CliUnreachable, BrokerThatWentDown) {
  it::BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  const CliResult up = RunCli({"cluster", "info", "-b", broker.bootstrap()});
  EXPECT_EQ(up.exit_code, 0) << Describe(up);
  EXPECT_EQ(broker.stop(), 0);
  const CliResult down = RunCli({"topic", "list", "-b", broker.bootstrap(), "--timeout", "3s"});
  ExpectOneLineUnreachable(down, broker.bootstrap(), 10.0);
}

}  // namespace
}  // namespace runnel::clitest
