// /proc/self/mountinfo, parsed once for everyone who needs to know what is
// mounted where (the mount's connection id, "is this already a mount
// point", test teardown). Reading it never touches the mounts themselves,
// so it cannot hang on a dead FUSE server.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fusekit {

struct MountInfoEntry {
  unsigned id = 0;         // the mount's id (as in /proc/PID/fdinfo's mnt_id)
  unsigned parent_id = 0;  // the mount it is mounted on
  unsigned major = 0;
  unsigned minor = 0;  // for FUSE: the connection's number under fusectl
  std::string point;   // unescaped
  std::string mount_options;  // per mount: rw, nosuid, ...
  std::string fstype;
  std::string source;         // unescaped
  std::string super_options;  // the filesystem's own: user_id=, allow_other, ...
};

// Every mount of this process's namespace, oldest first.
std::vector<MountInfoEntry> ReadMountInfo();

// The topmost mount exactly at `canonical_path` (absolute, symlink-free).
std::optional<MountInfoEntry> FindMount(const std::string& canonical_path);

// The id of the mount `fd` is on (its fdinfo's mnt_id), 0 if unknown.
// Reads /proc only: never touches the filesystem behind `fd`.
unsigned MountIdOf(int fd);

}  // namespace fusekit
