// PassthroughFs: extended attributes, through /proc/self/fd/N of the inode's
// O_PATH fd (f*xattr do not take O_PATH fds; the magic link names the inode
// itself, symlinks included, without following anything further).
#include <sys/xattr.h>

#include <vector>

#include "caller.h"
#include "control.h"
#include "fs_util.h"
#include "passthrough_fs.h"

namespace passthroughfs {

using namespace fusekit;  // NOLINT: this file implements fusekit::Operations

namespace {

// Answers a size probe (size 0) with the size, else with the bytes;
// `read` is getxattr or listxattr bound to the inode's path.
template <typename ReadFn>
void AnswerXattr(uint32_t size, ReadFn read, ReplyXattr reply) {
  if (size == 0) {
    ssize_t n = read(nullptr, 0);
    if (n < 0) return reply.Error(Errno::Last());
    return reply.Size(static_cast<uint32_t>(n));
  }
  std::vector<std::byte> buffer(size);
  ssize_t n = read(buffer.data(), buffer.size());
  if (n < 0) return reply.Error(Errno::Last());  // ERANGE when it does not fit
  reply.Data(std::span<const std::byte>(buffer.data(), static_cast<size_t>(n)));
}

}  // namespace

// With -o xattr=off every xattr call answers ENOSYS: the kernel then stops
// sending that kind of request for the whole mount (fc->no_getxattr, ...)
// and fails the calls itself with EOPNOTSUPP, sparing the GETXATTR of
// security.capability it makes before the first write of each inode.
void PassthroughFs::SetXattr(const Context& ctx, const req::SetXattr& in, ReplyEmpty reply) {
  if (!options_.xattrs) return reply.Error(ENOSYS);
  if (IsControlXattr(ctx.node(), in.name)) return reply.Error(EPERM);
  if (auto allowed = policy_.MayChangeXattr(in.name); !allowed)
    return reply.Error(allowed.error());
  auto inode = Pin(ctx.node());
  if (!inode) return reply.Error(inode.error());
  std::string path = ProcPath(inode->fd.get());
  std::string name(in.name);
  // Setting an ACL by a caller the kernel found outside the file's group
  // drops setgid, as chmod does: the source filesystem does it when the
  // thread lacks CAP_FSETID.
  AsCaller as_caller(ctx, kernel_checks_permissions(),
                     (in.setxattr_flags & req::kSetxattrAclKillSgid) ? Setid::kClear
                                                                     : Setid::kAsChecked);
  if (::setxattr(path.c_str(), name.c_str(), in.value.data(), in.value.size(), in.flags) != 0)
    return reply.Error(Errno::Last());
  reply.Ok();
}

void PassthroughFs::GetXattr(const Context& ctx, const req::GetXattr& in, ReplyXattr reply) {
  if (!options_.xattrs) return reply.Error(ENOSYS);
  if (IsControlXattr(ctx.node(), in.name)) return AnswerControlXattr(in, std::move(reply));
  auto inode = Pin(ctx.node());
  if (!inode) return reply.Error(inode.error());
  std::string path = ProcPath(inode->fd.get());
  std::string name(in.name);
  AsCaller as_caller(ctx, kernel_checks_permissions());
  AnswerXattr(
      in.size,
      [&](void* buf, size_t len) { return ::getxattr(path.c_str(), name.c_str(), buf, len); },
      std::move(reply));
}

void PassthroughFs::ListXattr(const Context& ctx, const req::ListXattr& in, ReplyXattr reply) {
  if (!options_.xattrs) return reply.Error(ENOSYS);
  auto inode = Pin(ctx.node());
  if (!inode) return reply.Error(inode.error());
  std::string path = ProcPath(inode->fd.get());
  AsCaller as_caller(ctx, kernel_checks_permissions());
  AnswerXattr(
      in.size,
      [&](void* buf, size_t len) {
        return ::listxattr(path.c_str(), static_cast<char*>(buf), len);
      },
      std::move(reply));
}

void PassthroughFs::RemoveXattr(const Context& ctx, const req::RemoveXattr& in,
                                ReplyEmpty reply) {
  if (!options_.xattrs) return reply.Error(ENOSYS);
  if (IsControlXattr(ctx.node(), in.name)) return reply.Error(EPERM);
  if (auto allowed = policy_.MayChangeXattr(in.name); !allowed)
    return reply.Error(allowed.error());
  auto inode = Pin(ctx.node());
  if (!inode) return reply.Error(inode.error());
  std::string path = ProcPath(inode->fd.get());
  std::string name(in.name);
  AsCaller as_caller(ctx, kernel_checks_permissions());
  if (::removexattr(path.c_str(), name.c_str()) != 0) return reply.Error(Errno::Last());
  reply.Ok();
}

}  // namespace passthroughfs
