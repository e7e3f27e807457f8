// --help on every command, and bad command lines: exit 2 with one line.
// None of these needs a broker (arguments are checked before connecting).
#include <gtest/gtest.h>

#include "cli_runner.h"

namespace runnel::clitest {
namespace {

TEST(CliUsage, HelpWorksOnEveryCommand) {
  const std::vector<std::vector<std::string>> commands = {
      {},
      {"serve"},
      {"topic"},
      {"topic", "create"},
      {"topic", "list"},
      {"topic", "describe"},
      {"topic", "delete"},
      {"topic", "alter-config"},
      {"topic", "add-partitions"},
      {"produce"},
      {"consume"},
      {"group"},
      {"group", "list"},
      {"group", "describe"},
      {"group", "reset-offsets"},
      {"group", "delete"},
      {"cluster"},
      {"cluster", "info"},
  };
  for (auto args : commands) {
    args.push_back("--help");
    const CliResult r = RunCli(args, "", std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << Describe(r);
    EXPECT_EQ(r.err, "") << Describe(r);
  }
  // Leaf commands document the shared options.
  const CliResult r = RunCli({"topic", "list", "--help"});
  EXPECT_NE(r.out.find("--brokers"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("RUNNEL_BROKERS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--timeout"), std::string::npos) << r.out;
}

TEST(CliUsage, BadArgumentsExitTwoWithOneLine) {
  // 127.0.0.1:1 is never a broker: a usage error must be reported before
  // any connection attempt (and fast).
  const std::string b = "127.0.0.1:1";
  const std::vector<std::vector<std::string>> cases = {
      {},                                                         // no subcommand
      {"topic"},                                                  // no topic subcommand
      {"frobnicate"},                                             // unknown command
      {"topic", "list", "--no-such-flag", "-b", b},               // unknown option
      {"topic", "create", "-b", b},                               // missing topic name
      {"topic", "create", "t", "-p", "zero", "-b", b},            // not a number
      {"topic", "create", "t", "-p", "0", "-b", b},               // out of range
      {"topic", "create", "t", "-c", "novalue", "-b", b},         // config without '='
      {"topic", "list", "--format", "xml", "-b", b},              // unknown output format
      {"topic", "list", "--timeout", "soon", "-b", b},            // bad duration
      {"topic", "alter-config", "t", "-b", b},                    // nothing to change
      {"topic", "add-partitions", "t", "-b", b},                  // neither --num nor --total
      {"produce", "t", "-z", "brotli", "-b", b},                  // unknown codec
      {"produce", "t", "--acks", "2", "-b", b},                   // bad acks
      {"produce", "t", "-H", "novalue", "-b", b},                 // header without '='
      {"produce", "t", "-X", "no.such.property=1", "-b", b},      // unknown librdkafka property
      {"consume", "t", "-o", "yesterday", "-b", b},               // bad start offset
      {"consume", "t", "-f", "%q", "-b", b},                      // bad format directive
      {"consume", "t", "-g", "g", "-p", "0", "-b", b},            // group and partitions
      {"consume", "t", "-g", "g", "-o", "5", "-b", b},            // absolute offset with a group
      {"consume", "t", "-n", "0", "-b", b},                       // count must be positive
      {"group", "reset-offsets", "g", "--topic", "t", "-b", b},   // no strategy
      {"group", "reset-offsets", "g", "--to-earliest", "-b", b},  // no topic scope
      {"group", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--to-latest", "-b", b},
      {"group", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--dry-run", "--execute", "-b", b},
      {"group", "reset-offsets", "g", "--topic", "t", "--to-datetime", "last tuesday", "-b", b},
  };
  for (const auto& args : cases) {
    const CliResult r = RunCli(args, "", std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(Lines(r.err).size(), 1u) << Describe(r);
    EXPECT_EQ(r.err.rfind("runnel: ", 0), 0u) << Describe(r);
    EXPECT_LT(r.seconds, 5.0) << Describe(r);
  }
}

TEST(CliUsage, BrokersComeFromTheEnvironmentWhenNotGiven) {
  // The unreachable-broker message names the address it tried.
  setenv("RUNNEL_BROKERS", "127.0.0.1:1", 1);
  const CliResult r = RunCli({"topic", "list", "--timeout", "1s"}, "", std::chrono::seconds(20));
  unsetenv("RUNNEL_BROKERS");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("127.0.0.1:1"), std::string::npos) << Describe(r);
}

}  // namespace
}  // namespace runnel::clitest
