#include "options.h"

#include <dirent.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace passthroughfs {

namespace {

constexpr const char* kVersion = "passthroughfs 0.1.0 (fusekit, FUSE protocol 7.45)";

bool ParseDouble(const std::string& text, double& out) {
  try {
    size_t used = 0;
    out = std::stod(text, &used);
    return used == text.size() && out >= 0;
  } catch (...) {
    return false;
  }
}

bool ParseUnsigned(const std::string& text, unsigned& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size();
}

// Options that mount(8), mount.fuse3 and /etc/fstab pass along and that
// mean nothing to the filesystem itself.
bool IsIgnoredMountOption(const std::string& key) {
  static const char* const kIgnored[] = {"defaults", "auto", "noauto", "user", "nouser",
                                         "users",    "_netdev", "nofail", "relatime",
                                         "strictatime", "lazytime", "async", "sync"};
  for (const char* k : kIgnored)
    if (key == k) return true;
  return key.rfind("x-", 0) == 0 || key.rfind("comment=", 0) == 0;
}

bool IsMountPoint(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) return false;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point == resolved) return true;
  }
  return false;
}

}  // namespace

bool ApplyFsOption(const std::string& item, FsOptions& fs, std::string& error) {
  auto eq = item.find('=');
  std::string key = item.substr(0, eq);
  std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
  bool has_value = eq != std::string::npos;
  auto bad = [&] {
    error = "bad value in -o " + item;
    return false;
  };
  if (key == "passthrough") {
    if (value == "auto") fs.passthrough = PassthroughMode::kAuto;
    else if (value == "always") fs.passthrough = PassthroughMode::kAlways;
    else if (value == "never") fs.passthrough = PassthroughMode::kNever;
    else return bad();
  } else if (key == "cache") {
    if (value == "auto") fs.cache = CacheMode::kAuto;
    else if (value == "always") fs.cache = CacheMode::kAlways;
    else if (value == "never") fs.cache = CacheMode::kNever;
    else return bad();
  } else if (key == "readdirplus") {
    if (value == "auto") fs.readdirplus = ReaddirplusMode::kAuto;
    else if (value == "yes") fs.readdirplus = ReaddirplusMode::kYes;
    else if (value == "no") fs.readdirplus = ReaddirplusMode::kNo;
    else return bad();
  } else if (key == "entry_timeout" || key == "attr_timeout" || key == "negative_timeout") {
    double seconds;
    if (!ParseDouble(value, seconds)) return bad();
    (key == "entry_timeout"  ? fs.entry_timeout
     : key == "attr_timeout" ? fs.attr_timeout
                             : fs.negative_timeout) = seconds;
  } else if (key == "threads") {
    unsigned n;
    if (!ParseUnsigned(value, n) || n == 0 || n > 256) return bad();
    fs.threads = n;
  } else if (key == "max_stack_depth") {
    unsigned n;
    if (!ParseUnsigned(value, n) || n < 1 || n > 2) return bad();
    fs.max_stack_depth = n;
  } else if (!has_value && key == "direct_io") {
    fs.direct_io = true;
  } else if (!has_value && key == "writeback") {
    fs.writeback = true;
  } else if (!has_value && key == "nosplice") {
    fs.splice = false;
  } else if (!has_value && key == "clone_fd") {
    fs.clone_fd = true;
  } else if (!has_value && key == "noclone_fd") {
    fs.clone_fd = false;
  } else if (!has_value && key == "no_default_permissions") {
    fs.no_default_permissions = true;
  } else {
    error = "unknown option -o " + item;
    return false;
  }
  return true;
}

ParseOutcome ParseCommandLine(int argc, char** argv) {
  ParseOutcome out;
  CommandLine& cl = out.command_line;
  CLI::App app(
      "passthroughfs: mirrors SOURCE at MOUNTPOINT through FUSE, file I/O through kernel "
      "passthrough.\nSee README.md for every -o option.");
  std::vector<std::string> option_lists;
  bool single_threaded = false;
  app.add_option("SOURCE", cl.source, "the directory to mirror")->required();
  app.add_option("MOUNTPOINT", cl.mountpoint, "where to mount it")->required();
  app.add_option("-o", option_lists,
                 "comma-separated options: mount options (allow_other, default_permissions, "
                 "ro, fsname=, nonempty, ...) and passthrough=auto|always|never, direct_io, "
                 "cache=auto|always|never, entry_timeout=, attr_timeout=, negative_timeout=, "
                 "writeback, threads=N, clone_fd, max_stack_depth=1|2, nosplice, "
                 "readdirplus=yes|no|auto")
      ->allow_extra_args(false);
  app.add_flag("-f,--foreground", cl.foreground, "stay in the foreground");
  app.add_flag("-d,--debug", cl.debug, "print every request and reply (implies -f)");
  app.add_flag("-s", single_threaded, "serve with one thread");
  app.set_version_flag("-V,--version", kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    out.exit_code = app.exit(e) == 0 ? 0 : 2;
    return out;
  }
  if (cl.debug) cl.foreground = true;
  cl.fs.single_threaded = single_threaded;
  cl.mount.fsname = cl.source;
  cl.mount.subtype = "passthroughfs";

  for (const auto& list : option_lists) {
    auto rest = cl.mount.Parse(list);
    if (!rest) {
      std::fprintf(stderr, "passthroughfs: bad mount option in -o %s\n", list.c_str());
      out.exit_code = 2;
      return out;
    }
    for (const auto& item : *rest) {
      if (IsIgnoredMountOption(item)) continue;
      std::string error;
      if (!ApplyFsOption(item, cl.fs, error)) {
        std::fprintf(stderr, "passthroughfs: %s\n", error.c_str());
        out.exit_code = 2;
        return out;
      }
    }
  }
  if (cl.fs.writeback && cl.fs.passthrough != PassthroughMode::kNever) {
    std::fprintf(stderr,
                 "passthroughfs: -o writeback needs -o passthrough=never (the kernel silently "
                 "drops passthrough when writeback cache is on)\n");
    out.exit_code = 2;
    return out;
  }
  // Other users must not bypass the source's permissions through the
  // daemon's (root) credentials.
  if (cl.mount.allow_other && !cl.fs.no_default_permissions) cl.mount.default_permissions = true;
  cl.fs.default_permissions = cl.mount.default_permissions;
  cl.fs.allow_other = cl.mount.allow_other;
  cl.fs.read_only = cl.mount.read_only;
  return out;
}

std::string CheckPaths(const CommandLine& cl) {
  struct stat st;
  if (::stat(cl.source.c_str(), &st) != 0)
    return "SOURCE " + cl.source + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "SOURCE " + cl.source + ": not a directory";
  if (::stat(cl.mountpoint.c_str(), &st) != 0)
    return "MOUNTPOINT " + cl.mountpoint + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "MOUNTPOINT " + cl.mountpoint + ": not a directory";
  if (IsMountPoint(cl.mountpoint))
    return "MOUNTPOINT " + cl.mountpoint + ": busy (already a mount point)";
  if (!cl.mount.nonempty) {
    DIR* dir = ::opendir(cl.mountpoint.c_str());
    if (dir == nullptr) return "MOUNTPOINT " + cl.mountpoint + ": " + std::strerror(errno);
    bool empty = true;
    while (dirent* e = ::readdir(dir)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
    }
    ::closedir(dir);
    if (!empty)
      return "MOUNTPOINT " + cl.mountpoint + ": not empty (use -o nonempty to mount over it)";
  }
  return "";
}

}  // namespace passthroughfs
