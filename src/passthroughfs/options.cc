#include "options.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "fusekit/log.h"
#include "fusekit/mountinfo.h"
#include "policy_options.h"

namespace passthroughfs {

namespace {

constexpr const char* kVersion = "passthroughfs 0.1.0 (fusekit, FUSE protocol 7.45)";

// Timeouts are sent as nanosecond durations: keep them far from overflow.
constexpr double kMaxTimeoutSeconds = 1e9;

bool ParseSeconds(const std::string& text, double& out) {
  // from_chars: no leading blanks or '+', no hex; "inf" and "nan" parse
  // but are refused below.
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && std::isfinite(out) &&
         out >= 0 && out <= kMaxTimeoutSeconds;
}

bool ParseUnsigned(const std::string& text, unsigned& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && p == text.data() + text.size();
}

// `canonical` is an absolute, symlink-free path.
bool IsMountPoint(const std::string& canonical) { return fusekit::FindMount(canonical).has_value(); }

bool IsInside(const std::string& path, const std::string& dir) {
  if (dir == "/") return path != "/";
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

// One item of a -o list through fusekit's mount option parser, which logs
// its own complaint; the caller prints one message of its own instead.
fusekit::Result<std::vector<std::string>> ParseMountItem(fusekit::MountOptions& mount,
                                                         const std::string& item) {
  auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::off);
  auto rest = mount.Parse(item);
  spdlog::set_level(level);
  return rest;
}

// /etc/fuse.conf has user_allow_other (fusermount3 then lets a user mount
// with allow_other).
bool FuseConfAllowsOther() {
  std::ifstream conf("/etc/fuse.conf");
  for (std::string line; std::getline(conf, line);) {
    auto start = line.find_first_not_of(" \t");
    if (start != std::string::npos && line.compare(start, 16, "user_allow_other") == 0) return true;
  }
  return false;
}

}  // namespace

bool IsIgnoredMountOption(const std::string& item) {
  static const char* const kIgnored[] = {
      "defaults", "auto",     "noauto",      "user",        "nouser",    "users",
      "owner",    "group",    "_netdev",     "nofail",      "lazytime",  "nolazytime",
      "async",    "sync",     "dirsync",     "silent",      "loud"};
  for (const char* k : kIgnored)
    if (item == k) return true;
  // x-systemd.*, x-gvfs-*: for userspace tools; comment=: fstab notes;
  // user=NAME: what mount(8) hands helpers for a `user` mount.
  return item.rfind("x-", 0) == 0 || item.rfind("comment=", 0) == 0 ||
         item.rfind("user=", 0) == 0;
}

bool ApplyFsOption(const std::string& item, FsOptions& fs, std::string& error) {
  auto eq = item.find('=');
  std::string key = item.substr(0, eq);
  std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
  bool has_value = eq != std::string::npos;
  auto bad = [&](const char* expected) {
    error = "bad value in -o " + item + " (" + expected + ")";
    return false;
  };
  if (key == "passthrough") {
    if (value == "auto") fs.passthrough = PassthroughMode::kAuto;
    else if (value == "always") fs.passthrough = PassthroughMode::kAlways;
    else if (value == "never") fs.passthrough = PassthroughMode::kNever;
    else return bad("auto, always or never");
  } else if (key == "cache") {
    if (value == "auto") fs.cache = CacheMode::kAuto;
    else if (value == "always") fs.cache = CacheMode::kAlways;
    else if (value == "never") fs.cache = CacheMode::kNever;
    else return bad("auto, always or never");
  } else if (key == "readdirplus") {
    if (value == "auto") fs.readdirplus = ReaddirplusMode::kAuto;
    else if (value == "yes") fs.readdirplus = ReaddirplusMode::kYes;
    else if (value == "no") fs.readdirplus = ReaddirplusMode::kNo;
    else return bad("yes, no or auto");
  } else if (key == "entry_timeout" || key == "attr_timeout" || key == "negative_timeout") {
    double seconds;
    if (!ParseSeconds(value, seconds)) return bad("seconds, 0 to 1e9");
    (key == "entry_timeout"  ? fs.entry_timeout
     : key == "attr_timeout" ? fs.attr_timeout
                             : fs.negative_timeout) = seconds;
  } else if (key == "inode_handles") {
    if (value == "auto") fs.inode_handles = InodeHandles::kAuto;
    else if (value == "always") fs.inode_handles = InodeHandles::kAlways;
    else if (value == "never") fs.inode_handles = InodeHandles::kNever;
    else return bad("auto, always or never");
  } else if (key == "watch") {
    if (value == "auto") fs.watch = WatchMode::kAuto;
    else if (value == "fanotify") fs.watch = WatchMode::kFanotify;
    else if (value == "inotify") fs.watch = WatchMode::kInotify;
    else if (value == "off") fs.watch = WatchMode::kOff;
    else return bad("auto, fanotify, inotify or off");
  } else if (key == "fd_cache") {
    unsigned n;
    if (!ParseUnsigned(value, n) || n < 8 || n > 100'000'000) return bad("8 to 100000000");
    fs.fd_cache = n;
  } else if (key == "threads") {
    unsigned n;
    if (!ParseUnsigned(value, n) || n == 0 || n > 256) return bad("1 to 256");
    fs.threads = n;
  } else if (key == "xattr") {
    if (value == "on") fs.xattrs = true;
    else if (value == "off") fs.xattrs = false;
    else return bad("on or off");
  } else if (key == "xattr-none") {
    // bindfs's spelling of xattr=off.
    if (has_value) return bad("takes no value");
    fs.xattrs = false;
  } else if (key == "audit") {
    if (value.empty()) return bad("a file's path");
    fs.audit_path = value;
  } else if (key == "lock-forwarding" || key == "enable-lock-forwarding" ||
             key == "disable-lock-forwarding") {
    // bindfs spells it enable-/disable-lock-forwarding.
    if (has_value) return bad("takes no value");
    fs.lock_forwarding = key != "disable-lock-forwarding";
  } else if (key == "no-allow-other") {
    if (has_value) return bad("takes no value");
    fs.no_allow_other = true;
  } else if (key == "audit-required") {
    if (has_value) return bad("takes no value");
    fs.audit_required = true;
  } else if (key == "keep_backing") {
    unsigned n;
    if (!ParseUnsigned(value, n) || n > 1'000'000) return bad("0 to 1000000");
    fs.keep_backing = n;
  } else if (key == "busy_poll") {
    unsigned us;
    if (!ParseUnsigned(value, us) || us > 10'000) return bad("microseconds, 0 to 10000");
    fs.busy_poll_us = us;
  } else if (key == "max_stack_depth") {
    unsigned n;
    if (!ParseUnsigned(value, n) || n < 1 || n > 2) return bad("1 or 2");
    fs.max_stack_depth = n;
  } else if (key == "direct_io" || key == "writeback" || key == "nosplice" ||
             key == "clone_fd" || key == "noclone_fd" || key == "no_default_permissions" ||
             key == "io_uring" || key == "acl" || key == "noacl") {
    if (has_value) return bad("takes no value");
    if (key == "direct_io") fs.direct_io = true;
    else if (key == "writeback") fs.writeback = true;
    else if (key == "nosplice") fs.splice = false;
    else if (key == "clone_fd") fs.clone_fd = true;
    else if (key == "noclone_fd") fs.clone_fd = false;
    else if (key == "io_uring") fs.io_uring = true;
    else if (key == "acl") fs.acl = true;
    else if (key == "noacl") fs.acl = false;
    else fs.no_default_permissions = true;
  } else {
    std::string expected;
    switch (ApplyPolicyOption(key, value, has_value, fs.policy, expected)) {
      case PolicyItem::kApplied:
        fs.policy_given = true;
        break;
      case PolicyItem::kBad: return bad(expected.c_str());
      case PolicyItem::kNotPolicy:
        error = "unknown option -o " + item + " (see --help)";
        return false;
    }
  }
  return true;
}

ParseOutcome ParseCommandLine(int argc, char** argv) {
  ParseOutcome out;
  CommandLine& cl = out.command_line;
  CLI::App app(
      "passthroughfs: mirrors SOURCE at MOUNTPOINT through FUSE, file I/O through kernel "
      "passthrough.\n'passthroughfs stats MOUNTPOINT' prints a mount's live statistics.\n"
      "passthroughfs(8) describes every option.",
      "passthroughfs");
  std::vector<std::string> option_lists;
  bool single_threaded = false;
  app.add_option("SOURCE", cl.source, "the directory to mirror")->required();
  app.add_option("MOUNTPOINT", cl.mountpoint, "where to mount it")->required();
  app.add_option("-o", option_lists,
                 "comma-separated options: mount options (allow_other, default_permissions, "
                 "ro, rw, fsname=, subtype=, nonempty, nosuid, nodev, noexec, noatime, "
                 "relatime, strictatime, nodiratime, remount, "
                 "max_read=, auto_unmount) and passthrough=auto|always|never, direct_io, "
                 "cache=auto|always|never, entry_timeout=, attr_timeout=, negative_timeout=, "
                 "writeback, threads=N, busy_poll=US, keep_backing=N, xattr=on|off, clone_fd, noclone_fd, max_stack_depth=1|2, nosplice, "
                 "readdirplus=yes|no|auto, no_default_permissions, io_uring, acl, noacl, "
                 "inode_handles=auto|always|never, fd_cache=N, watch=auto|fanotify|inotify|off; "
                 "bindfs's force-user=, force-group=, perms=, chown-normal|ignore|deny, "
                 "chgrp-normal|ignore|deny, chmod-normal|ignore|deny, delete-deny, rename-deny, "
                 "hide-hard-links, ctime-from-mtime, map=, uid-offset=, gid-offset=, chmod-filter=, "
                 "chmod-allow-x, xattr-none, xattr-ro, xattr-rw, create-as-user, create-as-mounter, "
                 "create-for-user=, create-for-group=, create-with-perms=, mirror=, mirror-only=, "
                 "realistic-permissions, lock-forwarding, enable-lock-forwarding, "
                 "disable-lock-forwarding, no-allow-other, audit=PATH, "
                 "audit-required")
      ->allow_extra_args(false);
  app.add_flag("-f,--foreground", cl.foreground, "stay in the foreground");
  app.add_flag("-d,--debug", cl.debug, "print every request and reply (implies -f)");
  app.add_flag("-s", single_threaded, "serve with one thread");
  app.set_version_flag("-V,--version", kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // app.exit prints help/version to stdout and errors to stderr.
    out.exit_code = app.exit(e) == 0 ? 0 : 2;
    return out;
  }
  if (cl.debug) cl.foreground = true;
  cl.fs.single_threaded = single_threaded;
  cl.mount.fsname = cl.source;
  cl.mount.subtype = "passthroughfs";

  auto usage_error = [&](const std::string& message) {
    std::fprintf(stderr, "passthroughfs: %s\n", message.c_str());
    out.exit_code = 2;
    return out;
  };
  for (const auto& list : option_lists) {
    std::stringstream items(list);
    std::string item;
    while (std::getline(items, item, ',')) cl.remount |= item == "remount";
  }
  for (const auto& list : option_lists) {
    std::stringstream items(list);
    std::string item;
    while (std::getline(items, item, ',')) {
      if (item.empty() || IsIgnoredMountOption(item) || item == "remount") continue;
      // On a remount, mount(8) also hands back what /proc/mounts shows of
      // the mount, which only the kernel sets.
      if (cl.remount && (item.rfind("user_id=", 0) == 0 || item.rfind("group_id=", 0) == 0 ||
                         item.rfind("rootmode=", 0) == 0))
        continue;
      for (const char* a : {"atime", "noatime", "relatime", "norelatime", "strictatime",
                            "nostrictatime", "diratime", "nodiratime"})
        cl.atime_given |= item == a;
      auto rest = ParseMountItem(cl.mount, item);
      if (!rest) return usage_error("bad value in -o " + item);
      if (rest->empty()) {
        if (item.rfind("fsname=", 0) == 0) cl.fsname_given = true;
        continue;
      }
      std::string error;
      if (!ApplyFsOption(item, cl.fs, error)) return usage_error(error);
    }
  }
  if (cl.fs.lock_forwarding && cl.fs.io_uring) {
    return usage_error(
        "-o lock-forwarding cannot go with -o io_uring: a lock waited for would hold one of its "
        "CPU's few ring entries, and the holder's unlock could wait behind it");
  }
  if (cl.fs.audit_required && cl.fs.audit_path.empty())
    return usage_error("-o audit-required needs -o audit=PATH");
  if (cl.fs.writeback && cl.fs.passthrough != PassthroughMode::kNever) {
    return usage_error(
        "-o writeback needs -o passthrough=never (the kernel silently drops passthrough when "
        "writeback cache is on)");
  }
  // A view (force-user=, perms=, ...) is enforced by the kernel from the
  // attributes shown: the daemon acts with the rights the kernel granted.
  if (cl.fs.policy.ChangesPermissions()) {
    if (cl.fs.no_default_permissions) {
      return usage_error(
          "-o no_default_permissions cannot go with force-user=, force-group=, perms=, map=, "
          "the offsets, mirror=, mirror-only= or realistic-permissions: the kernel enforces the "
          "owners and permission bits they show");
    }
    cl.mount.default_permissions = true;
  }
  cl.fs.policy.map_new_files = ::geteuid() == 0;
  // bindfs adds allow_other unless told no-allow-other: a bindfs fstab line
  // (force-user=www,perms=...) is written for other users. Only where
  // fusermount3 would allow it: as root, or with user_allow_other.
  if (cl.fs.policy_given && !cl.fs.no_allow_other && !cl.mount.allow_other &&
      (::geteuid() == 0 || FuseConfAllowsOther()))
    cl.mount.allow_other = true;
  if (cl.fs.no_allow_other) cl.mount.allow_other = false;
  // Other users must not bypass the source's permissions through the
  // daemon's (root) credentials.
  if (cl.mount.allow_other && !cl.fs.no_default_permissions) cl.mount.default_permissions = true;
  cl.fs.default_permissions = cl.mount.default_permissions;
  cl.fs.allow_other = cl.mount.allow_other;
  cl.fs.read_only = cl.mount.read_only;
  cl.fs.atime = cl.mount.atime;
  cl.fs.nodiratime = cl.mount.nodiratime;
  return out;
}

std::string CheckPaths(CommandLine& cl) {
  struct stat st;
  if (::stat(cl.source.c_str(), &st) != 0)
    return "SOURCE " + cl.source + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "SOURCE " + cl.source + ": not a directory";
  if (::stat(cl.mountpoint.c_str(), &st) != 0) {
    int e = errno;
    std::string message = "MOUNTPOINT " + cl.mountpoint + ": " + std::strerror(e);
    if (e == ENOTCONN) message += " (a FUSE mount whose server is gone: umount it first)";
    return message;
  }
  if (!S_ISDIR(st.st_mode)) return "MOUNTPOINT " + cl.mountpoint + ": not a directory";

  char resolved[PATH_MAX];
  if (::realpath(cl.source.c_str(), resolved) == nullptr)
    return "SOURCE " + cl.source + ": " + std::strerror(errno);
  std::string source = resolved;
  if (::realpath(cl.mountpoint.c_str(), resolved) == nullptr)
    return "MOUNTPOINT " + cl.mountpoint + ": " + std::strerror(errno);
  std::string mountpoint = resolved;

  if (IsMountPoint(mountpoint))
    return "MOUNTPOINT " + cl.mountpoint + ": busy (already a mount point)";
  if (IsInside(mountpoint, source)) {
    return "MOUNTPOINT " + cl.mountpoint + " is inside SOURCE " + cl.source +
           ": the daemon would walk into its own mount";
  }
  if (!cl.mount.nonempty) {
    DIR* dir = ::opendir(mountpoint.c_str());
    if (dir == nullptr) return "MOUNTPOINT " + cl.mountpoint + ": " + std::strerror(errno);
    bool empty = true;
    while (dirent* e = ::readdir(dir)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        empty = false;
        break;
      }
    }
    ::closedir(dir);
    if (!empty)
      return "MOUNTPOINT " + cl.mountpoint + ": not empty (use -o nonempty to mount over it)";
  }
  if (!cl.fs.audit_path.empty()) {
    // Absolute: the daemon leaves its working directory for "/". Not
    // below MOUNTPOINT: the trail's own writes would go through the mount.
    std::string audit = cl.fs.audit_path;
    if (audit[0] != '/') {
      if (!::getcwd(resolved, sizeof(resolved))) return std::string("getcwd: ") + std::strerror(errno);
      audit = std::string(resolved) + "/" + audit;
    }
    std::string dir = audit.substr(0, audit.rfind('/'));
    if (::realpath(dir.empty() ? "/" : dir.c_str(), resolved) == nullptr)
      return "-o audit=" + cl.fs.audit_path + ": " + std::strerror(errno);
    std::string audit_dir = resolved;
    if (audit_dir == mountpoint || IsInside(audit_dir, mountpoint))
      return "-o audit=" + cl.fs.audit_path + " is inside MOUNTPOINT " + cl.mountpoint;
    cl.fs.audit_path = audit_dir + audit.substr(audit.rfind('/'));
  }
  cl.source = source;
  cl.mountpoint = mountpoint;
  if (!cl.fsname_given) cl.mount.fsname = source;
  return "";
}

}  // namespace passthroughfs
