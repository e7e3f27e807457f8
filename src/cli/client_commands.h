// Registration of the client subcommands (each group lives in its own file).
#pragma once

#include <CLI/CLI.hpp>

namespace runnel::cli {

void add_topic_commands(CLI::App& app);    // topic_commands.cpp
void add_produce_command(CLI::App& app);   // produce_command.cpp
void add_consume_command(CLI::App& app);   // consume_command.cpp
void add_group_commands(CLI::App& app);    // group_commands.cpp
void add_cluster_commands(CLI::App& app);  // cluster_commands.cpp
void add_reassign_commands(CLI::App* topic);  // reassign_commands.cpp: topic reassign|reassignments

}  // namespace runnel::cli
