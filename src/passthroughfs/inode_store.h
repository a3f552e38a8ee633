// InodeStore: the kernel's node ids mapped to source inodes.
//
// Node ids are counters, never pointers, and never reused: a stale or bogus
// FORGET can at worst drop a lookup count, never free memory in use.
//
// An inode is known one of two ways:
// - by source handle (name_to_handle_at, see SourceHandle) and the mount it
//   is on: it holds no fd of its own. An fd is opened when a call needs
//   one (open_by_handle_at) and kept in a bounded LRU cache (FdCache), so
//   the daemon's fds stay within a budget however many inodes the kernel
//   remembers. After the kernel forgets such an inode, its node id and
//   handle are remembered (a bounded FIFO), so that the same inode gets the
//   same node id again, and a file handle taken on the mount (NFS, the
//   handle syscalls) still opens after the kernel dropped its inode.
// - by an O_PATH fd it holds for as long as the kernel remembers it
//   (inode_handles=never, the root, and filesystems without handles).
//   The store says when the kernel should be asked to drop some of those
//   (PruneCandidates), so that fds come back before they run out.
//
// Thread-safety: every method may be called concurrently. Lock order: the
// store's mutex is never held while an Inode's open_mutex is taken, nor
// across a syscall other than close().
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <absl/container/flat_hash_map.h>
#include <vector>

#include "fd_cache.h"
#include "fusekit/backing_file.h"
#include "fusekit/result.h"
#include "fusekit/types.h"
#include "fusekit/unique_fd.h"
#include "source_handle.h"

namespace passthroughfs {

// A version of a file's contents as the source filesystem shows it: every
// change of the data moves mtime (and ctime, which no caller can set). Kept
// as a 64-bit digest of (mtime, ctime, size), never 0, so that an inode
// pays 8 bytes for it: two versions share a digest with odds of 2^-64.
inline uint64_t ContentStamp(const struct stat& st) {
  auto mix = [](uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
  };
  uint64_t h = mix(0, static_cast<uint64_t>(st.st_mtim.tv_sec));
  h = mix(h, static_cast<uint64_t>(st.st_mtim.tv_nsec));
  h = mix(h, static_cast<uint64_t>(st.st_ctim.tv_sec));
  h = mix(h, static_cast<uint64_t>(st.st_ctim.tv_nsec));
  h = mix(h, static_cast<uint64_t>(st.st_size));
  return h | 1;
}

// Thread-safety: `id`, `dev`, `ino`, `type`, `handle`, `mount_id` and `fd`
// are immutable after creation. The open state is guarded by the
// filesystem's lock for it (PassthroughFs::OpenLock); `nlookup`, `lru` and
// `prune_asked` by the store's mutex. Every inode the kernel remembers costs
// one of these: keep it small (104 bytes).
struct Inode {
  fusekit::NodeId id;
  dev_t dev = 0;
  ino_t ino = 0;
  uint64_t nlookup = 0;
  // The file (or directory) as it was when a daemon-served open last let
  // the kernel cache its pages (or listing): an open that finds it
  // unchanged keeps them.
  uint64_t page_cache_stamp = 0;  // ContentStamp; 0: nothing cached yet
  SourceHandle handle;            // empty: known by `fd`
  std::list<uint64_t>::iterator lru;  // in the store's prune order (fd-held inodes)
  fusekit::UniqueFd fd;   // O_PATH, held while the kernel remembers the inode
  int mount_id = 0;       // of `handle`
  // Open files and directories: such inodes are never offered for pruning.
  std::atomic<unsigned> in_use{0};
  // Open files of this inode and the backing file they share: registered
  // at the first open, released at the last release.
  unsigned open_count = 0;
  std::unique_ptr<fusekit::BackingFile> backing;
  mode_t type = 0;                   // S_IFMT bits
  bool passthrough_refused = false;  // logged once; this inode is served by the daemon
  bool prune_asked = false;          // offered for pruning, not used since
  std::atomic<bool> watched{false};  // an inotify watch is on this directory
};

// An fd of an inode for one call: the inode's own, or one from the cache
// (which stays open while this holds it, even if evicted meanwhile). A
// bare borrowed fd: never closed through it.
class AnchorFd {
 public:
  AnchorFd() = default;
  explicit AnchorFd(int borrowed) : fd_(borrowed) {}
  explicit AnchorFd(FdCache::Fd cached) : cached_(std::move(cached)), fd_(cached_->get()) {}
  int get() const { return fd_; }

