// PassthroughFs: open files, passthrough registration and daemon-served I/O.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <vector>

#include "caller.h"
#include "fs_util.h"
#include "fusekit/log.h"
#include "open_files.h"
#include "passthrough_fs.h"

namespace passthroughfs {

using namespace fusekit;  // NOLINT: this file implements fusekit::Operations

namespace {

bool OpensForWriting(int flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC); }

bool HasSetidBits(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)) != 0;
}

// `flags` with the access mode (O_RDONLY/O_WRONLY/O_RDWR) of `asked`.
int WithAccessMode(int flags, int asked) { return (flags & ~O_ACCMODE) | (asked & O_ACCMODE); }

// pwrite at `offset` on `fd`, which is O_APPEND: pwrite alone would append.
ssize_t PWriteIgnoringAppend(int fd, std::span<const std::byte> data, off_t offset) {
  iovec iov{const_cast<std::byte*>(data.data()), data.size()};
  ssize_t n = ::pwritev2(fd, &iov, 1, offset, RWF_NOAPPEND);
  if (n >= 0 || (errno != EOPNOTSUPP && errno != EINVAL)) return n;
  // RWF_NOAPPEND is Linux 6.9+; before, a second open of the same inode
  // without O_APPEND (the caller already holds it open for writing).
  UniqueFd plain(::open(ProcPath(fd).c_str(), O_WRONLY | O_CLOEXEC));
  if (!plain) return -1;
  return ::pwrite(plain.get(), data.data(), data.size(), offset);
}

}  // namespace

Result<UniqueFd> PassthroughFs::Reopen(int anchor, int flags) {
  // Through /proc: opens exactly the inode we hold, even if its name was
  // renamed or replaced, and never follows a symlink the name now points to.
  std::string path = ProcPath(anchor);
  return WithFdRelief([&]() -> Result<UniqueFd> {
    UniqueFd fd(::open(path.c_str(), (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW)) |
                                         O_CLOEXEC));
    if (!fd) return FailLast();
    return fd;
  });
}

int PassthroughFs::DaemonOpenFlags(int flags) const {
  // O_DIRECT is the kernel's to honour (FUSE sends such I/O uncached, and a
  // backing file is reopened with the caller's flags); on the daemon's own
  // fd it would make every daemon-served read and write fail with EINVAL,
  // since request buffers are not block-aligned.
  flags &= ~O_DIRECT;
  // With writeback cache the kernel fills pages that a write covers only in
  // part by READs on whichever open of the inode it has, a write-only one
  // included: the daemon's fd must be able to read (as in libfuse's
  // passthrough examples), else such writes fail with EBADF.
  if (writeback_active_ && (flags & O_ACCMODE) == O_WRONLY) return (flags & ~O_ACCMODE) | O_RDWR;
  return flags;
}

bool PassthroughFs::PageCacheStillValid(Inode& inode, int fd) {
  // Without FOPEN_KEEP_CACHE every open drops the inode's cached pages, so
  // a file read twice through the daemon is read from SOURCE twice. Keep
  // them when SOURCE shows the file unchanged since the kernel cached them
  // (AUTO_INVAL_DATA covers changes seen while it stays open).
  struct stat st;
  if (::fstat(fd, &st) != 0) return false;
  uint64_t now = ContentStamp(st);
  std::lock_guard lock(OpenLock(inode));
  bool unchanged = inode.page_cache_stamp == now;
  inode.page_cache_stamp = now;
  return unchanged;
}

OpenOptions PassthroughFs::FileOpenOptions(int flags, bool passthrough) const {
  OpenOptions o;
  // A read-only open has nothing for FLUSH to do (no deferred write error
  // to report, no attributes changed behind the kernel; locks are the
  // kernel's own): spare close() the round trip. Nor has a passthrough
  // open on a local source (see SourceTraits::flush_reports_errors), whose writes went
  // to the backing file; Release invalidates the attributes mmap writes
  // changed.
  // With forwarded locks FLUSH carries the closing process's lock owner,
  // whose POSIX locks must then go.
  o.noflush = !options_.lock_forwarding &&
              ((flags & O_ACCMODE) == O_RDONLY || (passthrough && !source_.flush_reports_errors));
  o.direct_io = options_.direct_io || options_.cache == CacheMode::kNever;
  o.keep_cache = options_.cache == CacheMode::kAlways;
  o.parallel_direct_writes = o.direct_io;
  return o;
}

