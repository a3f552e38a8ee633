#include "fusekit/mount.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <cstring>
#include <mutex>
#include <sstream>

#include "fusekit/log.h"
#include "fusekit/mountinfo.h"

extern char** environ;

namespace fusekit {

namespace {

// What tells one mount at a path from the next one made there: the
// kernel's 64-bit mount id, never reused (STATX_MNT_ID_UNIQUE, Linux 6.8+),
// else the reusable one. Both 0 when there is no mount there.
struct MountIdentity {
  uint64_t unique_id = 0;
  uint64_t mount_id = 0;
};

constexpr unsigned kStatxMntIdUnique = 0x4000;  // not yet in Debian 12's headers

MountIdentity IdentifyMount(const std::string& path) {
  // AT_STATX_DONT_SYNC: a FUSE mount answers from its cached attributes and
  // sends no request, so this works before INIT and after the server's end.
  struct statx sx {};
  if (::statx(AT_FDCWD, path.c_str(), AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT,
              STATX_MNT_ID | kStatxMntIdUnique, &sx) != 0)
    return {};
  MountIdentity id;
  if (sx.stx_mask & kStatxMntIdUnique) id.unique_id = sx.stx_mnt_id;
  else if (sx.stx_mask & STATX_MNT_ID) id.mount_id = sx.stx_mnt_id;
  return id;
}

}  // namespace

struct Mount::State {
  std::string mountpoint;
  std::shared_ptr<const UniqueFd> device;
  unsigned connection_id = 0;
  bool via_fusermount = false;
  UniqueFd fusermount_socket;  // auto_unmount: fusermount3 unmounts when it closes
  pid_t fusermount_pid = -1;
  // Which mount at `mountpoint` is ours, taken right after mounting.
  MountIdentity identity;

  std::mutex mutex;
  // Set once mounted: a Create that fails must not unmount from its
  // destructor, where umount2 would detach whatever else is mounted at
  // that path (or fail with EPERM as non-root).
  bool mounted = false;

  Status Unmount();
  // Whether the topmost mount at `mountpoint` is still this one: not once
  // it was unmounted (umount(8), fusermount3 -u), nor when another mount
  // has been made at the same path since.
  bool OursIsOnTop() const;
  ~State();
};

namespace {

bool ParseUint(std::string_view text, uint32_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size();
}

Result<bool> DirectoryIsEmpty(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return FailLast();
  bool empty = true;
  while (dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  ::closedir(dir);
  return empty;
}

// Runs fusermount3 with `args`; with `commfd`, passes it as _FUSE_COMMFD.
Result<pid_t> SpawnFusermount(const std::vector<std::string>& args, int commfd) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "_FUSE_COMMFD=", 13) != 0) env_strings.emplace_back(*e);
  }
  if (commfd >= 0) env_strings.push_back("_FUSE_COMMFD=" + std::to_string(commfd));
  std::vector<char*> env;
  for (auto& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);

  std::vector<std::string> argv_strings = {"fusermount3"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  // Servers block SIGINT/SIGTERM/SIGHUP to take them through a signalfd
  // (Session::Run, and before mounting); fusermount3 must not inherit that
  // mask and become unkillable by them.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid;
  int r = ::posix_spawnp(&pid, "fusermount3", nullptr, &attr, argv.data(), env.data());
  posix_spawnattr_destroy(&attr);
  if (r != 0) return Fail(r);
  return pid;
}

Result<UniqueFd> ReceiveFd(int socket) {
  char data = 0;
  iovec iov{&data, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return FailLast();
  if (n == 0) return Fail(ECONNABORTED);  // fusermount3 failed and said why on stderr
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg == nullptr || cmsg->cmsg_type != SCM_RIGHTS) return Fail(EPROTO);
  int fd;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
  return UniqueFd(fd);
}

