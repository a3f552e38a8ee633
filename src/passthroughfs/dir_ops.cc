// PassthroughFs: directories. Offsets are the source filesystem's own
// telldir() cookies, so they stay valid across seekdir/telldir and
// concurrent changes exactly as on the source.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "caller.h"
#include "fs_util.h"
#include "open_files.h"
#include "passthrough_fs.h"

namespace passthroughfs {

using namespace fusekit;  // NOLINT: this file implements fusekit::Operations

namespace {

uint32_t TypeBits(unsigned char d_type) { return static_cast<uint32_t>(DTTOIF(d_type)); }

}  // namespace

Result<std::shared_ptr<PassthroughFs::OpenDirectory>> PassthroughFs::OpenDirectoryStream(
    const Context& ctx) {
  auto inode = Pin(ctx.node());
  if (!inode) return Fail(inode.error());
  auto fd = WithFdRelief([&]() -> Result<UniqueFd> {
    AsCaller as_caller(ctx, kernel_checks_permissions());
    UniqueFd dir(::openat(inode->fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return FailLast();
    return dir;
  });
  if (!fd) return Fail(fd.error());
  auto dir = std::make_shared<OpenDirectory>(std::move(inode->inode));
  dir->dir = ::fdopendir(fd->get());
  if (dir->dir == nullptr) return FailLast();
  fd->release();  // owned by the DIR stream now
  return dir;
}

Result<std::shared_ptr<PassthroughFs::OpenDirectory>> PassthroughFs::DirectoryFor(
    const Context& ctx, FileHandle fh) {
  if (auto d = GetOpenDirectory(fh)) return d;
  // Without OPENDIR the kernel sends no handle: a stream for this call.
  if (!no_opendir_ || fh.value != 0) return Fail(EBADF);
  return OpenDirectoryStream(ctx);
}

void PassthroughFs::OpenDir(const Context& ctx, const req::OpenDir&, ReplyOpen reply) {
  // The kernel then opens directories itself, with their listings cached
  // (FOPEN_CACHE_DIR, kept) until the watcher drops them.
  if (no_opendir_) return reply.Error(ENOSYS);
  auto dir = OpenDirectoryStream(ctx);
  if (!dir) return reply.Error(dir.error());
  // The kernel may cache the listing (FOPEN_CACHE_DIR) and keep it across
  // opens while SOURCE shows the directory unchanged; it drops it itself
  // when the directory changes through the mount or its mtime moves.
  OpenOptions options;
  options.cache_dir = options_.cache != CacheMode::kNever;
  options.keep_cache = options_.cache == CacheMode::kAlways ||
                       (options_.cache == CacheMode::kAuto &&
                        PageCacheStillValid(*(*dir)->inode, ::dirfd((*dir)->dir)));
  uint64_t fh;
  {
    std::lock_guard lock(handles_mutex_);
    fh = next_handle_++;
    dirs_.emplace(fh, std::move(*dir));
  }
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

enum class Emit { kAdded, kSkipped, kFull };

// Walks `d` from `offset`, handing each entry and the offset after it to
// `emit` until the reply is full or the directory ends. Fails with the
// errno of a failed readdir.
template <typename EmitFn>
Status Walk(std::mutex& mutex, DIR* dir, uint64_t& stream_offset, uint64_t offset, EmitFn emit) {
  std::lock_guard lock(mutex);
  for (;;) {
    dirent* e = NextEntry(dir, stream_offset, offset);
    if (e == nullptr) return errno != 0 ? FailLast() : Ok();
    uint64_t next = static_cast<uint64_t>(::telldir(dir));
    if (emit(*e, next) == Emit::kFull) {
      // Not sent: the kernel asks again from `offset`, so the stream must
      // be sought back there.
      stream_offset = UINT64_MAX;
      return Ok();
    }
    stream_offset = next;
    offset = next;
  }
}

}  // namespace

std::shared_ptr<PassthroughFs::OpenDirectory> PassthroughFs::GetOpenDirectory(FileHandle fh) const {
  std::lock_guard lock(handles_mutex_);
  auto it = dirs_.find(fh.value);
  return it == dirs_.end() ? nullptr : it->second;
}

void PassthroughFs::ReadDir(const Context& ctx, const req::ReadDir& in, ReplyDir reply) {
  auto found = DirectoryFor(ctx, in.fh);
  if (!found) return reply.Error(found.error());
  auto& d = *found;
  auto status = Walk(d->mutex, d->dir, d->offset, in.offset, [&](const dirent& e, uint64_t next) {
    return reply.Add(e.d_name, e.d_ino, TypeBits(e.d_type), next) ? Emit::kAdded : Emit::kFull;
  });
  if (!status) return reply.Error(status.error());
  reply.Ok();
}

void PassthroughFs::ReadDirPlus(const Context& ctx, const req::ReadDirPlus& in,
                                ReplyDirPlus reply) {
  auto found = DirectoryFor(ctx, in.fh);
  if (!found) return reply.Error(found.error());
  auto& d = *found;
  // readdirplus=auto: the advisor decides at the start of a listing, and
  // its later batches follow (a stream opened per call has no memory of
  // the start: the advisor's current mind).
  bool look_up = true;
  if (options_.readdirplus == ReaddirplusMode::kAuto) {
    if (in.offset == 0) {
      look_up = listing_advisor_.StartListing(ctx.node().value);
      d->look_up = look_up;
    } else {
      look_up = in.fh.value != 0 ? d->look_up.load() : listing_advisor_.looking_up();
    }
  }
  size_t listed = 0;
  auto status = Walk(d->mutex, d->dir, d->offset, in.offset, [&](const dirent& e, uint64_t next) {
    std::string_view name = e.d_name;
    // Node id 0 (attributes only) makes the kernel list the entry without
    // taking a lookup, as a plain READDIR would.
    auto unlooked = [&] {
      Entry entry;
      entry.attr.ino = e.d_ino;
      entry.attr.mode = TypeBits(e.d_type);
      return reply.Add(name, entry, next) ? Emit::kAdded : Emit::kFull;
    };
    if (name == "." || name == "..") return unlooked();
    if (!look_up) {
      Emit added = unlooked();
      listed += added == Emit::kAdded;
      return added;
    }
    // Inodes held by fd, near the budget: the kernel looks the names up
    // itself when it needs them, one by one, with pruning in between.
    if (inodes_->FdsNearBudget()) return unlooked();
    auto entry = LookupChild(*d->inode, ::dirfd(d->dir), name, ctx.uid());
    if (!entry) {
      // Vanished since readdir saw it: skip it, as a later getdents would.
      if (entry.error() == Errno(ENOENT)) return Emit::kSkipped;
      // Not to be looked up now (the daemon out of fds, say): still listed,
      // since the kernel resumes after the last entry sent and would never
      // ask for a skipped one again.
      return unlooked();
    }
    if (reply.Add(name, *entry, next)) return Emit::kAdded;
    // Not sent, so the kernel never counts this lookup: give it back.
    inodes_->Forget(entry->node, 1);
    return Emit::kFull;
  });
  if (!status) return reply.Error(status.error());
  if (!look_up) listing_advisor_.Listed(ctx.node().value, listed);
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

void PassthroughFs::FsyncDir(const Context& ctx, const req::FsyncDir& in, ReplyEmpty reply) {
  auto found = DirectoryFor(ctx, in.fh);
  if (!found) return reply.Error(found.error());
  auto& d = *found;
  int fd = ::dirfd(d->dir);
  if ((in.datasync ? ::fdatasync(fd) : ::fsync(fd)) != 0) return reply.Error(Errno::Last());
  reply.Ok();
}

}  // namespace passthroughfs