std::optional<BackingId> PassthroughFs::AttachOpen(Inode& inode, int anchor, int open_flags) {
  std::lock_guard lock(OpenLock(inode));
  inode.open_count++;
  inode.in_use++;
  if (!passthrough_active_ || inode.passthrough_refused) return std::nullopt;
  // Passthrough writes run with the credentials the backing file was
  // registered with, the same for every writer: a writer of a setuid or
  // setgid file goes through the daemon instead, which clears the bits
  // exactly when the kernel says this writer lacks CAP_FSETID (and keeps
  // them for root). Checked before an existing backing file is shared.
  if (OpensForWriting(open_flags) && HasSetidBits(anchor)) return std::nullopt;
  if (inode.backing) {
    if (inode.open_count == 1) (void)kept_backings_.Take(inode.id);
    return inode.backing->id();
  }
  // Registered without CAP_FSETID, so that a file given the bits while
  // open for writing through passthrough loses them at the next write, as
  // it would for an unprivileged writer (a root writer would keep them
  // natively: the one case where the mount clears more than the kernel).
  Result<BackingFile> backing = Fail(EIO);
  {
    WithoutFsetid registering;
    backing = BackingFile::Open(device_, anchor);
  }
  counters_.backing_opens++;
  if (!backing) {
    inode.passthrough_refused = true;
    LogWarn("inode {} (source ino {}): kernel passthrough refused: {}; the daemon serves its I/O",
            inode.id.value, inode.ino, backing.error().message());
    return std::nullopt;
  }
  inode.backing = std::make_unique<BackingFile>(std::move(*backing));
  counters_.backing_files++;
  return inode.backing->id();
}

void PassthroughFs::DetachOpen(Inode& inode) {
  std::optional<NodeId> pushed_out;
  {
    std::lock_guard lock(OpenLock(inode));
    if (inode.open_count > 0) inode.in_use--;
    if (inode.open_count > 0 && --inode.open_count == 0 && inode.backing)
      pushed_out = kept_backings_.Keep(inode.id);
  }
  if (pushed_out) DropKeptBacking(*pushed_out);
}

void PassthroughFs::DropKeptBacking(NodeId node) {
  if (auto inode = inodes_->Get(node)) DropBacking(*inode);
}

void PassthroughFs::DropBacking(Inode& inode) {
  std::unique_ptr<BackingFile> releasing;
  {
    std::lock_guard lock(OpenLock(inode));
    if (inode.open_count == 0 && inode.backing) {
      releasing = std::move(inode.backing);
      counters_.backing_files--;
    }
  }
  // BACKING_CLOSE outside the lock; files already open keep their backing.
  if (releasing) (void)releasing->Close();
}

void PassthroughFs::ChangedBehindMount(std::optional<NodeId> node) {
  // A kept backing file shows SOURCE's file rightly (it is that inode), but
  // it holds the inode: a file deleted behind the mount would keep its
  // space until the kernel forgets it. And the next open's registration is
  // made afresh for a file whose mode or owner changed.
  if (!node) {
    for (NodeId kept : kept_backings_.TakeAll()) DropKeptBacking(kept);
  } else if (kept_backings_.Take(*node)) {
    DropKeptBacking(*node);
  }
}

FileHandle PassthroughFs::AddOpenFile(std::shared_ptr<Inode> inode, UniqueFd fd,
                                      bool passthrough_writable) {
  auto file = std::make_shared<OpenFile>();
  file->inode = std::move(inode);
  file->fd = std::move(fd);
  file->passthrough_writable = passthrough_writable;
  std::lock_guard lock(handles_mutex_);
  uint64_t fh = next_handle_++;
  files_.emplace(fh, std::move(file));
  return FileHandle(fh);
}

std::shared_ptr<PassthroughFs::OpenFile> PassthroughFs::GetOpenFile(FileHandle fh) {
  threads_.NoteCurrent();
  std::lock_guard lock(handles_mutex_);
  auto it = files_.find(fh.value);
  return it == files_.end() ? nullptr : it->second;
}