std::string FusermountOptions(const MountOptions& o) {
  std::string opts = "fsname=" + o.fsname;
  if (!o.subtype.empty()) opts += ",subtype=" + o.subtype;
  if (o.allow_other) opts += ",allow_other";
  if (o.default_permissions) opts += ",default_permissions";
  if (o.read_only) opts += ",ro";
  if (o.nosuid) opts += ",nosuid";
  if (o.nodev) opts += ",nodev";
  if (o.noexec) opts += ",noexec";
  if (o.atime == Atime::kNoatime) opts += ",noatime";
  if (o.atime == Atime::kStrictatime) opts += ",strictatime";
  if (o.nodiratime) opts += ",nodiratime";
  if (o.max_read) opts += ",max_read=" + std::to_string(*o.max_read);
  if (o.blksize) opts += ",blksize=" + std::to_string(*o.blksize);
  if (o.auto_unmount) opts += ",auto_unmount";
  return opts;
}

Status MountWithSyscall(const std::string& mountpoint, const MountOptions& o, int fd) {
  std::ostringstream data;
  data << "fd=" << fd << ",rootmode=" << std::oct << S_IFDIR << std::dec
       << ",user_id=" << o.user_id.value_or(::getuid())
       << ",group_id=" << o.group_id.value_or(::getgid());
  if (o.allow_other) data << ",allow_other";
  if (o.default_permissions) data << ",default_permissions";
  if (o.max_read) data << ",max_read=" << *o.max_read;
  if (o.blksize) data << ",blksize=" << *o.blksize;
  unsigned long flags = 0;
  if (o.read_only) flags |= MS_RDONLY;
  if (o.nosuid) flags |= MS_NOSUID;
  if (o.nodev) flags |= MS_NODEV;
  if (o.noexec) flags |= MS_NOEXEC;
  if (o.atime == Atime::kNoatime) flags |= MS_NOATIME;
  if (o.atime == Atime::kStrictatime) flags |= MS_STRICTATIME;
  if (o.atime == Atime::kRelatime) flags |= MS_RELATIME;
  if (o.nodiratime) flags |= MS_NODIRATIME;
  std::string type = o.subtype.empty() ? "fuse" : "fuse." + o.subtype;
  if (::mount(o.fsname.c_str(), mountpoint.c_str(), type.c_str(), flags, data.str().c_str()) != 0)
    return FailLast();
  return Ok();
}

}  // namespace

Result<std::vector<std::string>> MountOptions::Parse(const std::string& list) {
  std::vector<std::string> unknown;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    std::string key = item.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    auto flag = [&](bool& field, bool v) {
      if (eq != std::string::npos) return false;
      field = v;
      return true;
    };
    bool ok = true;
    if (key == "allow_other") ok = flag(allow_other, true);
    else if (key == "default_permissions") ok = flag(default_permissions, true);
    else if (key == "ro") ok = flag(read_only, true);
    else if (key == "rw") ok = flag(read_only, false);
    else if (key == "nosuid") ok = flag(nosuid, true);
    else if (key == "suid") ok = flag(nosuid, false);
    else if (key == "nodev") ok = flag(nodev, true);
    else if (key == "dev") ok = flag(nodev, false);
    else if (key == "noexec") ok = flag(noexec, true);
    else if (key == "exec") ok = flag(noexec, false);
    else if (key == "noatime" || key == "atime" || key == "relatime" || key == "norelatime" ||
             key == "strictatime" || key == "nostrictatime") {
      // As mount(8): "atime", "norelatime" and "nostrictatime" leave it to
      // the kernel's default, relatime.
      ok = eq == std::string::npos;
      atime = key == "noatime" ? Atime::kNoatime
              : key == "strictatime" ? Atime::kStrictatime
                                     : Atime::kRelatime;
    } else if (key == "nodiratime") ok = flag(nodiratime, true);
    else if (key == "diratime") ok = flag(nodiratime, false);
    else if (key == "nonempty") ok = flag(nonempty, true);
    else if (key == "auto_unmount") ok = flag(auto_unmount, true);
    else if (key == "fsname") {
      ok = !value.empty();
      fsname = value;
    } else if (key == "subtype") {
      ok = !value.empty();
      subtype = value;
    } else if (key == "max_read" || key == "blksize") {
      uint32_t n = 0;
      ok = ParseUint(value, n) && n > 0;
      if (ok) (key == "max_read" ? max_read : blksize) = n;
    } else {
      unknown.push_back(item);
      continue;
    }
    if (!ok) {
      LogError("bad mount option '{}'", item);
      return Fail(EINVAL);
    }
  }
  return unknown;
}

