#include "remount.h"

#include <limits.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "fusekit/mountinfo.h"

namespace passthroughfs {
namespace {

bool HasItem(const std::string& list, const std::string& item) {
  std::istringstream items(list);
  std::string i;
  while (std::getline(items, i, ','))
    if (i == item) return true;
  return false;
}

// The absolute path of `path` without resolving its last component: a stat
// of the mount point itself would ask the daemon.
std::string AbsoluteMountPoint(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  auto slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  char resolved[PATH_MAX];
  if (::realpath(parent.c_str(), resolved) == nullptr) return path;
  std::string out = resolved;
  return out == "/" ? "/" + name : out + "/" + name;
}

int Refuse(const std::string& message) {
  std::fprintf(stderr, "passthroughfs: remount: %s\n", message.c_str());
  return 2;
}

}  // namespace

int Remount(const CommandLine& cl) {
  const std::string point = AbsoluteMountPoint(cl.mountpoint);
  auto mount = fusekit::FindMount(point);
  const std::string type = "fuse." + cl.mount.subtype;
  if (!mount || mount->fstype != type)
    return Refuse("MOUNTPOINT " + cl.mountpoint + " is not a " + type + " mount");

  fusekit::Atime atime = HasItem(mount->mount_options, "noatime")    ? fusekit::Atime::kNoatime
                         : HasItem(mount->mount_options, "relatime") ? fusekit::Atime::kRelatime
                                                                     : fusekit::Atime::kStrictatime;
  bool nodiratime = HasItem(mount->mount_options, "nodiratime");
  if (cl.atime_given && (cl.mount.atime != atime || cl.mount.nodiratime != nodiratime)) {
    return Refuse("the atime options of " + cl.mountpoint +
                  " cannot change while it is mounted (the daemon's view of SOURCE follows "
                  "them): unmount it and mount it again");
  }
  for (const char* option : {"allow_other", "default_permissions"}) {
    bool asked = std::string(option) == "allow_other" ? cl.mount.allow_other
                                                      : cl.mount.default_permissions;
    if (asked && !HasItem(mount->super_options, option)) {
      return Refuse(std::string(option) + " cannot be turned on while " + cl.mountpoint +
                    " is mounted: unmount it and mount it again");
    }
  }

  unsigned long flags = MS_REMOUNT;
  if (cl.mount.read_only) flags |= MS_RDONLY;
  if (cl.mount.nosuid) flags |= MS_NOSUID;
  if (cl.mount.nodev) flags |= MS_NODEV;
  if (cl.mount.noexec) flags |= MS_NOEXEC;
  flags |= atime == fusekit::Atime::kNoatime       ? MS_NOATIME
           : atime == fusekit::Atime::kStrictatime ? MS_STRICTATIME
                                                   : MS_RELATIME;
  if (nodiratime) flags |= MS_NODIRATIME;
  if (::mount(nullptr, point.c_str(), nullptr, flags, nullptr) != 0) {
    int e = errno;
    std::fprintf(stderr, "passthroughfs: remount %s: %s%s\n", cl.mountpoint.c_str(),
                 std::strerror(e),
                 e == EPERM ? " (remounting needs root)"
                 : e == EBUSY ? " (files are open for writing)"
                              : "");
    return 1;
  }
  return 0;
}

}  // namespace passthroughfs
