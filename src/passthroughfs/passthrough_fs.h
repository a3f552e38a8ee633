// PassthroughFs: mirrors a SOURCE directory, with file I/O handed to the
// kernel through passthrough where it can be.
//
// Every path below SOURCE is resolved relative to an inode's O_PATH fd with
// O_NOFOLLOW, one component at a time, so the daemon never reaches outside
// SOURCE: ".." of the root is the root, and symlinks inside SOURCE are
// returned to the kernel (READLINK), never followed by the daemon.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "fs_options.h"
#include "fusekit/operations.h"
#include "fusekit/session.h"
#include "coherence.h"
#include "inode_store.h"
#include "kept_backings.h"
#include "listing_advisor.h"

namespace passthroughfs {

// Counters the tests and benchmarks read.
struct FsCounters {
  std::atomic<uint64_t> passthrough_opens{0};
  std::atomic<uint64_t> daemon_opens{0};   // opens whose I/O the daemon serves
  std::atomic<uint64_t> backing_files{0};  // registered right now
  std::atomic<uint64_t> backing_opens{0};  // BACKING_OPEN calls, all told
};

// Thread-safety: every operation may run concurrently with any other. Locks:
// InodeStore's mutex, then (never while holding it) an inode's open lock
// (OpenLock), then handles_mutex_. None is held across a reply or a blocking syscall on
// a source file other than the backing-file ioctls.
//
// POSIX locks and flock are left to the kernel (POSIX_LOCKS and FLOCK_LOCKS
// are not negotiated): it implements them exactly, with native semantics,
// for every process using the mount. Locks taken on SOURCE directly, beside
// the mount, are not seen through it, unless -o lock-forwarding stacks
// LockForwardingFs over this (then they are negotiated, and opens keep FLUSH).
class PassthroughFs : public fusekit::Operations {
 public:
  // `source` is an O_PATH or O_RDONLY fd of the SOURCE directory.
  static fusekit::Result<std::unique_ptr<PassthroughFs>> Create(fusekit::UniqueFd source,
                                                                const FsOptions& options);

  // The session configuration these options ask for.
  fusekit::Config SessionConfig() const;
  // True once INIT granted passthrough and the options allow it.
  bool passthrough_active() const { return passthrough_active_.load(); }
  const FsCounters& counters() const { return counters_; }
  // Inodes keeping a backing file registered with no open file.
  size_t kept_backing_files() const { return kept_backings_.size(); }
  // Files open through the mount (RELEASE comes after close(2) returns).
  size_t open_files() const;
  size_t inode_count() const { return inodes_->size(); }
  const InodeStore& inodes() const { return *inodes_; }
  // default_permissions (asked for, or implied by POSIX ACLs): the kernel
  // checks access before asking us.
  bool kernel_checks_permissions() const { return kernel_checks_; }
  // SOURCE's filesystem may report write errors at close(): passthrough
  // opens keep FLUSH (else they skip it).
  bool flush_reports_errors() const { return source_.flush_reports_errors; }
  // INIT agreed on POSIX ACLs: the kernel enforces them, and new files get
  // their directory's default ACL as natively.
  bool acls_active() const { return acls_active_; }
  // SOURCE watched (set by Init): the kernel's caches live an hour and drop
  // each change made beside the mount. Null when not watching.
  const Coherence* coherence() const { return coherence_.get(); }
  // Every change in SOURCE reaches the kernel's caches: they live an hour.
  bool CachesCoherent() const;
  // Where `node` is below SOURCE ("." for the root; one of a file's names,
  // the one its fd was last opened through), for the audit trail. A file
  // deleted or moved out of SOURCE gives its path as the kernel shows it.
  fusekit::Result<std::string> SourcePath(fusekit::NodeId node);
  // SOURCE's file of `node` opened by the daemon for lock forwarding:
  // read-write where it may be, else read-only or write-only.
  fusekit::Result<fusekit::UniqueFd> OpenForLocks(fusekit::NodeId node);
  // One line for the startup message: whether kernel passthrough is on, and
  // why not when it is not; and how inodes are held.
  std::string PassthroughStatus() const;
  // The live statistics that getxattr of user.passthroughfs.stats on the
  // mount's root answers (control.h).
  std::string StatsText() const;
  // Runs once INIT settled what the kernel grants: `ok` is false when the
  // options cannot be met (passthrough=always without passthrough).
  using InitCallback = std::function<void(bool ok, const std::string& status)>;
  void set_on_init(InitCallback callback) { on_init_ = std::move(callback); }

  void Init(const fusekit::ConnectionInfo& info) override;
  void Destroy() override;
  void Forget(fusekit::NodeId node, uint64_t nlookup) override;