Result<Mount> Mount::Create(const std::string& mountpoint, const MountOptions& options) {
  struct stat st;
  if (::stat(mountpoint.c_str(), &st) != 0) {
    auto e = Errno::Last();
    LogError("mount point {}: {}", mountpoint, e.message());
    return Fail(e);
  }
  if (!S_ISDIR(st.st_mode)) {
    LogError("mount point {} is not a directory", mountpoint);
    return Fail(ENOTDIR);
  }
  if (!options.nonempty) {
    auto empty = DirectoryIsEmpty(mountpoint);
    if (empty && !*empty) {
      LogError("mount point {} is not empty (use -o nonempty to mount over it)", mountpoint);
      return Fail(ENOTEMPTY);
    }
  }

  char resolved[PATH_MAX];
  std::string canonical = ::realpath(mountpoint.c_str(), resolved) ? resolved : mountpoint;
  auto state = std::make_shared<State>();
  // Canonical: a server that later changes directory still unmounts this.
  state->mountpoint = canonical;
  bool use_syscall = options.method == MountOptions::Method::kSyscall ||
                     (options.method == MountOptions::Method::kAuto && ::geteuid() == 0);
  if (use_syscall) {
    UniqueFd fd(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
    if (!fd) {
      auto e = Errno::Last();
      LogError("open /dev/fuse: {}", e.message());
      return Fail(e);
    }
    if (auto status = MountWithSyscall(mountpoint, options, fd.get()); !status) {
      LogError("mount {} on {}: {}", options.fsname, mountpoint, status.error().message());
      return Fail(status.error());
    }
    state->device = std::make_shared<const UniqueFd>(std::move(fd));
  } else {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return FailLast();
    UniqueFd ours(sv[0]);
    UniqueFd theirs(sv[1]);
    // The child must inherit its end: clear CLOEXEC on it alone.
    ::fcntl(theirs.get(), F_SETFD, 0);
    auto pid = SpawnFusermount({"-o", FusermountOptions(options), "--", mountpoint}, theirs.get());
    theirs.reset();
    if (!pid) {
      LogError("cannot run fusermount3 (apt-get install fuse3): {}", pid.error().message());
      return Fail(pid.error());
    }
    auto fd = ReceiveFd(ours.get());
    if (!options.auto_unmount || !fd) {
      int wstatus = 0;
      ::waitpid(*pid, &wstatus, 0);
    } else {
      state->fusermount_pid = *pid;
      state->fusermount_socket = std::move(ours);
    }
    if (!fd) {
      LogError("fusermount3 could not mount {}: {}", mountpoint, fd.error().message());
      return Fail(fd.error());
    }
    state->device = std::make_shared<const UniqueFd>(std::move(*fd));
    state->via_fusermount = true;
  }
  state->mounted = true;
  // Not stat(): the mount answers nothing until the session has done INIT.
  state->identity = IdentifyMount(canonical);
  if (auto m = FindMount(canonical)) state->connection_id = m->minor;
  return Mount(std::move(state));
}

bool Mount::State::OursIsOnTop() const {
  MountIdentity now = IdentifyMount(mountpoint);
  // Without the kernel's unique ids (before 6.8) the reusable ones must do.
  if (identity.unique_id != 0 && now.unique_id != 0) return now.unique_id == identity.unique_id;
  auto top = FindMount(mountpoint);
  return top && top->id == identity.mount_id && top->minor == connection_id;
}

Status Mount::State::Unmount() {
  std::lock_guard lock(mutex);
  if (!mounted) return Ok();
  mounted = false;
  // Unmount by path only what is still ours there: after umount(8) and a
  // quick mount of another server at the same path, detaching "the mount
  // at mountpoint" would detach the newcomer and expose the directory
  // below it. (A mount made in the instant between this check and the
  // unmount is not covered; a mount already gone needs nothing.)
  if (!OursIsOnTop()) {
    LogDebug("{} is no longer this connection's mount: not unmounting", mountpoint);
    if (fusermount_socket) {
      // The auto_unmount helper unmounts by path once its socket closes:
      // it must not get that far. It runs setuid with our real uid, so we
      // may kill it.
      ::kill(fusermount_pid, SIGKILL);
      int wstatus = 0;
      ::waitpid(fusermount_pid, &wstatus, 0);
      fusermount_socket.reset();
    }
    return Ok();
  }
  if (via_fusermount) {
    auto pid = SpawnFusermount({"-u", "-z", "-q", "--", mountpoint}, -1);
    if (!pid) return Fail(pid.error());
    int wstatus = 0;
    ::waitpid(*pid, &wstatus, 0);
    if (fusermount_socket) {
      fusermount_socket.reset();
      ::waitpid(fusermount_pid, &wstatus, 0);
    }
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) return Fail(EIO);
    return Ok();
  }
  if (::umount2(mountpoint.c_str(), MNT_DETACH) != 0) {
    // EINVAL: already unmounted (by umount(8), or the server's end).
    if (errno == EINVAL || errno == ENOENT) return Ok();
    return FailLast();
  }
  return Ok();
}

