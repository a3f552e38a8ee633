// SourceWatcher: changes made to SOURCE by anyone, as a stream of
// SourceEvents for a callback. It knows nothing of FUSE: what an event means
// to the kernel's caches is the Invalidator's business.
//
// Two back ends behind one interface:
// - fanotify (FAN_MARK_FILESYSTEM, FAN_REPORT_DFID_NAME_TARGET): every
//   change on SOURCE's filesystems, each naming the objects it touched by
//   file handle (the same handles the inode store keys inodes by) and the
//   process that made it. Needs CAP_SYS_ADMIN.
// - inotify: one watch per directory the caller asks for (the directories
//   the kernel holds), each event naming the directory by the caller's tag
//   and the entry by name. Unprivileged; bounded by max_user_watches.
//
// Thread-safety: events are read and handed to the callback on the
// watcher's own thread, one batch (one read) at a time. Watch/Unwatch may be
// called from any thread. Destroying the watcher stops and joins its thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fusekit/result.h"
#include "source_handle.h"

namespace passthroughfs {

// The name of the thread that reads SOURCE's events (at most 15 bytes).
inline constexpr char kWatcherThreadName[] = "source-watcher";

struct SourceEvent {
  enum Flag : uint32_t {
    kCreated = 1u << 0,     // `name` appeared in `dir`
    kDeleted = 1u << 1,     // `name` left `dir` (unlink, rmdir)
    kMovedFrom = 1u << 2,   // `name` left `dir` by a rename
    kMovedTo = 1u << 3,     // `name` entered `dir` by a rename
    kAttrib = 1u << 4,      // the object's attributes (mode, owner, times, xattrs, links)
    kModified = 1u << 5,    // the object's data (write, truncate)
    kSelfGone = 1u << 6,    // the object itself was deleted or moved
    kIsDir = 1u << 7,       // the object is a directory
    kOverflow = 1u << 8,    // events were lost: everything may have changed
  };
  uint32_t flags = 0;
  // fanotify: the filesystem (statfs f_fsid) and handles on it; either
  // handle may be empty.
  uint64_t fsid = 0;
  SourceHandle object;
  SourceHandle dir;
  // inotify: the tag the directory's watch was added with.
  uint64_t dir_tag = 0;
  std::string name;  // in `dir`; empty for an event on the object alone
  pid_t pid = 0;     // the thread that made the change (fanotify only; 0 if unknown)
};

class SourceWatcher {
 public:
  // Gets each batch of events; returns how many milliseconds later it
  // wants to be called again with none (-1: only for events).
  using Callback = std::function<int(std::span<const SourceEvent> events)>;

  virtual ~SourceWatcher() = default;
  // "fanotify" or "inotify".
  virtual const char* name() const = 0;
  // inotify: watch the directory `dir` (an fd of it, O_PATH will do) for
  // changes to its entries and to itself, its events tagged `tag`. False
  // when no watch could be added (inotify limits). fanotify: a no-op.
  virtual bool Watch(int dir, uint64_t tag) = 0;
  virtual void Unwatch(uint64_t tag) = 0;
  // fanotify: watch the filesystem `mount_fd` is on too (a mount met below
  // SOURCE). inotify: a no-op.
  virtual void Cover(int mount_fd) = 0;

  // fanotify on the filesystems of `mounts` (fds on each). EPERM without
  // CAP_SYS_ADMIN. `queue_max`: 0 for the kernel's default queue.
  static fusekit::Result<std::unique_ptr<SourceWatcher>> Fanotify(std::span<const int> mounts,
                                                                  Callback callback);
  static fusekit::Result<std::unique_ptr<SourceWatcher>> Inotify(Callback callback);

  // The events in a buffer read from a fanotify fd set up as Fanotify()
  // does (exposed for tests, which build the records by hand).
  static std::vector<SourceEvent> ParseFanotify(std::span<const std::byte> records);
  // The events in a buffer read from an inotify fd; `tag_of` maps a watch
  // descriptor to its tag (0: unknown, the event is dropped).
  static std::vector<SourceEvent> ParseInotify(std::span<const std::byte> records,
                                               const std::function<uint64_t(int wd)>& tag_of);
};

// The fsid statfs(2) reports for the filesystem `fd` is on, as fanotify
// reports it in events.
uint64_t FsidOf(int fd);

}  // namespace passthroughfs
