// Value types shared by requests and replies.
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>

namespace fusekit {

// A distinct integer type per kind of id, so that a node id can never be
// passed where a file handle is expected.
template <typename Tag, typename Rep = uint64_t>
struct StrongId {
  Rep value = 0;
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : value(v) {}
  friend constexpr bool operator==(StrongId a, StrongId b) { return a.value == b.value; }
  friend constexpr auto operator<=>(StrongId a, StrongId b) { return a.value <=> b.value; }
};

using NodeId = StrongId<struct NodeIdTag>;
using FileHandle = StrongId<struct FileHandleTag>;
using RequestId = StrongId<struct RequestIdTag>;
using BackingId = StrongId<struct BackingIdTag, int32_t>;

inline constexpr NodeId kRootNode{1};

using Timeout = std::chrono::nanoseconds;

// File attributes as the kernel sees them (struct fuse_attr).
struct Attr {
  uint64_t ino = 0;
  uint64_t size = 0;
  uint64_t blocks = 0;  // 512-byte units
  timespec atime{};
  timespec mtime{};
  timespec ctime{};
  uint32_t mode = 0;
  uint32_t nlink = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t rdev = 0;
  uint32_t blksize = 0;
  bool submount = false;

  static Attr FromStat(const struct stat& st);
};

// The answer to LOOKUP and to every operation that creates a name.
struct Entry {
  NodeId node;
  uint64_t generation = 0;
  Attr attr;
  Timeout entry_timeout{0};
  Timeout attr_timeout{0};
};

// What STATX answers; the mask says which fields are valid.
struct StatxAttr {
  uint32_t mask = 0;
  uint32_t blksize = 0;
  uint64_t attributes = 0;
  uint32_t nlink = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint16_t mode = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  uint64_t blocks = 0;
  uint64_t attributes_mask = 0;
  timespec atime{}, btime{}, ctime{}, mtime{};
  uint32_t rdev_major = 0, rdev_minor = 0, dev_major = 0, dev_minor = 0;
};

struct FileLock {
  uint64_t start = 0;
  uint64_t end = 0;
  uint32_t type = 0;  // F_RDLCK, F_WRLCK, F_UNLCK
  uint32_t pid = 0;
};

// Flags a filesystem may set when it answers OPEN, CREATE or OPENDIR.
struct OpenOptions {
  bool direct_io = false;
  bool keep_cache = false;
  bool nonseekable = false;
  bool cache_dir = false;
  bool stream = false;
  bool noflush = false;
  bool parallel_direct_writes = false;
};

}  // namespace fusekit

template <typename Tag, typename Rep>
struct std::hash<fusekit::StrongId<Tag, Rep>> {
  size_t operator()(fusekit::StrongId<Tag, Rep> id) const noexcept {
    return std::hash<Rep>()(id.value);
  }
};