  void Lookup(const fusekit::Context&, const fusekit::req::Lookup&, fusekit::ReplyEntry) override;
  void GetAttr(const fusekit::Context&, const fusekit::req::GetAttr&, fusekit::ReplyAttr) override;
  void SetAttr(const fusekit::Context&, const fusekit::req::SetAttr&, fusekit::ReplyAttr) override;
  void ReadLink(const fusekit::Context&, const fusekit::req::ReadLink&, fusekit::ReplyData) override;
  void SymLink(const fusekit::Context&, const fusekit::req::SymLink&, fusekit::ReplyEntry) override;
  void MkNod(const fusekit::Context&, const fusekit::req::MkNod&, fusekit::ReplyEntry) override;
  void MkDir(const fusekit::Context&, const fusekit::req::MkDir&, fusekit::ReplyEntry) override;
  void Unlink(const fusekit::Context&, const fusekit::req::Unlink&, fusekit::ReplyEmpty) override;
  void RmDir(const fusekit::Context&, const fusekit::req::RmDir&, fusekit::ReplyEmpty) override;
  void Rename(const fusekit::Context&, const fusekit::req::Rename&, fusekit::ReplyEmpty) override;
  void Link(const fusekit::Context&, const fusekit::req::Link&, fusekit::ReplyEntry) override;
  void StatFs(const fusekit::Context&, const fusekit::req::StatFs&, fusekit::ReplyStatfs) override;
  void Access(const fusekit::Context&, const fusekit::req::Access&, fusekit::ReplyEmpty) override;
  void Statx(const fusekit::Context&, const fusekit::req::Statx&, fusekit::ReplyStatx) override;
  void SyncFs(const fusekit::Context&, const fusekit::req::SyncFs&, fusekit::ReplyEmpty) override;

  // file_ops.cc
  void Open(const fusekit::Context&, const fusekit::req::Open&, fusekit::ReplyOpen) override;
  void Create(const fusekit::Context&, const fusekit::req::Create&, fusekit::ReplyCreate) override;
  void TmpFile(const fusekit::Context&, const fusekit::req::TmpFile&,
               fusekit::ReplyCreate) override;
  void Read(const fusekit::Context&, const fusekit::req::Read&, fusekit::ReplyData) override;
  void Write(const fusekit::Context&, const fusekit::req::Write&, fusekit::ReplyWrite) override;
  void Flush(const fusekit::Context&, const fusekit::req::Flush&, fusekit::ReplyEmpty) override;
  void Release(const fusekit::Context&, const fusekit::req::Release&, fusekit::ReplyEmpty) override;
  void Fsync(const fusekit::Context&, const fusekit::req::Fsync&, fusekit::ReplyEmpty) override;
  void Fallocate(const fusekit::Context&, const fusekit::req::Fallocate&,
                 fusekit::ReplyEmpty) override;
  void Lseek(const fusekit::Context&, const fusekit::req::Lseek&, fusekit::ReplyLseek) override;
  void CopyFileRange(const fusekit::Context&, const fusekit::req::CopyFileRange&,
                     fusekit::ReplyCopy) override;

  // dir_ops.cc
  void OpenDir(const fusekit::Context&, const fusekit::req::OpenDir&, fusekit::ReplyOpen) override;
  void ReadDir(const fusekit::Context&, const fusekit::req::ReadDir&, fusekit::ReplyDir) override;
  void ReadDirPlus(const fusekit::Context&, const fusekit::req::ReadDirPlus&,
                   fusekit::ReplyDirPlus) override;
  void ReleaseDir(const fusekit::Context&, const fusekit::req::ReleaseDir&,
                  fusekit::ReplyEmpty) override;
  void FsyncDir(const fusekit::Context&, const fusekit::req::FsyncDir&,
                fusekit::ReplyEmpty) override;

  // xattr_ops.cc
  void SetXattr(const fusekit::Context&, const fusekit::req::SetXattr&,
                fusekit::ReplyEmpty) override;
  void GetXattr(const fusekit::Context&, const fusekit::req::GetXattr&,
                fusekit::ReplyXattr) override;
  void ListXattr(const fusekit::Context&, const fusekit::req::ListXattr&,
                 fusekit::ReplyXattr) override;
  void RemoveXattr(const fusekit::Context&, const fusekit::req::RemoveXattr&,
                   fusekit::ReplyEmpty) override;

 private:
  struct OpenFile;
  struct OpenDirectory;
  // control.cc
  void AnswerControlXattr(const fusekit::req::GetXattr& in, fusekit::ReplyXattr reply) const;

