// Small helpers shared by the passthroughfs operation files.
#pragma once

#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include "fusekit/operations.h"

namespace passthroughfs {

// "/proc/self/fd/N": reopens or names exactly the inode behind an O_PATH fd,
// whatever has been renamed since.
inline std::string ProcPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// A name the daemon may resolve in one step: no separator, not "." or "..".
inline bool IsPlainName(std::string_view name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find('/') == std::string_view::npos;
}

// Acts as the caller for the syscalls in its scope: the thread's filesystem
// uid/gid become the caller's, so what is created belongs to the caller
// (setgid directories still decide the group, as natively). Linux
// credentials are per thread, and glibc's setfsuid/setfsgid change only the
// calling thread. A no-op unless the daemon is root.
//
// With `kernel_checked` (default_permissions: the kernel has already checked
// access with the caller's full credentials, supplementary groups included)
// the capabilities that a non-zero fsuid drops are raised again, so the
// daemon does not check a second time with fewer groups than the caller
// has. Without it, the checks are the source filesystem's, made as the
// caller's uid and primary gid only.
class AsCaller {
 public:
  AsCaller(const fusekit::Context& ctx, bool kernel_checked)
      : active_(::geteuid() == 0 && (ctx.uid() != 0 || ctx.gid() != 0)) {
    if (!active_) return;
    ::setfsgid(ctx.gid());
    ::setfsuid(ctx.uid());
    if (kernel_checked) RaiseFsCapabilities();
  }
  ~AsCaller() {
    if (!active_) return;
    // fsuid back to 0 restores the filesystem capabilities by itself.
    ::setfsuid(0);
    ::setfsgid(0);
  }
  AsCaller(const AsCaller&) = delete;
  AsCaller& operator=(const AsCaller&) = delete;

 private:
  static void RaiseFsCapabilities() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2];
    if (::syscall(SYS_capget, &header, data) != 0) return;
    for (auto& d : data) d.effective = d.permitted;
    (void)::syscall(SYS_capset, &header, data);
  }

  bool active_;
};

}  // namespace passthroughfs
