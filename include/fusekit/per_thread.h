// PerThread<T>: one T for each thread that uses it, for counters that the
// hot path bumps without a lock or a shared cache line. Each thread writes
// only its own T; a reader visits them all with ForEach (so T's fields are
// relaxed atomics: written by one thread, read by another).
//
// Thread-safety: Local() from any thread; ForEach from any thread, under a
// mutex that only first use by a thread and readers take.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace fusekit {

namespace per_thread_internal {
// The slot this thread cached for the instance `id` (null when none): a
// small per-thread cache, so that threads serving a few instances (a
// session's statistics, a filesystem's counters) find theirs without the
// registry's lock. Instance ids are never reused, so a stale entry cannot
// be mistaken for a live one.
void*& CachedSlot(uint64_t id);
uint64_t NewInstanceId();
}  // namespace per_thread_internal

// Adds to a counter that only this thread writes: a plain load and store,
// no locked instruction.
inline void Bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

template <typename T>
class PerThread {
 public:
  PerThread() = default;
  PerThread(const PerThread&) = delete;
  PerThread& operator=(const PerThread&) = delete;

  // This thread's T, made (value-initialized) on first use.
  T& Local() {
    void*& cached = per_thread_internal::CachedSlot(id_);
    if (cached == nullptr) cached = Register();
    return static_cast<Slot*>(cached)->value;
  }

  // Calls f(const T&) for every thread's T, in the order threads came.
  template <typename F>
  void ForEach(F&& f) const {
    std::lock_guard lock(mutex_);
    for (const auto& slot : slots_) f(slot->value);
  }

 private:
  // Its own cache lines, so that two threads' counters never share one.
  struct alignas(64) Slot {
    T value{};
    std::thread::id owner;
  };

  Slot* Register() {
    std::lock_guard lock(mutex_);
    // A thread whose cache entry was evicted finds its slot again; a new
    // thread that got an exited thread's id takes over its slot (one writer
    // at a time, still).
    auto me = std::this_thread::get_id();
    for (auto& slot : slots_)
      if (slot->owner == me) return slot.get();
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->owner = me;
    return slots_.back().get();
  }

  const uint64_t id_ = per_thread_internal::NewInstanceId();
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace fusekit
