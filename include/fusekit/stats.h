// Statistics of a session: what the kernel asked, how long the daemon took
// to answer, how it failed, and which notifications the kernel took.
//
// Recording costs no lock and no shared cache line: each thread adds to its
// own shard (PerThread). Snapshot() merges the shards; it is exact for the
// requests that had been answered when it was taken.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "fusekit/notifier.h"
#include "fusekit/opcodes.h"
#include "fusekit/per_thread.h"

namespace fusekit {

// A distribution of latencies in buckets two to an octave of nanoseconds
// (each bucket's upper bound about 1.41 times its lower), from 1 ns to
// about 17 s; longer ones count in the last bucket.
class LatencyHistogram {
 public:
  static constexpr int kBuckets = 70;
  static int Bucket(uint64_t ns);
  static uint64_t BucketLow(int bucket);   // the least value that lands in it
  static uint64_t BucketHigh(int bucket);  // the least value that does not

  void Add(uint64_t ns, uint64_t count = 1);
  // A histogram of these bucket counts whose samples summed to `total_ns`.
  static LatencyHistogram FromBuckets(const std::array<uint64_t, kBuckets>& buckets,
                                      uint64_t total_ns);
  void Merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }
  uint64_t total_ns() const { return total_ns_; }
  uint64_t bucket(int b) const { return buckets_[b]; }
  // The latency under which `fraction` (0..1) of the samples fall,
  // interpolated inside its bucket; 0 when there are none.
  uint64_t Percentile(double fraction) const;

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t total_ns_ = 0;
};

// The largest errno counted by value; larger ones (none the kernel
// accepts in a reply) are not counted by errno.
inline constexpr int kMaxErrno = 511;

struct OpcodeStats {
  uint64_t requests = 0;  // read from the kernel (decodable or not)
  uint64_t io_uring = 0;  // of those, over FUSE-over-io_uring
  uint64_t replies = 0;   // answered (FORGET and the like have no answer)
  uint64_t errors = 0;    // answered with an errno
  // From the moment the request reached the dispatcher to the moment its
  // reply was written: the daemon's own time, not the kernel's round trip.
  LatencyHistogram latency;
};

struct StatsSnapshot {
  std::array<OpcodeStats, kMaxOpcode + 1> opcodes{};
  std::array<uint64_t, kMaxErrno + 1> errors_by_errno{};
  std::array<uint64_t, kMaxNotifyCode + 1> notifications{};
  std::chrono::nanoseconds uptime{};
  // Busy polling (Config::busy_poll): spins that caught a request, and
  // spins that ended at their deadline.
  uint64_t spins_caught = 0;
  uint64_t spins_missed = 0;

  const OpcodeStats& of(Opcode op) const { return opcodes[static_cast<uint32_t>(op)]; }
  uint64_t requests() const;
  uint64_t errors() const;
};

// The snapshot as lines of text, one per opcode seen, then errors by errno
// and notifications: what `passthroughfs stats` prints. Each line is
// `name key=value ...`, for people and for awk.
std::string FormatStats(const StatsSnapshot& snapshot);

class Stats {
 public:
  Stats();
  Stats(const Stats&) = delete;
  Stats& operator=(const Stats&) = delete;

  // Exact counts, summed over threads (tests use them as their oracle).
  uint64_t count(Opcode op) const;
  uint64_t io_uring_count(Opcode op) const;
  uint64_t notifications(NotifyCode code) const;
  StatsSnapshot Snapshot() const;

  // Recording, into the calling thread's shard.
  void AddRequest(uint32_t opcode);
  void AddIoUring(uint32_t opcode);
  void AddNotification(NotifyCode code);
  void AddSpin(bool caught);
  // A reply sent: `error` 0 or a positive errno, `latency_ns` the daemon's
  // time on it (see OpcodeStats::latency).
  void AddReply(Opcode op, int error, uint64_t latency_ns);

  // CLOCK_MONOTONIC in nanoseconds: what a request's start is taken in.
  static uint64_t Now();

 private:
  struct OpcodeShard {
    std::atomic<uint64_t> requests, io_uring, replies, errors, total_ns;
    std::array<std::atomic<uint64_t>, LatencyHistogram::kBuckets> buckets;
  };
  struct Shard {
    std::array<OpcodeShard, kMaxOpcode + 1> opcodes;
    std::array<std::atomic<uint64_t>, kMaxErrno + 1> errnos;
    std::array<std::atomic<uint64_t>, kMaxNotifyCode + 1> notifications;
    std::atomic<uint64_t> spins_caught, spins_missed;
  };
  template <typename F>
  uint64_t Sum(F field) const;

  const uint64_t started_ns_;
  PerThread<Shard> shards_;
};

}  // namespace fusekit