  // What the daemon learns of SOURCE's filesystem at startup.
  struct SourceTraits {
    // overlayfs, ecryptfs, FUSE: backing files need max_stack_depth 2.
    bool stacked = false;
    // close() may report write errors (NFS and the like): passthrough
    // opens then keep FLUSH, which asks it.
    bool flush_reports_errors = false;
    bool posix_acls = false;  // the filesystem supports them
    std::string path;         // SOURCE's absolute path, as /proc shows it
  };

  PassthroughFs(std::unique_ptr<InodeStore> inodes, const FsOptions& options,
                const SourceTraits& source, std::string inode_status);

  // The inode of `node` and an fd of it for one call: ESTALE for a node the
  // kernel no longer holds, or whose file is gone.
  struct Pinned {
    std::shared_ptr<Inode> inode;
    AnchorFd fd;
  };
  fusekit::Result<Pinned> Pin(fusekit::NodeId node);

  // Looks `name` up below `parent` (open as `parent_fd`) without following
  // a final symlink and answers with a counted entry.
  fusekit::Result<fusekit::Entry> LookupChild(const Inode& parent, int parent_fd,
                                              std::string_view name, uid_t viewer);
  // What CreateNode makes: a new inode (the creation policy applies), or a
  // new name for one that exists (it does not).
  enum class Made { kNode, kDirectory, kHardLink };
  // The creation policy (create-for-user=, create-with-perms=, ...) on a
  // node just made as the caller, by the daemon. On failure the new name
  // is removed again, so that nothing is left half made.
  // `creator`: the caller's uid, which a node it just made has.
  fusekit::Status ApplyCreationPolicy(int dir, const std::string& name, bool is_dir,
                                      uid_t creator, gid_t creator_gid);
  // The same on an O_TMPFILE file, open as `fd`: it has no name to remove,
  // so a failure is only reported (the file goes when `fd` is closed).
  fusekit::Status ApplyCreationPolicy(int fd, uid_t creator, gid_t creator_gid);
  // Runs `make` (a *at() creation call relative to the parent's fd) as the
  // caller, then looks the new name up to answer with its entry.
  template <typename MakeFn>
  void CreateNode(const fusekit::Context& ctx, std::string_view name, fusekit::ReplyEntry reply,
                  MakeFn make, Made made = Made::kNode);
  // Runs `open` (a call that opens an fd), and once more each time it
  // fails with EMFILE or ENFILE while inode fds can be given back.
  template <typename OpenFn>
  auto WithFdRelief(OpenFn open) -> decltype(open());
  // Gives inode fds back: cached ones at once, or those of inodes the
  // kernel is asked to forget (waiting a moment for its FORGETs). False
  // when there is nothing to give.
  bool RelieveFds();
  // Asks the kernel to drop inodes once fd-held ones near the budget.
  void PruneIfDue();
  // `viewer`: the caller's uid, for the policy's views.
  fusekit::Entry MakeEntry(const std::shared_ptr<Inode>& inode, const struct stat& st,
                           uid_t viewer);
  // Who asks, for the policy's views; with realistic-permissions also what
  // the daemon's own credentials may do with the file (of `fd`, or of
  // `inode`, pinned for it).
  Policy::Viewer ViewerFor(uid_t uid, int fd) const;
  Policy::Viewer ViewerFor(uid_t uid, Inode& inode);
  // The timeouts in force: an hour while SOURCE's changes reach the kernel
  // through the watcher (CachesCoherent), unless given; else the options'.
  fusekit::Timeout EntryTimeout() const;
  fusekit::Timeout AttrTimeout() const;
  fusekit::Timeout NegativeTimeout() const;
  // Starts watching SOURCE (Init); false when -o watch= asked for a back
  // end that cannot run (`status` says why, or how it watches).
  bool StartWatching(std::string& status);

