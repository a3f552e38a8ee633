#include "caller.h"

#include <grp.h>
#include <sched.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace passthroughfs {
namespace {

constexpr unsigned kFsetidWord = CAP_FSETID / 32;
constexpr uint32_t kFsetidBit = 1u << (CAP_FSETID % 32);

struct Caps {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  bool Get() { return ::syscall(SYS_capget, &header, data) == 0; }
  bool Set() { return ::syscall(SYS_capset, &header, data) == 0; }
};

// The thread's effective set becomes its permitted set, with or without
// CAP_FSETID.
void SetEffective(bool with_fsetid) {
  Caps caps;
  if (!caps.Get()) return;
  for (auto& d : caps.data) d.effective = d.permitted;
  if (!with_fsetid) caps.data[kFsetidWord].effective &= ~kFsetidBit;
  (void)caps.Set();
}

// setfsuid/setfsgid as raw syscalls: per thread, whatever the libc does.
void SetFsUid(uid_t uid) { (void)::syscall(SYS_setfsuid, uid); }
void SetFsGid(gid_t gid) { (void)::syscall(SYS_setfsgid, gid); }

}  // namespace

AsCaller::AsCaller(const fusekit::Context& ctx, bool kernel_checked, Setid setid) {
  if (::geteuid() != 0) return;
  const bool keeps_setid = setid == Setid::kAsChecked ? kernel_checked || ctx.uid() == 0
                           : setid == Setid::kRootKeeps ? ctx.uid() == 0
                                                        : false;
  if (ctx.uid() != 0 || ctx.gid() != 0) {
    SetFsGid(ctx.gid());
    SetFsUid(ctx.uid());
    switched_ids_ = true;
  }
  if (ctx.uid() == 0) {
    // fsuid 0 keeps every capability: only CAP_FSETID may have to go.
    if (!keeps_setid) {
      SetEffective(false);
      changed_caps_ = true;
    }
    return;
  }
  // A non-zero fsuid has dropped the filesystem capabilities (CAP_FSETID
  // among them); the destructor's fsuid 0 raises them again.
  if (kernel_checked) {
    SetEffective(keeps_setid);
  } else if (keeps_setid) {
    Caps caps;
    if (caps.Get()) {
      caps.data[kFsetidWord].effective |= caps.data[kFsetidWord].permitted & kFsetidBit;
      (void)caps.Set();
    }
  }
}

AsCaller::~AsCaller() {
  if (switched_ids_) {
    // fsuid back to 0 restores the filesystem capabilities by itself.
    SetFsUid(0);
    SetFsGid(0);
  }
  if (changed_caps_) SetEffective(true);
}

WithoutFsetid::WithoutFsetid() {
  if (::geteuid() != 0) return;
  SetEffective(false);
  changed_ = true;
}

WithoutFsetid::~WithoutFsetid() {
  if (changed_) SetEffective(true);
}

CallerUmask::CallerUmask(bool active, mode_t umask) : umask_(umask & 0777) {
  if (!active) return;
  // 1: unshared, -1: unshare failed (logged once per thread is enough).
  thread_local int own_fs = 0;
  if (own_fs == 0) own_fs = ::unshare(CLONE_FS) == 0 ? 1 : -1;
  if (own_fs < 0) {
    masked_here_ = true;
    return;
  }
  ::umask(umask_);
  set_ = true;
}

CallerUmask::~CallerUmask() {
  if (set_) ::umask(0);
}

bool DropSupplementaryGroups() {
  if (::geteuid() != 0) return true;
  return ::setgroups(0, nullptr) == 0;
}

}  // namespace passthroughfs
