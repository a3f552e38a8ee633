// Mount: a FUSE mount that lives as long as this object.
//
// As root it mounts with mount(2); otherwise through Debian's fusermount3
// (setuid), which hands back the /dev/fuse fd over a socket. Destroying the
// Mount (or Unmount) detaches the mount lazily, so that a busy mount point
// never blocks shutdown.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fusekit/result.h"
#include "fusekit/unique_fd.h"

namespace fusekit {

// How reads update access times on a mount (mount(8)'s atime options).
enum class Atime {
  kRelatime,    // the kernel's default: when atime is older than mtime or ctime, or than a day
  kNoatime,     // never
  kStrictatime  // at every access
};

struct MountOptions {
  std::string fsname = "fusekit";
  std::string subtype;  // shown as fuse.<subtype> in /proc/mounts
  bool allow_other = false;
  bool default_permissions = false;
  bool read_only = false;
  bool nosuid = false;
  bool nodev = false;
  bool noexec = false;
  Atime atime = Atime::kRelatime;  // noatime, relatime, strictatime, atime
  bool nodiratime = false;
  bool nonempty = false;  // allow mounting over a non-empty directory
  std::optional<uint32_t> max_read;
  std::optional<uint32_t> blksize;  // the kernel accepts it for fuseblk only
  // fusermount3 only: unmount when the server process dies.
  bool auto_unmount = false;
  std::optional<uid_t> user_id;  // default: the caller's
  std::optional<gid_t> group_id;
  enum class Method { kAuto, kSyscall, kFusermount };
  Method method = Method::kAuto;  // kAuto: mount(2) as root, else fusermount3

  // Parses one comma-separated -o list item by item ("allow_other",
  // "fsname=x", ...); unknown items are returned for the caller's own
  // options. Fails with EINVAL on a malformed value.
  Result<std::vector<std::string>> Parse(const std::string& list);
};

// Thread-safety: Unmount may be called from any thread, once or many times.
class Mount {
 public:
  static Result<Mount> Create(const std::string& mountpoint, const MountOptions& options);

  Mount(Mount&&) noexcept = default;
  Mount& operator=(Mount&&) noexcept = default;
  ~Mount();

  const std::string& mountpoint() const;
  // The /dev/fuse fd of this mount, shared with sessions and backing files
  // so that it stays valid while any of them needs it.
  const std::shared_ptr<const UniqueFd>& device() const;
  // The connection's number under /sys/fs/fuse/connections (the minor of
  // the mount's st_dev).
  unsigned connection_id() const;

  // Detaches the mount (lazily). Idempotent.
  Status Unmount();
  // A callable that unmounts if this Mount still exists; for Session::Stop.
  std::function<void()> Unmounter() const;

 private:
  struct State;
  explicit Mount(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

// Aborts a hung connection through fusectl (mounting it if needed): every
// request in flight fails with ENOTCONN. For tests and emergency tools.
Status AbortConnection(unsigned connection_id);

}  // namespace fusekit