 private:
  FdCache::Fd cached_;
  int fd_ = -1;
};

class InodeStore {
 public:
  struct Config {
    bool handles = false;     // know inodes by source handle (CAP_DAC_READ_SEARCH)
    size_t fd_budget = 1024;  // inode fds: the cache's size, or where pruning starts
    size_t forgotten_max = size_t{1} << 20;  // forgotten nodes remembered for export
  };
  // What a lookup found: the inode (its lookup count raised by one) and
  // its attributes.
  struct Found {
    std::shared_ptr<Inode> inode;
    struct stat st {};
  };

  // The root inode (node id 1) is SOURCE; it is never forgotten.
  InodeStore(fusekit::UniqueFd root_fd, const struct stat& root_stat, const Config& config);

  // The inode of a node id the kernel holds, or null.
  std::shared_ptr<Inode> Get(fusekit::NodeId id);

  // An fd of `inode` for one call, O_PATH. Opening one by handle needs
  // CAP_DAC_READ_SEARCH: call it as the daemon, before AsCaller.
  fusekit::Result<AnchorFd> Anchor(const Inode& inode);

  // `name` (a plain name) in `parent`, open as `parent_fd`, without
  // following a final symlink.
  fusekit::Result<Found> Resolve(const Inode& parent, int parent_fd, const char* name);
  // The inode `fd` (O_PATH or open) is on, e.g. a file just created.
  fusekit::Result<Found> Adopt(int fd);
  // A node id the kernel forgot, back again for a file handle taken on
  // the mount: ESTALE once it is gone (or was never issued).
  fusekit::Result<Found> Revive(fusekit::NodeId id);

  // Drops `nlookup` lookups; the inode leaves the store at zero, and is
  // returned (for what else held on to it), else null.
  std::shared_ptr<Inode> Forget(fusekit::NodeId id, uint64_t nlookup);

  // For the watcher; none counts a lookup. The node held for `handle` on
  // the filesystem `fsid` (statfs f_fsid); of `name` in the directory open
  // as `parent_fd`; every node held; and an fd on each mount met so far.
  std::optional<fusekit::NodeId> FindByHandle(uint64_t fsid, const SourceHandle& handle) const;
  std::optional<fusekit::NodeId> FindName(int parent_fd, const char* name) const;
  std::vector<fusekit::NodeId> Nodes() const;
  std::vector<int> MountFds() const;
  // Runs for each mount met after this call (with an fd on it), outside
  // the store's lock.
  void OnNewMount(std::function<void(int mount_fd)> callback);

  // Fd-held inodes the kernel should be asked to drop (FUSE_NOTIFY_PRUNE),
  // least recently used first, once more than the budget's high-water
  // mark hold fds (or `force`, after EMFILE); empty when none is due. An
  // inode is offered once, until it is used again: asked and not dropped,
  // the kernel still needs it.
  std::vector<fusekit::NodeId> PruneCandidates(bool force);
  // Waits until an inode's fd was closed (a FORGET), or `timeout`.
  bool WaitForForget(std::chrono::milliseconds timeout);
  // After EMFILE: frees cached fds; false when there were none.
  bool ReleaseCachedFds();
  // Whether a new fd-held inode would pass the high-water mark (a listing
  // then leaves its entries for the kernel to look up one by one).
  bool FdsNearBudget() const;

