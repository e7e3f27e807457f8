// The `runnel` command: one binary for the broker and its tools.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string_view>

#include "cli/client_commands.h"
#include "cli/common_options.h"
#include "cli/exit_codes.h"
#include "cli/serve_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Runnel: a Kafka-compatible event-streaming broker"};
  app.set_version_flag("--version", std::string(RUNNEL_VERSION));
  app.require_subcommand(1);
  runnel::cli::ServeOptions serve_options;
  runnel::cli::add_serve_command(app, serve_options);
  runnel::cli::add_topic_commands(app);
  runnel::cli::add_produce_command(app);
  runnel::cli::add_consume_command(app);
  runnel::cli::add_group_commands(app);
  runnel::cli::add_cluster_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // `serve` keeps CLI11's own reporting; --help/--version exit 0 through it.
    if (e.get_exit_code() == 0 || (argc > 1 && std::string_view(argv[1]) == "serve")) return app.exit(e);
    // Client commands: one line on stderr and the documented usage code.
    std::fprintf(stderr, "runnel: %s (see --help)\n", e.what());
    return runnel::cli::kExitUsage;
  }
  const int serve_code = runnel::cli::last_exit_code();
  return serve_code != 0 ? serve_code : runnel::cli::tool_exit_code();
}
