// The `runnel` command: one binary for the broker and its tools.
#include <CLI/CLI.hpp>

#include "cli/serve_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Runnel: a Kafka-compatible event-streaming broker"};
  app.set_version_flag("--version", std::string(RUNNEL_VERSION));
  app.require_subcommand(1);
  runnel::cli::ServeOptions serve_options;
  runnel::cli::add_serve_command(app, serve_options);
  CLI11_PARSE(app, argc, argv);
  return runnel::cli::last_exit_code();
}
