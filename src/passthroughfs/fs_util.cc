#include "fs_util.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

namespace passthroughfs {

fusekit::Result<std::string> FdPath(int fd) {
  char path[PATH_MAX];
  ssize_t n = ::readlink(ProcPath(fd).c_str(), path, sizeof(path));
  if (n < 0) return fusekit::FailLast();
  return std::string(path, static_cast<size_t>(n));
}

bool WithinTree(int dir, dev_t root_dev, ino_t root_ino) {
  auto is_root = [&](const struct stat& st) { return st.st_dev == root_dev && st.st_ino == root_ino; };
  struct stat st;
  if (::fstatat(dir, "", &st, AT_EMPTY_PATH) != 0) return false;
  if (is_root(st)) return true;
  std::string up;
  for (int depth = 1; up.size() + 3 < PATH_MAX; ++depth) {
    up += depth == 1 ? ".." : "/..";
    struct stat parent;
    if (::fstatat(dir, up.c_str(), &parent, AT_SYMLINK_NOFOLLOW) != 0) return false;
    if (is_root(parent)) return true;
    if (parent.st_dev == st.st_dev && parent.st_ino == st.st_ino) return false;
    st = parent;
  }
  return false;
}

}  // namespace passthroughfs
