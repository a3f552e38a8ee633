// Busy polling of /dev/fuse: after a request, one worker at a time keeps
// reading a non-blocking device fd for a short while before it sleeps, so
// that the next request of a burst is taken without the kernel waking a
// thread (on a VM most of a round trip is that cross-CPU wakeup).
//
// Adaptive, so that an idle mount costs no CPU: a worker spins only while
// requests come close together. A spin that sees nothing halves the window;
// a request that comes longer than the longest window after the one before
// stops the spinning until two come close together again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace fusekit {

// Thread-safety: all members may be called from any thread.
class BusyPoll {
 public:
  // `window`: the longest spin; zero turns busy polling off.
  explicit BusyPoll(std::chrono::microseconds window) : max_ns_(ToNs(window)), window_ns_(max_ns_) {}

  // True when the caller should spin, for window() from now; it then holds
  // the one spin token until End.
  bool TryBegin();
  // The spin ended: with a request (`caught`) or at its deadline.
  void End(bool caught);
  // A request was read at `now_ns` (CLOCK_MONOTONIC, Stats::Now()), by
  // any worker.
  void NoteRequest(int64_t now_ns);

  std::chrono::nanoseconds window() const {
    return std::chrono::nanoseconds(window_ns_.load(std::memory_order_relaxed));
  }
  bool enabled() const { return max_ns_ > 0; }

 private:
  static int64_t ToNs(std::chrono::microseconds us) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(us).count();
  }
  // Below this the spin is not worth its syscalls: stop instead.
  static constexpr int64_t kShortestNs = 2'000;

  const int64_t max_ns_;
  std::atomic<int64_t> window_ns_;  // 0: not spinning until requests come close
  std::atomic<bool> spinning_{false};
  std::atomic<int64_t> last_request_ns_{0};
};

}  // namespace fusekit
