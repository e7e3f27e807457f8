// The POSIX Env: behaviour the storage layer relies on beyond plain reads and writes.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include "storage/env.h"
#include "test_util.h"

using namespace runnel::storage;
using namespace runnel::testing;

TEST(PosixEnv, ReadingAFileDoesNotTouchItsAccessTime) {
  // Under relatime (the default mount option) a read after a write updates atime
  // and dirties the inode: once per journal round and per consumer read at the tail.
  TempDir tmp;
  const std::string path = tmp.path() + "/00000000000000000000.log";
  std::unique_ptr<File> file;
  ASSERT_FALSE(Env::posix().open_file(path, true, file));
  const uint8_t data[64] = {1, 2, 3};
  ASSERT_FALSE(file->write_at(data, 0));
  // An access time older than the modification: the next read would refresh it.
  struct timespec times[2];
  times[0].tv_sec = 1'000'000'000;  // 2001
  times[0].tv_nsec = 0;
  times[1].tv_sec = 0;
  times[1].tv_nsec = UTIME_OMIT;
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << std::strerror(errno);
  uint8_t back[64];
  size_t read = 0;
  ASSERT_FALSE(file->read_at(back, 0, read));
  ASSERT_EQ(read, sizeof back);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1'000'000'000);
}
