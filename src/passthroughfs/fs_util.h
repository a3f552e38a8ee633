// Small helpers shared by the passthroughfs operation files.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "fusekit/operations.h"

namespace passthroughfs {

// "/proc/self/fd/N": reopens or names exactly the inode behind an O_PATH fd,
// whatever has been renamed since.
inline std::string ProcPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// The path /proc/self/fd shows for `fd` (" (deleted)" appended for a
// deleted file, as the kernel writes it).
fusekit::Result<std::string> FdPath(int fd);

// A name the daemon may resolve in one step: no separator, not "." or "..".
inline bool IsPlainName(std::string_view name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find('/') == std::string_view::npos;
}

// Whether the directory `dir` is the directory (root_dev, root_ino) or below
// it: its ancestors, reached with fstatat(dir, "..", "../..", ...), meet
// that root before the top of the tree, where ".." leads back to where it
// is. Stats each ancestor by a relative path; opens nothing. (The paths
// /proc/self/fd shows would not do: in a detached mount they are relative
// to its root, and a directory moved out of it shows its filesystem's.)
bool WithinTree(int dir, dev_t root_dev, ino_t root_ino);

}  // namespace passthroughfs
