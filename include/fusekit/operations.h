// Operations: what a filesystem implements. One virtual method per FUSE
// operation; every default answers ENOSYS (which the kernel remembers for
// most operations and stops sending).
//
// Each method gets the request's context, its typed arguments (valid until
// the method returns) and a reply object that must be answered exactly once,
// now or later from any thread. Methods are called concurrently from the
// session's worker threads: implementations must be thread-safe.
#pragma once

#include <atomic>
#include <memory>

#include "fusekit/notifier.h"
#include "fusekit/stats.h"
#include "fusekit/reply.h"
#include "fusekit/requests.h"
#include "fusekit/unique_fd.h"

namespace fusekit {

class Session;

// Who asks, and whether the kernel has since interrupted the request.
// Copyable: an operation that answers later, from another thread, keeps a
// copy, and an INTERRUPT for its request still reaches that copy for as
// long as one exists.
struct Context {
  RequestHeader header;
  NodeId node() const { return header.node; }
  uint32_t uid() const { return header.uid; }
  uint32_t gid() const { return header.gid; }
  uint32_t pid() const { return header.pid; }
  // True once an INTERRUPT for this request arrived: a long or blocking
  // operation should stop and answer EINTR.
  bool interrupted() const;

  // Set by the dispatcher; null in a context made by hand (never
  // interrupted).
  std::shared_ptr<const std::atomic<bool>> interrupt_flag;
};

// What INIT settled, given to Operations::Init.
struct ConnectionInfo {
  uint32_t proto_major = 0;
  uint32_t proto_minor = 0;
  uint64_t kernel_flags = 0;  // the capabilities the kernel offered
  uint64_t flags = 0;         // the capabilities in force (offered and asked for)
  uint32_t max_readahead = 0;
  uint32_t max_write = 0;
  uint16_t max_pages = 0;
  uint32_t max_stack_depth = 0;
  uint32_t time_gran = 1;
  // The connection's /dev/fuse fd, for BackingFile::Open.
  std::shared_ptr<const UniqueFd> device;
  // For cache invalidations the kernel cannot see coming.
  Notifier notifier;
  // The session's statistics, live (for a filesystem that shows them).
  std::shared_ptr<const Stats> stats;
  bool has(uint64_t abi_flag) const { return (flags & abi_flag) != 0; }
  bool passthrough() const;
  // FUSE-over-io_uring was agreed (Config::io_uring and the kernel's
  // enable_uring): requests will come over per-CPU rings once the session
  // has registered them, right after Init. Should registration fail, the
  // kernel goes on with /dev/fuse (the session logs it).
  bool io_uring() const;
};

class Operations {
 public:
  virtual ~Operations() = default;

  // Called once after INIT, before any other request, with what was agreed.
  virtual void Init(const ConnectionInfo&) {}
  // DESTROY, or the end of the session: nothing more will be asked.
  virtual void Destroy() {}

  // FORGET and BATCH_FORGET: drop `nlookup` lookups of `node`. No reply.
  virtual void Forget(NodeId /*node*/, uint64_t /*nlookup*/) {}

