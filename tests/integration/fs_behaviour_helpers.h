// Small file-system helpers for fs_behaviour_test.cc: whole-file reads and
// writes, directory listings, stat comparisons and errno assertions. They
// report failures through gtest and never throw.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "fusekit/unique_fd.h"

// `expr` must fail with errno `err`.
#define FSB_EXPECT_ERRNO(expr, err)                                                       \
  do {                                                                                    \
    errno = 0;                                                                            \
    auto fsb_rc_ = (expr);                                                                \
    int fsb_errno_ = errno;                                                               \
    EXPECT_EQ(fsb_rc_, -1) << #expr << " succeeded, expected " << std::strerror(err);     \
    EXPECT_EQ(fsb_errno_, (err)) << #expr << ": got \"" << std::strerror(fsb_errno_)      \
                                 << "\", expected \"" << std::strerror(err) << "\"";      \
  } while (0)

// `expr` (a syscall returning -1 on failure) must succeed.
#define FSB_EXPECT_OK(expr)                                                      \
  do {                                                                           \
    errno = 0;                                                                   \
    auto fsb_rc_ = (expr);                                                       \
    int fsb_errno_ = errno;                                                      \
    EXPECT_NE(fsb_rc_, -1) << #expr << ": " << std::strerror(fsb_errno_);        \
  } while (0)
#define FSB_ASSERT_OK(expr)                                                      \
  do {                                                                           \
    errno = 0;                                                                   \
    auto fsb_rc_ = (expr);                                                       \
    int fsb_errno_ = errno;                                                      \
    ASSERT_NE(fsb_rc_, -1) << #expr << ": " << std::strerror(fsb_errno_);        \
  } while (0)

namespace fsbehaviour {

using fusekit::UniqueFd;

// `n` deterministic pseudo-random bytes.
inline std::string Pattern(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

inline UniqueFd Open(const std::string& path, int flags, mode_t mode = 0644) {
  return UniqueFd(::open(path.c_str(), flags | O_CLOEXEC, mode));
}

// Writes all of `data` at `offset`; false (errno set) on failure.
inline bool PWriteAll(int fd, std::string_view data, off_t offset) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                         offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Up to `size` bytes at `offset` (fewer at EOF); nullopt on error.
inline std::optional<std::string> PReadUpTo(int fd, size_t size, off_t offset) {
  std::string out(size, '\0');
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out.data() + done, size - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

// Creates (or truncates) `path` with `data`.
inline void WriteFile(const std::string& path, std::string_view data, mode_t mode = 0644) {
  UniqueFd fd = Open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  ASSERT_TRUE(fd) << "open " << path << ": " << std::strerror(errno);
  ASSERT_TRUE(PWriteAll(fd.get(), data, 0)) << "write " << path << ": " << std::strerror(errno);
}

// The whole file, read until EOF; "<error: ...>" (and a failure) if it
// cannot be read.
inline std::string ReadFile(const std::string& path) {
  UniqueFd fd = Open(path, O_RDONLY);
  if (!fd) {
    ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
    return "<error: open>";
  }
  std::string out;
  char buf[64 << 10];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ADD_FAILURE() << "read " << path << ": " << std::strerror(errno);
      return "<error: read>";
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

inline struct stat LStat(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) ADD_FAILURE() << "lstat " << path << ": " << std::strerror(errno);
  return st;
}

inline struct stat FStat(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) ADD_FAILURE() << "fstat: " << std::strerror(errno);
  return st;
}

inline bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

struct DirEntry {
  ino_t ino = 0;
  unsigned char type = DT_UNKNOWN;
  bool operator==(const DirEntry&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const DirEntry& e) {
  return os << "{ino " << e.ino << ", type " << static_cast<int>(e.type) << "}";
}

// Every entry readdir returns, "." and ".." included.
inline std::map<std::string, DirEntry> ListDir(const std::string& path) {
  std::map<std::string, DirEntry> out;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    ADD_FAILURE() << "opendir " << path << ": " << std::strerror(errno);
    return out;
  }
  for (;;) {
    errno = 0;
    dirent* e = ::readdir(dir);
    if (e == nullptr) {
      if (errno != 0) ADD_FAILURE() << "readdir " << path << ": " << std::strerror(errno);
      break;
    }
    bool fresh = out.emplace(e->d_name, DirEntry{e->d_ino, e->d_type}).second;
    EXPECT_TRUE(fresh) << "readdir of " << path << " returned " << e->d_name << " twice";
  }
  ::closedir(dir);
  return out;
}

inline bool SameTime(const timespec& a, const timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

inline std::string Show(const timespec& t) {
  return std::to_string(t.tv_sec) + "." + std::to_string(t.tv_nsec);
}

// The attributes a mirror must show as the source does (not st_dev, not
// atime, which reads through either path may move).
inline void ExpectSameAttrs(const struct stat& got, const struct stat& want,
                            const std::string& what) {
  EXPECT_EQ(got.st_ino, want.st_ino) << what << ": st_ino";
  EXPECT_EQ(got.st_mode, want.st_mode) << what << ": st_mode";
  EXPECT_EQ(got.st_nlink, want.st_nlink) << what << ": st_nlink";
  EXPECT_EQ(got.st_uid, want.st_uid) << what << ": st_uid";
  EXPECT_EQ(got.st_gid, want.st_gid) << what << ": st_gid";
  EXPECT_EQ(got.st_size, want.st_size) << what << ": st_size";
  EXPECT_EQ(got.st_blocks, want.st_blocks) << what << ": st_blocks";
  EXPECT_EQ(got.st_rdev, want.st_rdev) << what << ": st_rdev";
  EXPECT_TRUE(SameTime(got.st_mtim, want.st_mtim))
      << what << ": mtime " << Show(got.st_mtim) << " vs " << Show(want.st_mtim);
  EXPECT_TRUE(SameTime(got.st_ctim, want.st_ctim))
      << what << ": ctime " << Show(got.st_ctim) << " vs " << Show(want.st_ctim);
}

inline void ExpectSameAttrs(const std::string& got_path, const std::string& want_path) {
  ExpectSameAttrs(LStat(got_path), LStat(want_path), got_path + " vs " + want_path);
}

}  // namespace fsbehaviour
