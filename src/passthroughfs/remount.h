// `mount -o remount,...` of a passthroughfs mount: mount(8) runs the helper
// again with "remount" among the options, and the mount already at
// MOUNTPOINT is changed in place (MS_REMOUNT) rather than made anew.
#pragma once

#include "options.h"

namespace passthroughfs {

// Applies the per-mount flags of `cl` (ro/rw, nosuid, nodev, noexec) to the
// passthroughfs mount at cl.mountpoint. What a running mount cannot change
// (its atime options, which the daemon's view of SOURCE follows;
// allow_other; default_permissions) is refused with a message if asked for.
// Returns the exit code: 0 done, 2 a usage error, 1 the remount failed.
int Remount(const CommandLine& cl);

}  // namespace passthroughfs
