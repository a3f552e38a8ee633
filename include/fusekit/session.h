// Session: serves one mount's requests.
//
// Run() answers INIT before any worker starts, then runs `threads` workers,
// each reading from its own cloned /dev/fuse fd and handling what it reads
// (no hand-off queue). With Config::io_uring, when the kernel grants
// FUSE-over-io_uring, it runs one thread per CPU instead, each pinned to its
// CPU and serving that CPU's io_uring queue, and a single /dev/fuse worker
// for what still comes through the device (FORGET, INTERRUPT). It returns
// when the mount goes away, after DESTROY, or after Stop() (called from any
// thread or, with handle_signals, on SIGINT/SIGTERM/SIGHUP, which also
// unmount; SIGHUP calls Config::on_hangup instead where one is set).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "fusekit/capabilities.h"
#include "fusekit/mount.h"
#include "fusekit/notifier.h"
#include "fusekit/operations.h"
#include "fusekit/result.h"
#include "fusekit/stats.h"

namespace fusekit {

struct Config {
  // Capabilities to ask for; what is granted is this and what the kernel
  // offers. Asking for passthrough drops writeback cache: the kernel
  // silently refuses passthrough when both are negotiated.
  uint64_t want = cap::kAsyncRead | cap::kParallelDirops | cap::kAtomicOTrunc | cap::kBigWrites |
                  cap::kMaxPages | cap::kAbortError | cap::kSpliceRead | cap::kSpliceWrite |
                  cap::kSpliceMove;
  unsigned threads = 2;
  bool clone_fd = true;        // one cloned device fd per worker
  uint32_t max_write = 1u << 20;
  uint32_t max_readahead = 1u << 20;
  uint16_t max_background = 0;  // 0: the kernel's default
  uint16_t congestion_threshold = 0;
  uint32_t time_gran = 1;
  uint32_t max_stack_depth = 1;  // with cap::kPassthrough: 1, or 2 over a stacked fs
  bool handle_signals = false;   // SIGINT/SIGTERM/SIGHUP unmount and end Run()
  // With handle_signals: SIGHUP calls this (on Run's thread) instead of
  // unmounting, the daemon convention for "reopen your log files".
  std::function<void()> on_hangup{};
  // FUSE-over-io_uring: each request is served by a daemon thread pinned to
  // the CPU of the caller, without a cross-CPU wakeup. Needs root to have
  // set /sys/module/fuse/parameters/enable_uring to Y before the mount;
  // otherwise (or when io_uring cannot be set up) the session says why in
  // one log line and serves over /dev/fuse. A queue's requests are served
  // one at a time by its thread: an operation that blocks delays the other
  // callers on that CPU, unless it replies asynchronously.
  bool io_uring = false;
  unsigned io_uring_depth = 2;  // entries per queue (requests in flight per CPU)
  // After a request, one worker keeps reading /dev/fuse (non-blocking) for
  // up to this long before it sleeps, while requests come closer together
  // than this; zero: off. Spares the next request of a burst the kernel's
  // wakeup of a worker. Not with io_uring.
  std::chrono::microseconds busy_poll{0};
};

// Thread-safety: Stop, notifier, stats, connection and device may be called
// from any thread while Run runs.
class Session {
 public:
  // `ops` and `mount` must outlive the session.
  static Result<std::unique_ptr<Session>> Create(Operations& ops, Mount& mount,
                                                 const Config& config);
  ~Session();

  // Serves until unmounted or stopped. Fails with EPROTO when the kernel
  // speaks a protocol older than 7.36.
  Status Run();
  void Stop();

  // True once INIT is answered and Operations::Init has returned; from then
  // on connection() may be read from any thread.
  bool ready() const;
  // What INIT settled (valid once ready()).
  const ConnectionInfo& connection() const;
  Notifier notifier() const;
  const Stats& stats() const;
  const std::shared_ptr<const UniqueFd>& device() const;

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fusekit
