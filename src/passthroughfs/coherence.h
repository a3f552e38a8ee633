// Coherence: keeps the kernel's caches of the mount true to SOURCE while
// others change it, so that they may live for hours instead of a second.
// It runs a SourceWatcher, maps its events to the nodes the kernel holds
// (InodeStore) and tells the kernel what to drop (Notifier), from the
// watcher's thread.
//
// When events were lost (the queue overflowed) everything the kernel holds
// is invalidated and caches are short-lived for a grace period; when a
// directory cannot be watched (inotify limits) they stay short-lived from
// then on. Either is logged once. coherent() says which applies.
//
// Thread-safety: every method may be called from any thread. Destroying
// it stops the watcher first, so no notification follows.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "fusekit/notifier.h"
#include "fs_options.h"
#include "fusekit/result.h"
#include "inode_store.h"
#include "invalidator.h"
#include "source_watcher.h"

namespace passthroughfs {

// The daemon's threads that act on SOURCE, each noted the first time it
// does, so that the watcher can tell the changes they make (which the
// kernel asked for, and knows of) from everyone else's. Lock-free: a fixed
// table of thread ids, scanned.
class DaemonThreads {
 public:
  void NoteCurrent();
  bool Contains(pid_t tid) const;

 private:
  static constexpr size_t kMax = 1024;
  std::array<std::atomic<pid_t>, kMax> tids_{};
  std::atomic<size_t> count_{0};
};

class Coherence {
 public:
  // Watches SOURCE as `mode` says: fanotify needs inodes held by handle and
  // CAP_SYS_ADMIN; auto takes fanotify where it works, else inotify. Fails
  // (with `why`) when the back end asked for cannot run.
  // `own(tid)`: whether a thread is one of the daemon's, whose changes to
  // SOURCE the kernel made itself. `changed(node)`: called on the watcher's
  // thread once a node's attributes changed behind the mount or its name
  // was deleted there, with nullopt when anything may have (events lost).
  using ChangedFn = std::function<void(std::optional<fusekit::NodeId>)>;
  static fusekit::Result<std::unique_ptr<Coherence>> Start(WatchMode mode, InodeStore& inodes,
                                                           fusekit::Notifier notifier,
                                                           std::function<bool(pid_t)> own,
                                                           ChangedFn changed, std::string& why);
  ~Coherence();
  Coherence(const Coherence&) = delete;
  Coherence& operator=(const Coherence&) = delete;

  const char* backend() const { return watcher_->name(); }
  // Every change in SOURCE reaches the kernel's caches now: they may live
  // long.
  bool coherent() const;
  // inotify watches directories one by one: each directory the kernel
  // learns (`fd` an fd of it), and no longer once it forgets it.
  void Learned(Inode& dir, int fd);
  void Forgotten(const Inode& dir);

  const Invalidator& invalidator() const { return *invalidator_; }

 private:
  class Index;
  class Caches;
  Coherence(InodeStore& inodes, fusekit::Notifier notifier, std::function<bool(pid_t)> own,
            ChangedFn changed);
  void Degrade(const char* why, bool for_good);

  InodeStore& inodes_;
  fusekit::Notifier notifier_;
  const ChangedFn changed_;
  std::unique_ptr<Index> index_;
  std::unique_ptr<Caches> caches_;
  std::unique_ptr<Invalidator> invalidator_;
  // Steady-clock nanoseconds until which caches stay short-lived.
  std::atomic<int64_t> degraded_until_{0};
  std::atomic<bool> degraded_for_good_{false};
  std::atomic<bool> logged_{false};
  std::unique_ptr<SourceWatcher> watcher_;  // last: stopped first
};

}  // namespace passthroughfs
