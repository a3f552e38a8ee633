// Small helpers shared by the passthroughfs operation files.
#pragma once

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

}  // namespace passthroughfs
