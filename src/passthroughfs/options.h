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

// Checks what must hold before mounting (SOURCE a directory, MOUNTPOINT a
// directory that is empty unless -o nonempty and not already a mount
// point); returns an error message, empty when all is well.
std::string CheckPaths(const CommandLine& cl);

}  // namespace passthroughfs
