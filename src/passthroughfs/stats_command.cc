#include "stats_command.h"

#include <sys/xattr.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "control.h"

namespace passthroughfs {

namespace {

constexpr char kUsage[] =
    "usage: passthroughfs stats MOUNTPOINT\n"
    "Prints the statistics of the passthroughfs mount at MOUNTPOINT: requests,\n"
    "errors and the daemon's latency per FUSE opcode, errors by errno,\n"
    "notifications, and the daemon's opens, backing files, inodes and fds.\n";

}  // namespace

int StatsCommand(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.size() == 1 && (args[0] == "-h" || args[0] == "--help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args.size() != 1 || args[0].starts_with('-')) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string mountpoint(args[0]);
  std::string name(kStatsXattr);
  // Larger than any answer: one call, no size probe to race with.
  std::vector<char> buffer(65536);
  ssize_t n = ::getxattr(mountpoint.c_str(), name.c_str(), buffer.data(), buffer.size());
  if (n < 0) {
    int e = errno;
    if (e == ENODATA || e == ENOTSUP) {
      std::fprintf(stderr,
                   "passthroughfs stats: %s is not the root of a passthroughfs mount, or "
                   "one mounted with -o xattr=off (getxattr %s: %s)\n",
                   mountpoint.c_str(), name.c_str(), std::strerror(e));
    } else {
      std::fprintf(stderr, "passthroughfs stats: %s: getxattr %s: %s\n", mountpoint.c_str(),
                   name.c_str(), std::strerror(e));
    }
    return 1;
  }
  std::fwrite(buffer.data(), 1, static_cast<size_t>(n), stdout);
  return 0;
}

}  // namespace passthroughfs
