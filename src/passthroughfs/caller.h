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
// `keeps_setid`: whether the caller may keep setuid/setgid bits that the
// call would otherwise clear (CAP_FSETID). The source filesystem applies
// its own rules with it: a write, truncate or fallocate by a caller without
// it clears setuid, and setgid where the caller's group says so, exactly
// as natively. Where the kernel already applied the rule with the caller's
// full credentials (the mode of a new file, chmod with default
// permissions) pass `kernel_checked`; where it left the decision to the
// server (FUSE_WRITE_KILL_SUIDGID and its kin), pass what it said.
class AsCaller {
 public:
  AsCaller(const fusekit::Context& ctx, bool kernel_checked, bool keeps_setid);
  // The usual case: the call clears nothing, or the kernel has decided
  // already (with default_permissions); else root is taken to hold
  // CAP_FSETID and others not.
  AsCaller(const fusekit::Context& ctx, bool kernel_checked)
      : AsCaller(ctx, kernel_checked, kernel_checked || ctx.uid() == 0) {}
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

// Drops the process's supplementary groups when it runs as root, so that
// callers acting through AsCaller never gain the daemon's groups. Returns
// false if that failed.
bool DropSupplementaryGroups();

}  // namespace passthroughfs