  // Replies: Ok(entry) or Negative(timeout) or Error.
  virtual void Lookup(const Context&, const req::Lookup&, ReplyEntry r) { r.Error(ENOSYS); }
  virtual void GetAttr(const Context&, const req::GetAttr&, ReplyAttr r) { r.Error(ENOSYS); }
  virtual void SetAttr(const Context&, const req::SetAttr&, ReplyAttr r) { r.Error(ENOSYS); }
  virtual void ReadLink(const Context&, const req::ReadLink&, ReplyData r) { r.Error(ENOSYS); }
  virtual void SymLink(const Context&, const req::SymLink&, ReplyEntry r) { r.Error(ENOSYS); }
  virtual void MkNod(const Context&, const req::MkNod&, ReplyEntry r) { r.Error(ENOSYS); }
  virtual void MkDir(const Context&, const req::MkDir&, ReplyEntry r) { r.Error(ENOSYS); }
  virtual void Unlink(const Context&, const req::Unlink&, ReplyEmpty r) { r.Error(ENOSYS); }
  virtual void RmDir(const Context&, const req::RmDir&, ReplyEmpty r) { r.Error(ENOSYS); }
  // RENAME and RENAME2 (flags: RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT).
  virtual void Rename(const Context&, const req::Rename&, ReplyEmpty r) { r.Error(ENOSYS); }
  virtual void Link(const Context&, const req::Link&, ReplyEntry r) { r.Error(ENOSYS); }
  // Ok(fh, options) or Passthrough(fh, backing id, options).
  virtual void Open(const Context&, const req::Open&, ReplyOpen r) { r.Error(ENOSYS); }
  virtual void Read(const Context&, const req::Read&, ReplyData r) { r.Error(ENOSYS); }
  virtual void Write(const Context&, const req::Write&, ReplyWrite r) { r.Error(ENOSYS); }
  virtual void StatFs(const Context&, const req::StatFs&, ReplyStatfs r) { r.Error(ENOSYS); }
  virtual void Release(const Context&, const req::Release&, ReplyEmpty r) { r.Ok(); }
  virtual void Fsync(const Context&, const req::Fsync&, ReplyEmpty r) { r.Error(ENOSYS); }
  virtual void SetXattr(const Context&, const req::SetXattr&, ReplyEmpty r) { r.Error(ENOSYS); }
  virtual void GetXattr(const Context&, const req::GetXattr&, ReplyXattr r) { r.Error(ENOSYS); }
  virtual void ListXattr(const Context&, const req::ListXattr&, ReplyXattr r) { r.Error(ENOSYS); }
  virtual void RemoveXattr(const Context&, const req::RemoveXattr&, ReplyEmpty r) {
    r.Error(ENOSYS);
  }
  virtual void Flush(const Context&, const req::Flush&, ReplyEmpty r) { r.Error(ENOSYS); }
  virtual void OpenDir(const Context&, const req::OpenDir&, ReplyOpen r) { r.Error(ENOSYS); }
  virtual void ReadDir(const Context&, const req::ReadDir&, ReplyDir r) { r.Error(ENOSYS); }
  virtual void ReadDirPlus(const Context&, const req::ReadDirPlus&, ReplyDirPlus r) {
    r.Error(ENOSYS);
  }
  virtual void ReleaseDir(const Context&, const req::ReleaseDir&, ReplyEmpty r) { r.Ok(); }
  virtual void FsyncDir(const Context&, const req::FsyncDir&, ReplyEmpty r) { r.Error(ENOSYS); }
  virtual void GetLk(const Context&, const req::GetLk&, ReplyLock r) { r.Error(ENOSYS); }
  // SETLK and SETLKW (`sleep` true: wait for the lock; watch interrupted()).
  virtual void SetLk(const Context&, const req::SetLk&, bool /*sleep*/, ReplyEmpty r) {
    r.Error(ENOSYS);
  }
  virtual void Access(const Context&, const req::Access&, ReplyEmpty r) { r.Error(ENOSYS); }
  // Ok(entry, fh, options) or Passthrough(entry, fh, backing id, options).
  virtual void Create(const Context&, const req::Create&, ReplyCreate r) { r.Error(ENOSYS); }
  virtual void Bmap(const Context&, const req::Bmap&, ReplyBmap r) { r.Error(ENOSYS); }
  virtual void Ioctl(const Context&, const req::Ioctl&, ReplyIoctl r) { r.Error(ENOSYS); }
  virtual void Poll(const Context&, const req::Poll&, ReplyPoll r) { r.Error(ENOSYS); }
  virtual void Fallocate(const Context&, const req::Fallocate&, ReplyEmpty r) { r.Error(ENOSYS); }
  virtual void Lseek(const Context&, const req::Lseek&, ReplyLseek r) { r.Error(ENOSYS); }
  // COPY_FILE_RANGE and COPY_FILE_RANGE_64.
  virtual void CopyFileRange(const Context&, const req::CopyFileRange&, ReplyCopy r) {
    r.Error(ENOSYS);
  }
  virtual void SyncFs(const Context&, const req::SyncFs&, ReplyEmpty r) { r.Error(ENOSYS); }
  // O_TMPFILE: an unnamed file in the directory ctx.node().
  virtual void TmpFile(const Context&, const req::TmpFile&, ReplyCreate r) { r.Error(ENOSYS); }
  virtual void Statx(const Context&, const req::Statx&, ReplyStatx r) { r.Error(ENOSYS); }
};

}  // namespace fusekit
