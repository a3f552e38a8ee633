// PassthroughFs: directories. Offsets are the source filesystem's own
// telldir() cookies, so they stay valid across seekdir/telldir and
// concurrent changes exactly as on the source.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "fs_util.h"
#include "open_files.h"
#include "passthrough_fs.h"

namespace passthroughfs {

using namespace fusekit;  // NOLINT: this file implements fusekit::Operations

namespace {

uint32_t TypeBits(unsigned char d_type) { return static_cast<uint32_t>(DTTOIF(d_type)); }

}  // namespace

void PassthroughFs::OpenDir(const Context& ctx, const req::OpenDir&, ReplyOpen reply) {
  auto inode = inodes_->Get(ctx.node());
  if (!inode) return reply.Error(ESTALE);
  UniqueFd fd;
  {
    AsCaller as_caller(ctx, kernel_checks_permissions());
    fd.reset(::openat(inode->fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  if (!fd) return reply.Error(Errno::Last());
  auto dir = std::make_shared<OpenDirectory>();
  dir->dir = ::fdopendir(fd.get());
  if (dir->dir == nullptr) return reply.Error(Errno::Last());
  fd.release();  // owned by the DIR stream now
  dir->inode = std::move(inode);
  uint64_t fh;
  {
    std::lock_guard lock(handles_mutex_);
    fh = next_handle_++;
    dirs_.emplace(fh, std::move(dir));
  }
  OpenOptions options;
  options.cache_dir = options_.cache == CacheMode::kAlways;
  reply.Ok(FileHandle(fh), options);
}

namespace {

// Reads the next entry at or after `offset`, seeking only when the stream
// is not already there. Returns null at the end (or on error, with errno).
dirent* NextEntry(DIR* dir, uint64_t& stream_offset, uint64_t offset) {
  if (stream_offset != offset) {
    ::seekdir(dir, static_cast<long>(offset));
    stream_offset = offset;
  }
  errno = 0;
  return ::readdir(dir);
}

}  // namespace

void PassthroughFs::ReadDir(const Context&, const req::ReadDir& in, ReplyDir reply) {
  std::shared_ptr<OpenDirectory> d;
  {
    std::lock_guard lock(handles_mutex_);
    auto it = dirs_.find(in.fh.value);
    if (it != dirs_.end()) d = it->second;
  }
  if (!d) return reply.Error(EBADF);
  {
    std::lock_guard lock(d->mutex);
    uint64_t offset = in.offset;
    for (;;) {
      dirent* e = NextEntry(d->dir, d->offset, offset);
      if (e == nullptr) {
        if (errno != 0) return reply.Error(Errno::Last());
        break;
      }
      uint64_t next = static_cast<uint64_t>(::telldir(d->dir));
      if (!reply.Add(e->d_name, e->d_ino, TypeBits(e->d_type), next)) {
        // Not sent: the kernel asks again from `offset`; the stream must be
        // sought back there.
        d->offset = UINT64_MAX;
        break;
      }
      d->offset = next;
      offset = next;
    }
  }
  reply.Ok();
}

void PassthroughFs::ReadDirPlus(const Context&, const req::ReadDirPlus& in, ReplyDirPlus reply) {
  std::shared_ptr<OpenDirectory> d;
  {
    std::lock_guard lock(handles_mutex_);
    auto it = dirs_.find(in.fh.value);
    if (it != dirs_.end()) d = it->second;
  }
  if (!d) return reply.Error(EBADF);
  {
    std::lock_guard lock(d->mutex);
    uint64_t offset = in.offset;
    for (;;) {
      dirent* e = NextEntry(d->dir, d->offset, offset);
      if (e == nullptr) {
        if (errno != 0) return reply.Error(Errno::Last());
        break;
      }
      uint64_t next = static_cast<uint64_t>(::telldir(d->dir));
      std::string_view name = e->d_name;
      bool added;
      if (name == "." || name == "..") {
        // The kernel takes no lookup for these: node id 0, attributes only.
        Entry entry;
        entry.attr.ino = e->d_ino;
        entry.attr.mode = TypeBits(e->d_type);
        added = reply.Add(name, entry, next);
      } else {
        auto entry = LookupChild(*d->inode, name);
        if (!entry) {
          // Vanished since readdir saw it: skip it, as a later getdents would.
          d->offset = next;
          offset = next;
          continue;
        }
        added = reply.Add(name, *entry, next);
        // Not sent, so the kernel never counts this lookup: give it back.
        if (!added) inodes_->Forget(entry->node, 1);
      }
      if (!added) {
        d->offset = UINT64_MAX;
        break;
      }
      d->offset = next;
      offset = next;
    }
  }
  reply.Ok();
}

void PassthroughFs::ReleaseDir(const Context&, const req::ReleaseDir& in, ReplyEmpty reply) {
  std::shared_ptr<OpenDirectory> d;
  {
    std::lock_guard lock(handles_mutex_);
    auto it = dirs_.find(in.fh.value);
    if (it == dirs_.end()) return reply.Error(EBADF);
    d = std::move(it->second);
    dirs_.erase(it);
  }
  d.reset();  // closes the stream outside the table lock
  reply.Ok();
}

void PassthroughFs::FsyncDir(const Context&, const req::FsyncDir& in, ReplyEmpty reply) {
  std::shared_ptr<OpenDirectory> d;
  {
    std::lock_guard lock(handles_mutex_);
    auto it = dirs_.find(in.fh.value);
    if (it != dirs_.end()) d = it->second;
  }
  if (!d) return reply.Error(EBADF);
  int fd = ::dirfd(d->dir);
  if ((in.datasync ? ::fdatasync(fd) : ::fsync(fd)) != 0) return reply.Error(Errno::Last());
  reply.Ok();
}

}  // namespace passthroughfs
