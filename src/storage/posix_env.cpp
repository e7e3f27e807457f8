// POSIX implementation of Env, plus the whole-file helpers.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "storage/env.h"

namespace runnel::storage {

namespace {

std::error_code last_error() { return {errno, std::system_category()}; }

class PosixMapping final : public MappedRegion {
 public:
  PosixMapping(uint8_t* data, size_t size) : data_(data), size_(size) {}
  ~PosixMapping() override {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  uint8_t* data() override { return data_; }
  size_t size() const override { return size_; }
  std::error_code sync() override {
    if (size_ > 0 && ::msync(data_, size_, MS_SYNC) != 0) return last_error();
    return {};
  }

 private:
  uint8_t* data_;
  size_t size_;
};

class PosixFile final : public File {
 public:
  explicit PosixFile(int fd) : fd_(fd) {}
  ~PosixFile() override { ::close(fd_); }

  std::error_code write_at(std::span<const uint8_t> data, int64_t pos) override {
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), pos);
      if (n < 0) {
        if (errno == EINTR) continue;
        return last_error();
      }
      if (n == 0) return std::make_error_code(std::errc::no_space_on_device);
      data = data.subspan(static_cast<size_t>(n));
      pos += n;
    }
    return {};
  }

  std::error_code read_at(std::span<uint8_t> out, int64_t pos, size_t& bytes_read) const override {
    bytes_read = 0;
    while (bytes_read < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + bytes_read, out.size() - bytes_read, pos + static_cast<int64_t>(bytes_read));
      if (n < 0) {
        if (errno == EINTR) continue;
        return last_error();
      }
      if (n == 0) break;  // end of file
      bytes_read += static_cast<size_t>(n);
    }
    return {};
  }

  std::error_code truncate(int64_t size) override {
    if (::ftruncate(fd_, size) != 0) return last_error();
    return {};
  }

  std::error_code allocate(int64_t offset, int64_t length) override {
    const int err = ::posix_fallocate(fd_, offset, length);
    if (err == 0 || err == EOPNOTSUPP || err == EINVAL) return {};  // no fallocate here: stay sparse
    return {err, std::generic_category()};
  }

  void start_writeback() override { (void)::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE); }

  std::error_code sync() override {
    // fdatasync also covers the size change of an appended file, which is all we need.
    if (::fdatasync(fd_) != 0) return last_error();
    return {};
  }

  std::error_code size(int64_t& out) const override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return last_error();
    out = st.st_size;
    return {};
  }

  std::error_code map(size_t length, std::unique_ptr<MappedRegion>& out) override {
    if (length == 0) {
      out = std::make_unique<PosixMapping>(nullptr, 0);
      return {};
    }
    void* p = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) return last_error();
    // Index lookups are binary searches, and a new index is a sparse file: with the
    // default read-around, the first store into it zero-fills up to read_ahead_kb
    // of page cache (8 MiB on some disks), on the request path. One page per fault.
    (void)::madvise(p, length, MADV_RANDOM);
    out = std::make_unique<PosixMapping>(static_cast<uint8_t*>(p), length);
    return {};
  }

  int fd() const override { return fd_; }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  std::error_code open_file(const std::string& path, bool create, std::unique_ptr<File>& out) override {
    int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
    // No atime: under relatime every read of a file written since its last read
    // (the journal's copy, a consumer at the tail, sendfile) would dirty its inode.
    // Only the file's owner may ask for it.
    int fd = ::open(path.c_str(), flags | O_NOATIME, 0644);
    if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return last_error();
    out = std::make_unique<PosixFile>(fd);
    return {};
  }
  std::error_code rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return last_error();
    return {};
  }
  std::error_code remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return last_error();
    return {};
  }
  std::error_code create_dir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return last_error();
    return {};
  }
  std::error_code list_dir(const std::string& path, std::vector<std::string>& names) override {
    names.clear();
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) return last_error();
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(d);
    return {};
  }
  std::error_code sync_dir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return last_error();
    std::error_code ec;
    if (::fsync(fd) != 0) ec = last_error();
    ::close(fd);
    return ec;
  }
  bool exists(const std::string& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  }
  bool is_dir(const std::string& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
};

}  // namespace

Env& Env::posix() {
  static PosixEnv env;
  return env;
}

std::string parent_dir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::error_code read_whole_file(Env& env, const std::string& path, std::string& out) {
  std::unique_ptr<File> file;
  if (auto ec = env.open_file(path, false, file)) return ec;
  int64_t size = 0;
  if (auto ec = file->size(size)) return ec;
  out.assign(static_cast<size_t>(size), '\0');
  size_t n = 0;
  if (auto ec = file->read_at({reinterpret_cast<uint8_t*>(out.data()), out.size()}, 0, n)) return ec;
  out.resize(n);
  return {};
}

std::error_code write_file_atomically(Env& env, const std::string& path, std::string_view contents) {
  const std::string tmp = path + ".tmp";
  {
    std::unique_ptr<File> file;
    if (auto ec = env.open_file(tmp, true, file)) return ec;
    if (auto ec = file->truncate(0)) return ec;
    if (auto ec = file->write_at({reinterpret_cast<const uint8_t*>(contents.data()), contents.size()}, 0)) return ec;
    if (auto ec = file->sync()) return ec;
  }
  if (auto ec = env.rename(tmp, path)) return ec;
  return env.sync_dir(parent_dir(path));
}

}  // namespace runnel::storage