  bool handles() const { return config_.handles; }
  size_t size() const;           // inodes the kernel holds, the root included
  size_t forgotten_size() const;  // remembered for export
  uint64_t revived() const { return revived_.load(std::memory_order_relaxed); }  // by Revive
  size_t fd_count() const;       // inode fds held: by inodes, and cached
  size_t fd_budget() const { return config_.fd_budget; }

  // Drops every inode but the root: the kernel sends no FORGET for what it
  // still held when the connection ends.
  void Clear();

 private:
  struct DevIno {
    dev_t dev;
    ino_t ino;
    bool operator==(const DevIno&) const = default;
  };
  struct DevInoHash {
    size_t operator()(const DevIno& k) const noexcept {
      return std::hash<uint64_t>()(k.ino * 0x9e3779b97f4a7c15ull ^ k.dev);
    }
  };
  struct HandleKey {
    dev_t dev;
    SourceHandle handle;
    bool operator==(const HandleKey&) const = default;
    // The index holds this digest, not the handle again (which the inode,
    // or its forgotten record, holds): two keys share one with odds of
    // 2^-64, and a lookup compares the handle itself.
    uint64_t Digest() const { return handle.Hash() * 0x9e3779b97f4a7c15ull ^ dev; }
  };
  struct Forgotten {
    dev_t dev;
    ino_t ino;
    mode_t type;
    int mount_id;
    SourceHandle handle;
  };
  struct Mount {
    fusekit::UniqueFd fd;  // a directory on that mount, open for reading
    dev_t dev = 0;
    uint64_t fsid = 0;     // as fanotify names the filesystem
  };

  // The device of mount `mount_id`, if known.
  std::optional<dev_t> MountDev(int mount_id) const;
  // Learns mount `mount_id` from `dir`, a directory on it; false if `dir`
  // cannot be opened for reading.
  bool AddMount(int mount_id, int dir, dev_t dev);
  // The inode of `anchor`, an O_PATH fd of ours with attributes `st`.
  Found AdoptAnchor(fusekit::UniqueFd anchor, const struct stat& st);
  // With mutex_ held: a new inode (or a forgotten one, revived) for `st`.
  std::shared_ptr<Inode> InsertLocked(const struct stat& st, SourceHandle handle, int mount_id,
                                      fusekit::UniqueFd fd, uint64_t id);
  // With mutex_ held: the inode `key` names, live or revived from the
  // forgotten, with a lookup counted; null if unknown, or if `st` is of
  // another inode (a file renamed over the name between handle and stat).
  std::shared_ptr<Inode> FindLocked(const HandleKey& key, const struct stat& st);
  void TouchLocked(Inode& inode);

  // Swiss tables (abseil): a live inode costs its Inode and about 28 + 19
  // bytes of index (by id, by handle digest).
  const Config config_;
  FdCache cache_;
  dev_t root_dev_ = 0;
  ino_t root_ino_ = 0;

  mutable std::mutex mutex_;
  uint64_t next_id_ = 2;
  absl::flat_hash_map<uint64_t, std::shared_ptr<Inode>> by_id_;
  absl::flat_hash_map<DevIno, uint64_t, DevInoHash> by_dev_ino_;  // fd-held inodes
  absl::flat_hash_map<uint64_t, uint64_t> by_handle_;  // HandleKey digest -> id, live and forgotten
  absl::flat_hash_map<uint64_t, Forgotten> forgotten_;
  std::deque<uint64_t> forgotten_order_;  // oldest first
  std::list<uint64_t> fd_lru_;            // fd-held inodes, most recent first
  size_t fd_held_ = 0;                    // inodes holding their own fd
  uint64_t forgets_ = 0;                  // of fd-held inodes, for WaitForForget
  size_t prune_asked_ = 0;                // fd-held inodes with prune_asked
  std::unordered_map<int, Mount> mounts_;
  std::condition_variable forgot_;
  std::atomic<uint64_t> revived_{0};
  std::function<void(int)> on_new_mount_;  // guarded by mutex_
};

}  // namespace passthroughfs
