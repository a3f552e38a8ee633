// FdCache: the O_PATH fds of inodes known by source handle, at most
// `capacity` of them; the least recently used go first, and are reopened
// by handle when next needed. Modelled on leveldb's sharded LRU cache: an
// fd handed out is a shared reference, so one evicted while in use stays
// open until its user lets go.
//
// Thread-safety: every method may be called concurrently. The keys are
// spread over shards, each with its own mutex: a hit takes only its
// shard's, and no lock is held while an fd is closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "fusekit/unique_fd.h"

namespace passthroughfs {

class FdCache {
 public:
  using Fd = std::shared_ptr<const fusekit::UniqueFd>;

  explicit FdCache(size_t capacity);
  FdCache(const FdCache&) = delete;
  FdCache& operator=(const FdCache&) = delete;

  // The fd cached for `key`, now the most recently used; null if none.
  Fd Find(uint64_t key);
  // Caches `fd` for `key` and returns the fd cached for it: `fd`, or the
  // one another thread cached first (`fd` is then closed). May evict.
  Fd Insert(uint64_t key, fusekit::UniqueFd fd);
  void Erase(uint64_t key);
  // Evicts up to `count` of the least recently used fds; returns how many.
  size_t Evict(size_t count);

  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  struct Shard {
    mutable std::mutex mutex;
    size_t capacity = 0;
    std::list<std::pair<uint64_t, Fd>> lru;  // most recent first
    std::unordered_map<uint64_t, std::list<std::pair<uint64_t, Fd>>::iterator> index;
  };
  Shard& ShardOf(uint64_t key) { return shards_[key % shards_.size()]; }

  const size_t capacity_;
  std::vector<Shard> shards_;
};

}  // namespace passthroughfs
