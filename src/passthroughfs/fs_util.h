// Small helpers shared by the passthroughfs operation files.
#pragma once

#include <sys/fsuid.h>
#include <unistd.h>

#include <string>
#include <string_view>

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
// uid/gid become the caller's, so permission checks and the owner of what
// is created are those of the caller. A no-op unless the daemon is root.
// Linux credentials are per thread, and glibc's setfsuid changes only the
// calling thread.
class AsCaller {
 public:
  AsCaller(uint32_t uid, uint32_t gid) : active_(::geteuid() == 0 && (uid != 0 || gid != 0)) {
    if (!active_) return;
    ::setfsgid(gid);
    ::setfsuid(uid);
  }
  ~AsCaller() {
    if (!active_) return;
    ::setfsuid(0);
    ::setfsgid(0);
  }
  AsCaller(const AsCaller&) = delete;
  AsCaller& operator=(const AsCaller&) = delete;

 private:
  bool active_;
};

}  // namespace passthroughfs
