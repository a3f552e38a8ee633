#include "fusekit/per_thread.h"

#include <array>

namespace fusekit::per_thread_internal {

namespace {

struct CacheEntry {
  uint64_t id = 0;  // 0: empty (instance ids start at 1)
  void* slot = nullptr;
};

// More than a thread serves in practice (a session's statistics and a
// filesystem's counters); when it is full, the oldest entry goes and its
// instance is found again through its registry.
constexpr size_t kCacheEntries = 8;

struct ThreadCache {
  std::array<CacheEntry, kCacheEntries> entries;
  size_t next_victim = 0;
};

thread_local ThreadCache cache;
std::atomic<uint64_t> next_id{1};

}  // namespace

void*& CachedSlot(uint64_t id) {
  for (auto& e : cache.entries)
    if (e.id == id) return e.slot;
  CacheEntry& victim = cache.entries[cache.next_victim];
  cache.next_victim = (cache.next_victim + 1) % kCacheEntries;
  victim = {id, nullptr};
  return victim.slot;
}

uint64_t NewInstanceId() { return next_id.fetch_add(1, std::memory_order_relaxed); }

}  // namespace fusekit::per_thread_internal