void PassthroughFs::Open(const Context& ctx, const req::Open& in, ReplyOpen reply) {
  auto pinned = Pin(ctx.node());
  if (!pinned) return reply.Error(pinned.error());
  Inode& inode = *pinned->inode;
  if (inode.type == S_IFDIR) return reply.Error(EISDIR);
  Result<UniqueFd> fd = Fail(EIO);
  {
    // FUSE_OPEN_KILL_SUIDGID: an O_TRUNC open by a caller without
    // CAP_FSETID, whose truncation clears the bits.
    AsCaller as_caller(ctx, kernel_checks_permissions(),
                       in.kill_suidgid ? Setid::kClear : Setid::kAsChecked);
    int flags = DaemonOpenFlags(in.flags);
    fd = Reopen(pinned->fd.get(), flags);
    // Write permission without read permission: open with the access mode
    // asked for (only partial-page writes through the cache can then fail).
    if (!fd && fd.error() == Errno(EACCES) && WithAccessMode(flags, in.flags) != flags)
      fd = Reopen(pinned->fd.get(), WithAccessMode(flags, in.flags));
  }
  if (!fd) return reply.Error(fd.error());
  auto backing = AttachOpen(inode, pinned->fd.get(), in.flags);
  OpenOptions options = FileOpenOptions(in.flags, backing.has_value());
  if (!backing && passthrough_active_ && !inode.passthrough_refused) {
    // Daemon-served next to passthrough opens of the same inode: the kernel
    // accepts that only for direct-I/O opens.
    options.direct_io = true;
  }
  if (!backing && !options.direct_io && options_.cache == CacheMode::kAuto)
    options.keep_cache = PageCacheStillValid(inode, fd->get());
  (backing ? counters_.passthrough_opens : counters_.daemon_opens)++;
  bool writable = backing && (in.flags & O_ACCMODE) != O_RDONLY;
  FileHandle fh = AddOpenFile(pinned->inode, std::move(*fd), writable);
  if (backing) return reply.Passthrough(fh, *backing, options);
  reply.Ok(fh, options);
}

void PassthroughFs::ReplyCreated(UniqueFd fd, int flags, uid_t viewer, ReplyCreate reply) {
  auto found = inodes_->Adopt(fd.get());
  if (!found) return reply.Error(found.error());
  auto& inode = found->inode;
  auto anchor = inodes_->Anchor(*inode);
  if (!anchor) {
    inodes_->Forget(inode->id, 1);
    return reply.Error(anchor.error());
  }
  Entry entry = MakeEntry(inode, found->st, viewer);
  auto backing = AttachOpen(*inode, anchor->get(), flags);
  OpenOptions options = FileOpenOptions(flags, backing.has_value());
  if (!backing && passthrough_active_ && !inode->passthrough_refused) options.direct_io = true;
  (backing ? counters_.passthrough_opens : counters_.daemon_opens)++;
  bool writable = backing && (flags & O_ACCMODE) != O_RDONLY;
  FileHandle fh = AddOpenFile(inode, std::move(fd), writable);
  if (backing) return reply.Passthrough(entry, fh, *backing, options);
  reply.Ok(entry, fh, options);
}

