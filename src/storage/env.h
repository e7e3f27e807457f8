#pragma once
// Minimal file-system interface (modelled on LevelDB's Env) so that torn writes,
// full disks and failing fsyncs can be simulated in-process. PosixEnv is the real one.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace runnel::storage {

// A shared read-write mapping of the start of a file; unmapped on destruction.
class MappedRegion {
 public:
  virtual ~MappedRegion() = default;
  virtual uint8_t* data() = 0;
  virtual size_t size() const = 0;
  virtual std::error_code sync() = 0;  // msync
};

class File {
 public:
  virtual ~File() = default;
  // Writes all of data at pos (retrying short writes). On error a prefix may be on disk.
  virtual std::error_code write_at(std::span<const uint8_t> data, int64_t pos) = 0;
  // Reads up to out.size() bytes at pos; bytes_read is short only at end of file.
  virtual std::error_code read_at(std::span<uint8_t> out, int64_t pos, size_t& bytes_read) const = 0;
  virtual std::error_code truncate(int64_t size) = 0;  // shrink or extend (zero-filled)
  // Reserves disk blocks for [offset, offset + length) so that later writes there,
  // including through a mapping, cannot hit a full disk (a write to a mapped hole on
  // a full disk is a SIGBUS). ENOSPC when the space is not there.
  virtual std::error_code allocate(int64_t offset, int64_t length) {
    (void)offset;
    (void)length;
    return {};
  }
  virtual std::error_code sync() = 0;                  // data + metadata needed to read it back
  // Starts writing the file's dirty pages back without waiting (a hint: sync()
  // is still what makes them durable).
  virtual void start_writeback() {}
  virtual std::error_code size(int64_t& out) const = 0;
  virtual std::error_code map(size_t length, std::unique_ptr<MappedRegion>& out) = 0;
  virtual int fd() const { return -1; }  // for sendfile; -1 when not descriptor-backed
};

class Env {
 public:
  virtual ~Env() = default;
  static Env& posix();  // the process-wide POSIX implementation

  virtual std::error_code open_file(const std::string& path, bool create, std::unique_ptr<File>& out) = 0;
  virtual std::error_code rename(const std::string& from, const std::string& to) = 0;
  virtual std::error_code remove(const std::string& path) = 0;
  virtual std::error_code create_dir(const std::string& path) = 0;  // ok if it already exists
  virtual std::error_code list_dir(const std::string& path, std::vector<std::string>& names) = 0;
  virtual std::error_code sync_dir(const std::string& path) = 0;
  virtual bool exists(const std::string& path) = 0;
  virtual bool is_dir(const std::string& path) = 0;
};

// Whole-file helpers built on Env.
std::error_code read_whole_file(Env& env, const std::string& path, std::string& out);
// tmp file + fsync + rename + fsync dir, so readers see the old or the new content, never a mix.
std::error_code write_file_atomically(Env& env, const std::string& path, std::string_view contents);
std::string parent_dir(const std::string& path);

}  // namespace runnel::storage
