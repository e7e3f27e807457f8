// Small filesystem helpers for the integration tests: temp dirs, whole-file
// reads and writes, listing a partition directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace runnel::it {

// Creates a fresh directory /tmp/<prefix>XXXXXX and returns its path; aborts
// the test (via ADD_FAILURE + empty string) when that fails.
std::string MakeTempDir(const std::string& prefix);
void RemoveTree(const std::string& path);

std::string ReadWholeFile(const std::string& path);
bool WriteWholeFile(const std::string& path, const std::string& data);
bool AppendToFile(const std::string& path, const std::string& data);
std::int64_t FileSizeOrMinusOne(const std::string& path);

// Last `max_lines` lines of a text file (for printing a broker's stderr).
std::string TailOfFile(const std::string& path, std::size_t max_lines);

// Sorted names (not paths) of directory entries; empty if it does not exist.
std::vector<std::string> ListDirectory(const std::string& dir);

// Path of the segment file with the highest base offset in a partition dir
// (names are 20-digit zero-padded, so lexicographic order is offset order).
std::string LastSegmentLog(const std::string& partition_dir);

}  // namespace runnel::it
