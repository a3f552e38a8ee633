// What a passthroughfs mount is asked to do, once the command line is parsed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "fusekit/mount.h"
#include "policy.h"

namespace passthroughfs {

enum class PassthroughMode {
  kAuto,    // use kernel passthrough where the kernel allows, per file
  kAlways,  // refuse to start without it
  kNever,   // serve all I/O in the daemon
};

enum class CacheMode {
  kAuto,    // timeouts as given (default 1 s), page cache kept while unchanged
  kAlways,  // long timeouts (1 day), page cache always kept
  kNever,   // timeouts 0, direct I/O in the daemon path: every change in SOURCE seen at once
};

enum class ReaddirplusMode { kAuto, kYes, kNo };

enum class InodeHandles { kAuto, kAlways, kNever };

// How SOURCE is watched for changes made beside the mount (see Coherence).
enum class WatchMode { kAuto, kFanotify, kInotify, kOff };

inline constexpr unsigned kDefaultBusyPollUs = 50;
inline constexpr size_t kDefaultKeptBackings = 16384;

struct FsOptions {
  PolicyOptions policy;  // bindfs-style views and rules (policy.h)
  // -o audit=PATH: the file every change through the mount is recorded in
  // (AuditedFs); empty: none. -o audit-required: changes fail with EIO
  // while it cannot be written.
  std::string audit_path;
  bool audit_required = false;
  // -o lock-forwarding: POSIX locks and flock taken on SOURCE as well
  // (LockForwardingFs); by default the kernel keeps them, for the mount.
  bool lock_forwarding = false;
  PassthroughMode passthrough = PassthroughMode::kAuto;
  bool direct_io = false;  // read/write through the daemon, mmap through the backing file
  CacheMode cache = CacheMode::kAuto;
  std::optional<double> entry_timeout;     // seconds; default follows `cache`
  std::optional<double> attr_timeout;
  std::optional<double> negative_timeout;
  bool writeback = false;  // only without passthrough: the kernel drops passthrough otherwise
  bool splice = true;      // nosplice turns it off
  ReaddirplusMode readdirplus = ReaddirplusMode::kAuto;
  std::optional<uint32_t> max_stack_depth;  // default: 2 over a stacked fs, else 1
  unsigned threads = 0;                     // 0: one per core, at least 2
  // How long a worker reads /dev/fuse without sleeping after a request,
  // while requests come close together (fusekit::Config::busy_poll).
  unsigned busy_poll_us = kDefaultBusyPollUs;
  // Inodes that keep their backing file registered after their last close
  // (KeptBackings); 0: none.
  size_t keep_backing = kDefaultKeptBackings;
  // Extended attributes through the mount; off (-o xattr=off): none, and
  // no GETXATTR round trip before the first write of each new file.
  bool xattrs = true;
  bool clone_fd = true;
  bool io_uring = false;  // FUSE-over-io_uring, when the kernel's enable_uring allows it
  bool single_threaded = false;             // -s
  bool default_permissions = false;
  bool no_default_permissions = false;  // keep it off even with allow_other
  bool allow_other = false;
  // A bindfs option was given (force-user=, perms=, delete-deny, ...):
  // allow_other then follows bindfs's default (CommandLine), unless
  // no-allow-other (bindfs's spelling) says otherwise.
  bool policy_given = false;
  bool no_allow_other = false;
  bool read_only = false;
  // POSIX ACLs enforced by the kernel where SOURCE has them: -o acl, -o
  // noacl; unset, on when the kernel checks permissions anyway
  // (default_permissions, which allow_other implies). Default ACLs are
  // inherited as natively either way.
  std::optional<bool> acl;
  // How inodes are held: by source handle where the filesystem and the
  // daemon's capabilities allow (auto), always (or refuse to start), or by
  // an fd each (never).
  InodeHandles inode_handles = InodeHandles::kAuto;
  // Inode fds at most (the cache's size by handle; where pruning starts by
  // fd). Default: half of RLIMIT_NOFILE, the rest left for open files.
  std::optional<size_t> fd_cache;
  // With cache=auto: watch SOURCE, so that the kernel's caches may live an
  // hour and still show every change made beside the mount at once.
  WatchMode watch = WatchMode::kAuto;
  // How reads through the mount update atime in SOURCE (the mount's atime
  // options): see SourceView.
  fusekit::Atime atime = fusekit::Atime::kRelatime;
  bool nodiratime = false;
};

}  // namespace passthroughfs
