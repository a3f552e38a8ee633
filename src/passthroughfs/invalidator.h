// Invalidator: turns changes made to SOURCE (SourceEvents) into what the
// kernel's caches need dropped, for the nodes the kernel holds, coalesced
// per batch. It runs on the watcher's thread, never in a request: an entry
// invalidation waits for the directory's lock, which a request holds.
//
// Thread-safety: Handle is called from one thread at a time (the
// watcher's); the rest may be read from any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <set>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fusekit/types.h"
#include "source_watcher.h"

namespace passthroughfs {

// The nodes the kernel holds, as the invalidator finds them.
class NodeIndex {
 public:
  virtual ~NodeIndex() = default;
  // The node of the inode with `handle` on the filesystem `fsid`.
  virtual std::optional<fusekit::NodeId> FindByHandle(uint64_t fsid,
                                                      const SourceHandle& handle) = 0;
  // The node of `name` in the directory node `dir`, as SOURCE shows it now.
  virtual std::optional<fusekit::NodeId> FindChild(fusekit::NodeId dir, const std::string& name) = 0;
};

// What the kernel is told (the Notifier, for PassthroughFs).
class CacheInvalidations {
 public:
  virtual ~CacheInvalidations() = default;
  virtual void Attributes(fusekit::NodeId node) = 0;  // attributes only
  // Attributes and data: a file's pages, a directory's listing.
  virtual void Contents(fusekit::NodeId node) = 0;
  virtual void Entry(fusekit::NodeId parent, std::string_view name) = 0;
  virtual void Deleted(fusekit::NodeId parent, fusekit::NodeId child, std::string_view name) = 0;
  // Events were lost: whatever the kernel caches may be stale.
  virtual void Everything() = 0;
};

class Invalidator {
 public:
  // Changes made by a thread for which `own` is true (the daemon's, acting
  // for the kernel) are the kernel's own: it needs no word of them.
  Invalidator(NodeIndex& index, CacheInvalidations& sink, std::function<bool(pid_t tid)> own)
      : index_(index), sink_(sink), own_(std::move(own)) {}

  // Tells the kernel what `events` changed. A lookup the daemon answered
  // just before a change may reach the kernel's dentry cache just after the
  // invalidation of that name, and would stay for the whole timeout: so the
  // entry invalidations of a batch are sent again kRepeatAfter later. Call
  // with no events when the time returned (in milliseconds; -1: nothing is
  // due) has passed.
  int Handle(std::span<const SourceEvent> events);
  static constexpr std::chrono::milliseconds kRepeatAfter{50};

  uint64_t events_seen() const { return events_seen_.load(std::memory_order_relaxed); }
  uint64_t overflows() const { return overflows_.load(std::memory_order_acquire); }

 private:
  std::optional<fusekit::NodeId> DirOf(const SourceEvent& e);
  std::optional<fusekit::NodeId> ObjectOf(const SourceEvent& e, std::optional<fusekit::NodeId> dir);
  int RepeatIfDue();

  NodeIndex& index_;
  CacheInvalidations& sink_;
  const std::function<bool(pid_t)> own_;
  // Entry invalidations (and their directories) to send once more.
  std::set<std::pair<fusekit::NodeId, std::string>> repeat_entries_;
  std::set<fusekit::NodeId> repeat_dirs_;
  std::chrono::steady_clock::time_point repeat_at_{};
  std::atomic<uint64_t> events_seen_{0};
  std::atomic<uint64_t> overflows_{0};
};

}  // namespace passthroughfs
