// InodeTable: the kernel's node ids mapped to source inodes.
//
// Node ids are counters, never pointers, and never reused: a stale or bogus
// FORGET can at worst drop a lookup count, never free memory in use. Each
// inode is found by (st_dev, st_ino) and holds an O_PATH|O_NOFOLLOW fd, the
// anchor for every *at() call below it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "fusekit/backing_file.h"
#include "fusekit/types.h"
#include "fusekit/unique_fd.h"

namespace passthroughfs {

// A version of a file's contents as the source filesystem shows it: every
// change of the data moves mtime (and ctime, which no caller can set). Kept
// as a 64-bit digest of (mtime, ctime, size), never 0, so that an inode
// pays 8 bytes for it: two versions share a digest with odds of 2^-64.
inline uint64_t ContentStamp(const struct stat& st) {
  auto mix = [](uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
  };
  uint64_t h = mix(0, static_cast<uint64_t>(st.st_mtim.tv_sec));
  h = mix(h, static_cast<uint64_t>(st.st_mtim.tv_nsec));
  h = mix(h, static_cast<uint64_t>(st.st_ctim.tv_sec));
  h = mix(h, static_cast<uint64_t>(st.st_ctim.tv_nsec));
  h = mix(h, static_cast<uint64_t>(st.st_size));
  return h | 1;
}

// Thread-safety: `id`, `dev`, `ino`, `fd` and `mode` type bits are
// immutable after creation. The open state is guarded by `open_mutex`.
struct Inode {
  fusekit::NodeId id;
  dev_t dev = 0;
  ino_t ino = 0;
  mode_t type = 0;  // S_IFMT bits
  fusekit::UniqueFd fd;

  // Open files of this inode and the backing file they share: registered
  // at the first open, released at the last release.
  std::mutex open_mutex;
  unsigned open_count = 0;
  fusekit::BackingFile backing;
  bool passthrough_refused = false;  // logged once; this inode is served by the daemon
  // The file (or directory) as it was when a daemon-served open last let
  // the kernel cache its pages (or listing): an open that finds it
  // unchanged keeps them.
  uint64_t page_cache_stamp = 0;  // ContentStamp; 0: nothing cached yet

  // Guarded by the table's mutex.
  uint64_t nlookup = 0;
};

// Thread-safety: all methods may be called concurrently. Lock order: the
// table's mutex is never held while an Inode::open_mutex is taken.
class InodeTable {
 public:
  // The root inode (node id 1) is the source directory; it is never
  // forgotten.
  InodeTable(fusekit::UniqueFd root_fd, const struct stat& root_stat);

  // The inode of a node id, or null for an unknown (or forgotten) id.
  std::shared_ptr<Inode> Get(fusekit::NodeId id) const;

  // The inode for `st` (an object just opened as `fd`), created if needed,
  // with its lookup count raised by one. `fd` is dropped when the inode
  // already exists.
  std::shared_ptr<Inode> Lookup(fusekit::UniqueFd fd, const struct stat& st);

  // The inode already in the table for `st`, with its lookup count raised
  // by one; null when there is none. Spares the caller opening an O_PATH fd
  // for an inode the table already holds one for.
  std::shared_ptr<Inode> LookupKnown(const struct stat& st);

  // Drops `nlookup` lookups; the inode leaves the table at zero.
  void Forget(fusekit::NodeId id, uint64_t nlookup);

  size_t size() const;

  // Drops every inode but the root: the kernel sends no FORGET for what it
  // still held when the connection ends.
  void Clear();

 private:
  struct DevIno {
    dev_t dev;
    ino_t ino;
    bool operator==(const DevIno&) const = default;
  };
  struct DevInoHash {
    size_t operator()(const DevIno& k) const noexcept {
      return std::hash<uint64_t>()(k.ino * 0x9e3779b97f4a7c15ull ^ k.dev);
    }
  };

  mutable std::mutex mutex_;
  uint64_t next_id_ = 2;
  std::unordered_map<uint64_t, std::shared_ptr<Inode>> by_id_;
  std::unordered_map<DevIno, uint64_t, DevInoHash> by_dev_ino_;
};

}  // namespace passthroughfs
