// The mount's control interface: extended attributes of the mount's root
// that the daemon answers itself instead of passing them to SOURCE.
//
//   user.passthroughfs.stats   the live statistics, as text (see
//                              fusekit::FormatStats, then `passthroughfs`
//                              lines of the daemon's own state)
//
// They are read with getxattr(2) by anyone the kernel lets read the root's
// extended attributes; setting or removing one answers EPERM; listxattr
// does not list them, so copies of the root (cp -a, rsync -X) leave them
// out. A SOURCE attribute of the same name is hidden behind them.
#pragma once

#include <string_view>

#include "fusekit/types.h"

namespace passthroughfs {

inline constexpr std::string_view kStatsXattr = "user.passthroughfs.stats";

// Whether `name` on `node` is answered by the daemon.
inline bool IsControlXattr(fusekit::NodeId node, std::string_view name) {
  return node == fusekit::kRootNode && name == kStatsXattr;
}

}  // namespace passthroughfs
