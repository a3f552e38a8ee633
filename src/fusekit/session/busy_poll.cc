#include "fusekit/session/busy_poll.h"

namespace fusekit {

bool BusyPoll::TryBegin() {
  if (window_ns_.load(std::memory_order_relaxed) == 0) return false;
  bool expected = false;
  return spinning_.compare_exchange_strong(expected, true, std::memory_order_acquire);
}

void BusyPoll::End(bool caught) {
  if (caught) {
    window_ns_.store(max_ns_, std::memory_order_relaxed);
  } else {
    int64_t half = window_ns_.load(std::memory_order_relaxed) / 2;
    window_ns_.store(half < kShortestNs ? 0 : half, std::memory_order_relaxed);
  }
  spinning_.store(false, std::memory_order_release);
}

void BusyPoll::NoteRequest(int64_t now_ns) {
  if (max_ns_ == 0) return;
  int64_t gap = now_ns - last_request_ns_.exchange(now_ns, std::memory_order_relaxed);
  // Close to the last: a burst, which a spin too short (or none) missed.
  // Far from it: the burst before is over.
  int64_t want = gap <= max_ns_ ? max_ns_ : 0;
  if (window_ns_.load(std::memory_order_relaxed) != want)
    window_ns_.store(want, std::memory_order_relaxed);
}

}  // namespace fusekit
