// `passthroughfs stats MOUNTPOINT`: prints a running mount's statistics
// (the root's user.passthroughfs.stats, see control.h).
#pragma once

namespace passthroughfs {

// argv[0] is "stats". Returns the process's exit code: 0, 1 when the
// statistics cannot be read (with a message naming the path and errno),
// 2 for a bad command line.
int StatsCommand(int argc, char** argv);

}  // namespace passthroughfs
