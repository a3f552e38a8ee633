// KeptBackings: the inodes that keep their backing file registered with
// the kernel after their last open file closed, so that opening them again
// pays neither FUSE_DEV_IOC_BACKING_OPEN nor, at the last close,
// BACKING_CLOSE. Bounded: each kept id holds a kernel file (and SOURCE's
// inode in memory), not a daemon fd. Least recently kept goes first.
//
// It only keeps the order; PassthroughFs drops the backing files.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "fusekit/types.h"

namespace passthroughfs {

class KeptBackings {
 public:
  explicit KeptBackings(size_t capacity) : capacity_(capacity) {}

  // `node` closed its last file and keeps its backing file. Returns the
  // node that this pushes out (the least recently kept), whose backing file
  // the caller then drops; with a capacity of 0, `node` itself.
  std::optional<fusekit::NodeId> Keep(fusekit::NodeId node);
  // `node` is open again, or its backing file goes: no longer kept. True
  // when it was.
  bool Take(fusekit::NodeId node);
  // Every kept node, least recently kept first; none is kept after.
  std::vector<fusekit::NodeId> TakeAll();

  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::list<uint64_t> order_;  // front: least recently kept
  absl::flat_hash_map<uint64_t, std::list<uint64_t>::iterator> where_;
};

}  // namespace passthroughfs
