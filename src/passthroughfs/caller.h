// AsCaller: the daemon acting for the process that made a request.
//
// Thread-safety: an AsCaller changes only the calling thread's credentials
// (Linux credentials are per thread; the raw syscalls used here, unlike
// glibc's setfsuid wrappers on some libcs, never broadcast), and restores
// them when it goes out of scope. Never move one to another thread.
#pragma once

#include <sys/types.h>

#include "fusekit/operations.h"

namespace passthroughfs {

// For the syscalls in its scope, the thread's filesystem uid/gid become the
// caller's, so that what is created belongs to the caller (setgid
// directories still decide the group, as natively). The daemon keeps no
// supplementary groups of its own (PassthroughFs::Create drops them), so
// the source filesystem sees the caller's primary group only. A no-op
// unless the daemon runs as root.
//
// `kernel_checked` (default_permissions: the kernel has already checked
// access with the caller's full credentials, supplementary groups
// included): the capabilities a non-zero fsuid drops are raised again, so
// that the daemon does not check a second time with fewer groups than the
// caller has. Without it the source filesystem checks, as the caller's uid
// and primary gid.
//
// `setid`: whether the thread holds CAP_FSETID, which decides whether the
// call may keep setuid/setgid bits it would otherwise clear. The source
// filesystem applies its own rules with it: a write, truncate or fallocate
// by a caller without it clears setuid, and setgid where the caller's group
// says so, exactly as natively.
enum class Setid {
  // The kernel applied the rule with the caller's full credentials (the
  // mode of a new file, chmod, with default_permissions), or the call
  // clears nothing: kept then, and for root.
  kAsChecked,
  // The kernel said the caller lacks CAP_FSETID (FUSE_WRITE_KILL_SUIDGID
  // and its kin): cleared, for root too.
  kClear,
  // The kernel said nothing of the caller's CAP_FSETID (fallocate,
  // copy_file_range, chown): root is taken to hold it, others not.
  kRootKeeps,
};

class AsCaller {
 public:
  AsCaller(const fusekit::Context& ctx, bool kernel_checked, Setid setid = Setid::kAsChecked);
  ~AsCaller();
  AsCaller(const AsCaller&) = delete;
  AsCaller& operator=(const AsCaller&) = delete;

 private:
  bool switched_ids_ = false;  // fsuid/fsgid changed
  bool changed_caps_ = false;  // effective capabilities changed with fsuid still 0
};

// For the syscalls in its scope, the thread lacks CAP_FSETID: what the
// kernel records of its credentials then (a backing file registered with
// FUSE_DEV_IOC_BACKING_OPEN, whose writes run with them) clears setuid and
// setgid on write as for an unprivileged writer. A no-op unless root.
class WithoutFsetid {
 public:
  WithoutFsetid();
  ~WithoutFsetid();
  WithoutFsetid(const WithoutFsetid&) = delete;
  WithoutFsetid& operator=(const WithoutFsetid&) = delete;

 private:
  bool changed_ = false;
};

// For the syscalls in its scope, the thread's umask is the caller's. With
// POSIX ACLs the kernel hands modes over unmasked, with the caller's umask
// beside them (FUSE_DONT_MASK), because a directory's default ACL replaces
// the umask: the source filesystem then applies one or the other, as
// natively. The thread's filesystem context (cwd, root, umask) is unshared
// (CLONE_FS) at its first use, so that the umask is the thread's own.
// Inactive (the kernel masked already), it changes nothing.
class CallerUmask {
 public:
  CallerUmask(bool active, mode_t umask);
  ~CallerUmask();
  CallerUmask(const CallerUmask&) = delete;
  CallerUmask& operator=(const CallerUmask&) = delete;

  // The mode to create with: `mode` itself, or masked here should the
  // thread have no umask of its own (default ACLs are then not honoured).
  mode_t Mode(mode_t mode) const { return masked_here_ ? mode & ~umask_ : mode; }

 private:
  bool set_ = false;
  bool masked_here_ = false;
  mode_t umask_ = 0;
};

// Drops the process's supplementary groups when it runs as root, so that
// callers acting through AsCaller never gain the daemon's groups. Returns
// false if that failed.
bool DropSupplementaryGroups();

}  // namespace passthroughfs
