#include "fd_cache.h"

#include <algorithm>

namespace passthroughfs {

FdCache::FdCache(size_t capacity)
    : capacity_(std::max<size_t>(capacity, 1)),
      // Sharding only pays for itself with room in each shard; a small
      // cache keeps its exact bound in one.
      shards_(capacity_ >= 256 ? 16 : 1) {
  for (size_t i = 0; i < shards_.size(); ++i)
    shards_[i].capacity = capacity_ / shards_.size() + (i < capacity_ % shards_.size() ? 1 : 0);
}

FdCache::Fd FdCache::Find(uint64_t key) {
  Shard& s = ShardOf(key);
  std::lock_guard lock(s.mutex);
  auto it = s.index.find(key);
  if (it == s.index.end()) return nullptr;
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->second;
}

FdCache::Fd FdCache::Insert(uint64_t key, fusekit::UniqueFd fd) {
  auto fresh = std::make_shared<const fusekit::UniqueFd>(std::move(fd));
  std::vector<Fd> evicted;  // closed after the lock is released
  Shard& s = ShardOf(key);
  std::lock_guard lock(s.mutex);
  if (auto it = s.index.find(key); it != s.index.end()) {
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    evicted.push_back(std::move(fresh));
    return it->second->second;
  }
  s.lru.emplace_front(key, fresh);
  s.index.emplace(key, s.lru.begin());
  while (s.lru.size() > s.capacity) {
    evicted.push_back(std::move(s.lru.back().second));
    s.index.erase(s.lru.back().first);
    s.lru.pop_back();
  }
  return fresh;
}

void FdCache::Erase(uint64_t key) {
  Fd erased;
  Shard& s = ShardOf(key);
  std::lock_guard lock(s.mutex);
  auto it = s.index.find(key);
  if (it == s.index.end()) return;
  erased = std::move(it->second->second);
  s.lru.erase(it->second);
  s.index.erase(it);
}

size_t FdCache::Evict(size_t count) {
  // Round after round over the shards, a share of what is left from each.
  size_t done = 0;
  for (bool progress = true; done < count && progress;) {
    progress = false;
    size_t share = std::max<size_t>((count - done) / shards_.size(), 1);
    for (Shard& s : shards_) {
      std::vector<Fd> evicted;  // closed after the lock is released
      std::lock_guard lock(s.mutex);
      for (size_t i = 0; i < share && !s.lru.empty() && done < count; ++i, ++done) {
        evicted.push_back(std::move(s.lru.back().second));
        s.index.erase(s.lru.back().first);
        s.lru.pop_back();
        progress = true;
      }
    }
  }
  return done;
}

size_t FdCache::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    n += s.lru.size();
  }
  return n;
}

}  // namespace passthroughfs