  // Opens the file behind `anchor` (an O_PATH fd of it) with `flags`.
  fusekit::Result<fusekit::UniqueFd> Reopen(int anchor, int flags);
  // Counts an open of `inode` (pinned as `anchor`); returns the backing id
  // its open must carry, or nullopt when the daemon serves its I/O.
  std::optional<fusekit::BackingId> AttachOpen(Inode& inode, int anchor, int open_flags);
  // Guards an inode's open state (open_count, backing, passthrough_refused,
  // page_cache_stamp): one of a few mutexes, so that an inode pays none.
  std::mutex& OpenLock(const Inode& inode) const {
    return open_locks_[inode.id.value % open_locks_.size()];
  }
  void DetachOpen(Inode& inode);
  // Drops the kept backing file of `node`, unless it is open again.
  void DropKeptBacking(fusekit::NodeId node);
  void DropBacking(Inode& inode);
  // SOURCE changed `node`'s attributes or deleted its name behind the
  // mount, or (nullopt) may have changed anything.
  void ChangedBehindMount(std::optional<fusekit::NodeId> node);
  fusekit::FileHandle AddOpenFile(std::shared_ptr<Inode> inode, fusekit::UniqueFd fd,
                                  bool passthrough_writable);
  // After writes the kernel did not see (mmap through a backing file).
  void InvalidateAttributes(const OpenFile& file);
  // Also notes the calling thread as one of the daemon's (so does Pin).
  std::shared_ptr<OpenFile> GetOpenFile(fusekit::FileHandle fh);
  std::shared_ptr<OpenDirectory> GetOpenDirectory(fusekit::FileHandle fh) const;
  // A directory stream of `ctx.node()`, opened as the caller.
  fusekit::Result<std::shared_ptr<OpenDirectory>> OpenDirectoryStream(const fusekit::Context& ctx);
  // The stream a READDIR or FSYNCDIR works on: its OPENDIR's, or, without
  // OPENDIR (no_opendir_), one opened for this call.
  fusekit::Result<std::shared_ptr<OpenDirectory>> DirectoryFor(const fusekit::Context& ctx,
                                                              fusekit::FileHandle fh);
  // The options of a file open with `flags`, through a backing file or not.
  fusekit::OpenOptions FileOpenOptions(int flags, bool passthrough) const;
  // Whether the kernel may keep what it cached of `inode` (a file's pages
  // or a directory's listing), open as `fd` by the daemon (cache=auto).
  bool PageCacheStillValid(Inode& inode, int fd);
  // The flags the daemon opens a file with for an open(2) with `flags`.
  int DaemonOpenFlags(int flags) const;

  // Finishes a CREATE or TMPFILE whose file is open as `fd`.
  void ReplyCreated(fusekit::UniqueFd fd, int flags, uid_t viewer, fusekit::ReplyCreate reply);

  std::unique_ptr<InodeStore> inodes_;
  const std::string inode_status_;  // for the startup line
  const FsOptions options_;
  const Policy policy_;
  const SourceTraits source_;
  const fusekit::Timeout entry_timeout_;
  const fusekit::Timeout attr_timeout_;
  const fusekit::Timeout negative_timeout_;
  std::shared_ptr<const fusekit::UniqueFd> device_;  // set by Init, before any request
  fusekit::Notifier notifier_;                        // set by Init, before any request
  std::shared_ptr<const fusekit::Stats> session_stats_;  // set by Init, before any request
  std::atomic<bool> passthrough_active_{false};
  bool writeback_active_ = false;  // set by Init, before any request
  bool kernel_checks_ = false;      // from the options; Init adds POSIX ACLs
  bool acls_active_ = false;        // set by Init, before any request
  // The kernel hands modes over unmasked, with the caller's umask
  // (FUSE_DONT_MASK): the daemon applies it (see CallerUmask).
  bool masks_modes_ = false;        // set by Init, before any request
  // Workers that may wait for FORGETs at once (RelieveFds), leaving one to
  // read them; set by Init.
  unsigned forget_readers_ = 0;
  std::atomic<unsigned> fd_waiters_{0};
  std::string passthrough_refusal_;  // why INIT did not give passthrough
  std::string watch_status_;         // for the startup line
  std::unique_ptr<Coherence> coherence_;  // set by Init, before any request
  DaemonThreads threads_;  // those that served a request: their changes are the kernel's
  // With a fanotify watcher: OPENDIR answers ENOSYS, which makes the kernel
  // stop sending OPENDIR and RELEASEDIR and keep listings cached until the
  // watcher drops them; READDIR then comes with no file handle.
  bool no_opendir_ = false;  // set by Init, before any request
  InitCallback on_init_;
  FsCounters counters_;
  KeptBackings kept_backings_;
  ListingAdvisor listing_advisor_;

  mutable std::array<std::mutex, 64> open_locks_;
  mutable std::mutex handles_mutex_;
  uint64_t next_handle_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<OpenFile>> files_;
  std::unordered_map<uint64_t, std::shared_ptr<OpenDirectory>> dirs_;
};

template <typename OpenFn>
auto PassthroughFs::WithFdRelief(OpenFn open) -> decltype(open()) {
  // Bounded: each round either frees fds or gives up.
  for (int round = 0;; ++round) {
    auto result = open();
    if (result || round == 4) return result;
    if (result.error() != fusekit::Errno(EMFILE) && result.error() != fusekit::Errno(ENFILE))
      return result;
    if (!RelieveFds()) return result;
  }
}

}  // namespace passthroughfs
