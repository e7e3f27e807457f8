#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace runnel::cli {

struct ServeOptions {
  std::string config_file;
  std::vector<std::string> overrides;
  std::string log_level = "info";
  std::string log_format = "text";
};

// Registers `runnel serve [--config FILE] [--set key=value ...]`.
void add_serve_command(CLI::App& app, ServeOptions& options);
int last_exit_code();

}  // namespace runnel::cli