Mount::State::~State() {
  auto status = Unmount();
  if (!status) LogWarn("unmounting {}: {}", mountpoint, status.error().message());
}

Mount::~Mount() = default;

const std::string& Mount::mountpoint() const { return state_->mountpoint; }
const std::shared_ptr<const UniqueFd>& Mount::device() const { return state_->device; }
unsigned Mount::connection_id() const { return state_->connection_id; }
Status Mount::Unmount() { return state_ ? state_->Unmount() : Ok(); }

std::function<void()> Mount::Unmounter() const {
  std::weak_ptr<State> weak = state_;
  return [weak] {
    if (auto state = weak.lock()) (void)state->Unmount();
  };
}

Status AbortConnection(unsigned connection_id) {
  constexpr char kFusectl[] = "/sys/fs/fuse/connections";
  constexpr long kFusectlMagic = 0x65735543;  // FUSECTL_SUPER_MAGIC
  std::string abort_path = std::string(kFusectl) + "/" + std::to_string(connection_id) + "/abort";
  // fusectl may not be mounted (no systemd). Mount it only when it is not:
  // it has a single superblock, and mounting it again would stack another
  // copy on the same directory each call. What we mount we unmount again,
  // leaving the mount table as we found it. Two tries: another process may
  // unmount the copy it mounted between our check and our open.
  Status status = Ok();
  for (int attempt = 0; attempt < 2; ++attempt) {
    struct statfs fs;
    bool mounted_here = false;
    if (::statfs(kFusectl, &fs) != 0 || fs.f_type != kFusectlMagic) {
      if (::mount("fusectl", kFusectl, "fusectl", 0, nullptr) != 0) return FailLast();
      mounted_here = true;
    }
    UniqueFd fd(::open(abort_path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
      status = FailLast();
    } else if (::write(fd.get(), "1", 1) != 1) {
      status = FailLast();
    } else {
      status = Ok();
    }
    fd.reset();
    if (mounted_here) ::umount2(kFusectl, MNT_DETACH);
    if (status || mounted_here || status.error() != Errno(ENOENT)) break;
  }
  return status;
}

}  // namespace fusekit