void PassthroughFs::Create(const Context& ctx, const req::Create& in, ReplyCreate reply) {
  auto parent = Pin(ctx.node());
  if (!parent) return reply.Error(parent.error());
  if (!IsPlainName(in.name)) return reply.Error(in.name.size() > 255 ? ENAMETOOLONG : EINVAL);
  std::string name(in.name);
  int flags = (in.flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC) & ~O_NOCTTY;
  // The creation policy is for a file this call makes, not one it opens.
  struct stat existing;
  bool existed = policy_.ChangesCreation() &&
                 ::fstatat(parent->fd.get(), name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
  UniqueFd fd;
  {
    // The new file's mode is as the kernel let it be; an existing file
    // truncated by a caller without CAP_FSETID (FUSE_OPEN_KILL_SUIDGID)
    // loses its setid bits.
    AsCaller as_caller(ctx, kernel_checks_permissions(),
                       in.kill_suidgid ? Setid::kClear : Setid::kAsChecked);
    CallerUmask umask(masks_modes_, in.umask);
    int daemon_flags = DaemonOpenFlags(flags);
    fd.reset(::openat(parent->fd.get(), name.c_str(), daemon_flags, umask.Mode(in.mode)));
    if (!fd && errno == EACCES && WithAccessMode(daemon_flags, flags) != daemon_flags)
      fd.reset(::openat(parent->fd.get(), name.c_str(), WithAccessMode(daemon_flags, flags),
                        umask.Mode(in.mode)));
  }
  if (!fd) return reply.Error(Errno::Last());
  if (!existed) {
    auto applied =
        ApplyCreationPolicy(parent->fd.get(), name, /*is_dir=*/false, ctx.uid(), ctx.gid());
    if (!applied) return reply.Error(applied.error());
  }
  ReplyCreated(std::move(fd), in.flags, ctx.uid(), std::move(reply));
}

void PassthroughFs::TmpFile(const Context& ctx, const req::TmpFile& in, ReplyCreate reply) {
  auto parent = Pin(ctx.node());
  if (!parent) return reply.Error(parent.error());
  int flags = (in.flags & ~(O_CREAT | O_EXCL | O_NOCTTY)) | O_TMPFILE | O_CLOEXEC;
  if ((flags & O_ACCMODE) == O_RDONLY) flags |= O_RDWR;  // O_TMPFILE needs write access
  flags = DaemonOpenFlags(flags);  // its creator may always read it
  UniqueFd fd;
  {
    AsCaller as_caller(ctx, kernel_checks_permissions());
    CallerUmask umask(masks_modes_, in.umask);
    fd.reset(::openat(parent->fd.get(), ".", flags, umask.Mode(in.mode)));
  }
  if (!fd) return reply.Error(Errno::Last());
  if (auto applied = ApplyCreationPolicy(fd.get(), ctx.uid(), ctx.gid()); !applied)
    return reply.Error(applied.error());
  ReplyCreated(std::move(fd), in.flags, ctx.uid(), std::move(reply));
}

void PassthroughFs::Read(const Context&, const req::Read& in, ReplyData reply) {
  auto file = GetOpenFile(in.fh);
  if (!file) return reply.Error(EBADF);
  // Spliced from the source file into the reply where the transport can.
  reply.FromFile(file->fd.get(), in.offset, in.size);
}

void PassthroughFs::Write(const Context& ctx, const req::Write& in, ReplyWrite reply) {
  auto file = GetOpenFile(in.fh);
  if (!file) return reply.Error(EBADF);
  // FUSE_WRITE_KILL_SUIDGID: the writer lacks CAP_FSETID. The write then
  // runs as the writer without it, so that the source filesystem clears
  // setuid (and setgid as its rules say for the writer's group) itself.
  std::optional<AsCaller> as_caller;
  if (in.kill_suidgid && HasSetidBits(file->fd.get()))
    as_caller.emplace(ctx, /*kernel_checked=*/true, Setid::kClear);
  ssize_t n;
  int fd_flags = in.from_page_cache ? ::fcntl(file->fd.get(), F_GETFL) : 0;
  if (fd_flags > 0 && (fd_flags & O_APPEND)) {
    // FUSE_WRITE_CACHE: dirty page-cache pages (a shared mmap, or writeback
    // cache) written back through whichever writable open of the inode the
    // kernel picked, which may be an O_APPEND one. These bytes belong at
    // `offset` exactly, but pwrite on an O_APPEND fd appends them at EOF
    // instead: it would corrupt the file. (write() appends are still left
    // to our O_APPEND fd, so they stay atomic against changes in SOURCE.)
    n = PWriteIgnoringAppend(file->fd.get(), in.data, static_cast<off_t>(in.offset));
  } else {
    n = ::pwrite(file->fd.get(), in.data.data(), in.data.size(), static_cast<off_t>(in.offset));
  }
  if (n < 0) return reply.Error(Errno::Last());
  reply.Ok(static_cast<uint32_t>(n));
}

void PassthroughFs::Flush(const Context&, const req::Flush& in, ReplyEmpty reply) {
  auto file = GetOpenFile(in.fh);
  if (!file) return reply.Error(EBADF);
  // close() of a duplicate reports deferred write errors of the source
  // filesystem (NFS and the like) at the caller's close(), as natively.
  UniqueFd dup(::fcntl(file->fd.get(), F_DUPFD_CLOEXEC, 0));
  if (!dup) return reply.Error(Errno::Last());
  if (::close(dup.release()) != 0) return reply.Error(Errno::Last());
  InvalidateAttributes(*file);
  reply.Ok();
}

void PassthroughFs::InvalidateAttributes(const OpenFile& file) {
  if (!file.passthrough_writable) return;
  // Offset -1: attributes only; the page cache is the backing file's.
  (void)notifier_.InvalInode(file.inode->id, -1, 0);
}

void PassthroughFs::Release(const Context&, const req::Release& in, ReplyEmpty reply) {
  std::shared_ptr<OpenFile> file;
  {
    std::lock_guard lock(handles_mutex_);
    auto it = files_.find(in.fh.value);
    if (it == files_.end()) return reply.Error(EBADF);
    file = std::move(it->second);
    files_.erase(it);
  }
  // Without FLUSH (noflush), attributes that mmap writes through the
  // backing file changed are invalidated here, when the file is let go.
  if (!source_.flush_reports_errors) InvalidateAttributes(*file);
  DetachOpen(*file->inode);
  file.reset();  // closes the fd
  reply.Ok();
}

void PassthroughFs::Fsync(const Context&, const req::Fsync& in, ReplyEmpty reply) {
  auto file = GetOpenFile(in.fh);
  if (!file) return reply.Error(EBADF);
  int rc = in.datasync ? ::fdatasync(file->fd.get()) : ::fsync(file->fd.get());
  if (rc != 0) return reply.Error(Errno::Last());
  InvalidateAttributes(*file);
  reply.Ok();
}

void PassthroughFs::Fallocate(const Context& ctx, const req::Fallocate& in, ReplyEmpty reply) {
  auto file = GetOpenFile(in.fh);
  if (!file) return reply.Error(EBADF);
  // The kernel says nothing of the caller's CAP_FSETID here: root is
  // taken to hold it, others not, and the source filesystem clears the
  // bits by its rules.
  std::optional<AsCaller> as_caller;
  if (HasSetidBits(file->fd.get())) as_caller.emplace(ctx, true, Setid::kRootKeeps);
  if (::fallocate(file->fd.get(), in.mode, static_cast<off_t>(in.offset),
                  static_cast<off_t>(in.length)) != 0)
    return reply.Error(Errno::Last());
  reply.Ok();
}

void PassthroughFs::Lseek(const Context&, const req::Lseek& in, ReplyLseek reply) {
  auto file = GetOpenFile(in.fh);
  if (!file) return reply.Error(EBADF);
  off_t off = ::lseek(file->fd.get(), static_cast<off_t>(in.offset), in.whence);
  if (off < 0) return reply.Error(Errno::Last());
  reply.Ok(static_cast<uint64_t>(off));
}

void PassthroughFs::CopyFileRange(const Context& ctx, const req::CopyFileRange& in,
                                  ReplyCopy reply) {
  auto from = GetOpenFile(in.fh_in);
  auto to = GetOpenFile(in.fh_out);
  if (!from || !to) return reply.Error(EBADF);
  // As for fallocate: the target loses setid bits unless the caller is root.
  std::optional<AsCaller> as_caller;
  if (HasSetidBits(to->fd.get())) as_caller.emplace(ctx, true, Setid::kRootKeeps);
  loff_t off_in = static_cast<loff_t>(in.offset_in);
  loff_t off_out = static_cast<loff_t>(in.offset_out);
  ssize_t n = ::copy_file_range(from->fd.get(), &off_in, to->fd.get(), &off_out, in.length,
                                static_cast<unsigned>(in.flags));
  if (n < 0) return reply.Error(Errno::Last());
  reply.Ok(static_cast<uint64_t>(n));
}

}  // namespace passthroughfs
