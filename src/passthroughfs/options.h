// The passthroughfs command line: `passthroughfs [options] SOURCE MOUNTPOINT`.
#pragma once

#include <string>

#include "fs_options.h"
#include "fusekit/mount.h"

namespace passthroughfs {

struct CommandLine {
  std::string source;
  std::string mountpoint;
  bool foreground = false;
  bool debug = false;
  FsOptions fs;
  fusekit::MountOptions mount;
  bool fsname_given = false;  // -o fsname=...; else fsname is SOURCE's absolute path
  // -o remount (mount(8) on `mount -o remount`): change the mount already at
  // MOUNTPOINT instead of making one.
  bool remount = false;
  bool atime_given = false;  // an atime option was among the -o items
};

// Either the parsed command line, or the exit code to leave with at once
// (0 after --help/--version, 2 after a usage error, which it has printed).
struct ParseOutcome {
  CommandLine command_line;
  int exit_code = -1;  // -1: go on
};

ParseOutcome ParseCommandLine(int argc, char** argv);

// Applies one `-o` item that is not a mount option; false if unknown or
// malformed (with `error` set).
bool ApplyFsOption(const std::string& item, FsOptions& fs, std::string& error);

// Options that mount(8), mount.fuse3 and /etc/fstab pass along and that
// mean nothing to the filesystem itself (defaults, noauto, _netdev, x-*...).
bool IsIgnoredMountOption(const std::string& item);

// Checks what must hold before mounting: SOURCE a directory; MOUNTPOINT a
// directory, not already a mount point, not inside SOURCE (the daemon would
// walk into its own mount), and empty unless -o nonempty. On success makes
// both paths absolute and canonical (the daemon leaves its working
// directory; the unmount at exit needs the absolute path) and sets the
// default fsname. Returns an error message naming the path, empty when all
// is well.
std::string CheckPaths(CommandLine& cl);

}  // namespace passthroughfs
