#include "fusekit/session/dispatcher.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/log.h"
#include "fusekit/proto/describe.h"

namespace fusekit {
namespace {

// Routes a typed request to its Operations method with the right reply
// object. Requests the session handles itself never get here.
struct Caller {
  Operations& ops;
  const Context& ctx;
  ReplyBase& base;

#define FUSEKIT_CALL(Type, Method, ReplyType) \
  void operator()(const req::Type& r) { ops.Method(ctx, r, ReplyType(std::move(base))); }
  FUSEKIT_CALL(Lookup, Lookup, ReplyEntry)
  FUSEKIT_CALL(GetAttr, GetAttr, ReplyAttr)
  FUSEKIT_CALL(SetAttr, SetAttr, ReplyAttr)
  FUSEKIT_CALL(ReadLink, ReadLink, ReplyData)
  FUSEKIT_CALL(SymLink, SymLink, ReplyEntry)
  FUSEKIT_CALL(MkNod, MkNod, ReplyEntry)
  FUSEKIT_CALL(MkDir, MkDir, ReplyEntry)
  FUSEKIT_CALL(Unlink, Unlink, ReplyEmpty)
  FUSEKIT_CALL(RmDir, RmDir, ReplyEmpty)
  FUSEKIT_CALL(Rename, Rename, ReplyEmpty)
  FUSEKIT_CALL(Rename2, Rename, ReplyEmpty)
  FUSEKIT_CALL(Link, Link, ReplyEntry)
  FUSEKIT_CALL(Open, Open, ReplyOpen)
  FUSEKIT_CALL(Read, Read, ReplyData)
  FUSEKIT_CALL(Write, Write, ReplyWrite)
  FUSEKIT_CALL(StatFs, StatFs, ReplyStatfs)
  FUSEKIT_CALL(Release, Release, ReplyEmpty)
  FUSEKIT_CALL(Fsync, Fsync, ReplyEmpty)
  FUSEKIT_CALL(SetXattr, SetXattr, ReplyEmpty)
  FUSEKIT_CALL(RemoveXattr, RemoveXattr, ReplyEmpty)
  FUSEKIT_CALL(Flush, Flush, ReplyEmpty)
  FUSEKIT_CALL(OpenDir, OpenDir, ReplyOpen)
  FUSEKIT_CALL(ReleaseDir, ReleaseDir, ReplyEmpty)
  FUSEKIT_CALL(FsyncDir, FsyncDir, ReplyEmpty)
  FUSEKIT_CALL(GetLk, GetLk, ReplyLock)
  FUSEKIT_CALL(Access, Access, ReplyEmpty)
  FUSEKIT_CALL(Create, Create, ReplyCreate)
  FUSEKIT_CALL(Bmap, Bmap, ReplyBmap)
  FUSEKIT_CALL(Ioctl, Ioctl, ReplyIoctl)
  FUSEKIT_CALL(Poll, Poll, ReplyPoll)
  FUSEKIT_CALL(Fallocate, Fallocate, ReplyEmpty)
  FUSEKIT_CALL(Lseek, Lseek, ReplyLseek)
  FUSEKIT_CALL(CopyFileRange, CopyFileRange, ReplyCopy)
  FUSEKIT_CALL(CopyFileRange64, CopyFileRange, ReplyCopy)
  FUSEKIT_CALL(SyncFs, SyncFs, ReplyEmpty)
  FUSEKIT_CALL(TmpFile, TmpFile, ReplyCreate)
  FUSEKIT_CALL(Statx, Statx, ReplyStatx)
#undef FUSEKIT_CALL

  void operator()(const req::ReadDir& r) { ops.ReadDir(ctx, r, ReplyDir(std::move(base), r.size)); }
  void operator()(const req::ReadDirPlus& r) {
    ops.ReadDirPlus(ctx, r, ReplyDirPlus(std::move(base), r.size));
  }
  void operator()(const req::GetXattr& r) {
    ops.GetXattr(ctx, r, ReplyXattr(std::move(base), r.size ? r.size : UINT32_MAX));
  }
  void operator()(const req::ListXattr& r) {
    ops.ListXattr(ctx, r, ReplyXattr(std::move(base), r.size ? r.size : UINT32_MAX));
  }
  void operator()(const req::SetLk& r) { ops.SetLk(ctx, r, false, ReplyEmpty(std::move(base))); }
  void operator()(const req::SetLkW& r) { ops.SetLk(ctx, r, true, ReplyEmpty(std::move(base))); }

  // DAX mappings exist for virtiofs only.
  void operator()(const req::SetupMapping&) { base.Error(ENOSYS); }
  void operator()(const req::RemoveMapping&) { base.Error(ENOSYS); }
  // Handled by Dispatcher::Handle before routing; a stray one is a bug.
  template <typename T>
  void operator()(const T&) {
    base.Error(EIO);
  }
};

}  // namespace

bool Context::interrupted() const {
  return interrupt_flag && interrupt_flag->load(std::memory_order_relaxed);
}

bool ConnectionInfo::passthrough() const { return has(abi::FUSE_PASSTHROUGH); }
bool ConnectionInfo::io_uring() const { return has(abi::FUSE_OVER_IO_URING); }

Status Dispatcher::HandleInit(std::span<const std::byte> bytes, ReplySink& sink,
                              const Config& config) {
  auto decoded = proto::Decode(bytes);
  if (!decoded.ok()) {
    LogError("first request is not a valid INIT: {}", decoded.error().detail);
    return Fail(EPROTO);
  }
  auto& request = decoded.request();
  stats_.AddRequest(static_cast<uint32_t>(request.header.opcode));
  auto* init = std::get_if<req::Init>(&request.body);
  if (init == nullptr) {
    LogError("first request is {}, not INIT", OpcodeName(request.header.opcode));
    return Fail(EPROTO);
  }
  if (DebugLogging()) LogDebug("{}", proto::DescribeRequest(request));
  RequestId unique = request.header.unique;

  if (init->major > abi::kKernelVersion) {
    // Answer with our major only; the kernel then sends a new INIT.
    abi::fuse_init_out out{};
    out.major = abi::kKernelVersion;
    out.minor = abi::kKernelMinorVersion;
    iovec iov{&out, sizeof(out)};
    sink.Send(unique, Opcode::INIT, 0, {&iov, 1});
    return Fail(EAGAIN);
  }
  if (init->major < abi::kKernelVersion || init->minor < abi::kMinimumMinorVersion) {
    LogError("the kernel speaks FUSE protocol {}.{}; fusekit needs {}.{} or newer (Linux 5.17+)",
             init->major, init->minor, abi::kKernelVersion, abi::kMinimumMinorVersion);
    sink.Send(unique, Opcode::INIT, EPROTO, {});
    return Fail(EPROTO);
  }

  uint64_t want = config.want;
  if (want & abi::FUSE_PASSTHROUGH) want &= ~abi::FUSE_WRITEBACK_CACHE;
  uint64_t granted = want & init->flags;
  granted |= init->flags & abi::FUSE_INIT_EXT;

  abi::fuse_init_out out{};
  out.major = abi::kKernelVersion;
  out.minor = std::min(init->minor, abi::kKernelMinorVersion);
  out.max_readahead = std::min(config.max_readahead, init->max_readahead);
  out.max_write = config.max_write;
  out.max_background = config.max_background;
  out.congestion_threshold = config.congestion_threshold;
  out.time_gran = config.time_gran;
  if (granted & abi::FUSE_MAX_PAGES) {
    long page = ::sysconf(_SC_PAGESIZE);
    out.max_pages = static_cast<uint16_t>(
        std::min<uint64_t>(256, (config.max_write + page - 1) / static_cast<uint64_t>(page)));
  }
  if (granted & abi::FUSE_PASSTHROUGH) out.max_stack_depth = config.max_stack_depth;
  out.flags = static_cast<uint32_t>(granted);
  out.flags2 = static_cast<uint32_t>(granted >> 32);

  ConnectionInfo& info = shared_.connection;
  info.proto_major = out.major;
  info.proto_minor = out.minor;
  info.kernel_flags = init->flags;
  info.flags = granted;
  info.max_readahead = out.max_readahead;
  info.max_write = out.max_write;
  info.max_pages = out.max_pages;
  info.max_stack_depth = out.max_stack_depth;
  info.time_gran = out.time_gran;
  info.device = shared_.device;
  shared_.decode.setxattr_ext = granted & abi::FUSE_SETXATTR_EXT;

  iovec iov{&out, sizeof(out)};
  sink.Send(unique, Opcode::INIT, 0, {&iov, 1});
  shared_.initialized = true;
  // The notifier goes only to the filesystem's copy: kept in shared_ it
  // would hold shared_ itself, a cycle that never frees the device fd. It
  // is null (ENOTCONN) when the shared state is not owned by a session, as
  // in tests that drive the dispatcher alone.
  ConnectionInfo for_ops = info;
  for_ops.notifier = Notifier(shared_.weak_from_this().lock());
  for_ops.stats = shared_.stats;
  ops_.Init(for_ops);
  shared_.ready = true;
  return Ok();
}

void Dispatcher::Interrupt(RequestId target) {
  std::lock_guard lock(inflight_->mutex);
  auto it = inflight_->flags.find(target.value);
  if (it != inflight_->flags.end()) {
    it->second->store(true, std::memory_order_relaxed);
    return;
  }
  // Not found: finished, or read by another worker that has not registered
  // it yet. Kept for a while for the second case (the kernel never reuses
  // a unique, so a finished request's entry matches nothing and expires).
  // Not answered EAGAIN: the kernel looks the target up only among the
  // requests read from the fd the answer comes back on, and with cloned
  // fds that is seldom the worker's own.
  auto now = std::chrono::steady_clock::now();
  auto& early = inflight_->early_interrupts;
  std::erase_if(early, [&](const auto& e) { return now - e.second > kEarlyInterruptLife; });
  if (early.size() < kMaxEarlyInterrupts) early.emplace(target.value, now);
}

void Dispatcher::Handle(std::span<const std::byte> bytes, const std::shared_ptr<ReplySink>& sink) {
  const uint64_t start_ns = Stats::Now();
  auto decoded = proto::Decode(bytes, shared_.decode);
  if (!decoded.ok()) {
    const auto& error = decoded.error();
    stats_.AddRequest(static_cast<uint32_t>(error.header.opcode));
    LogWarn("bad request: {}", error.detail);
    int reply_errno = error.reply_errno();
    bool answerable = reply_errno != 0 && error.header.unique.value != 0 &&
                      error.header.opcode != Opcode::FORGET &&
                      error.header.opcode != Opcode::BATCH_FORGET &&
                      error.header.opcode != Opcode::INTERRUPT &&
                      error.header.opcode != Opcode::NOTIFY_REPLY;
    if (answerable) ReplyBase(sink, error.header.unique, error.header.opcode, start_ns).Error(reply_errno);
    return;
  }
  proto::Request& request = decoded.request();
  const RequestHeader& h = request.header;
  stats_.AddRequest(static_cast<uint32_t>(h.opcode));
  if (DebugLogging()) LogDebug("{}", proto::DescribeRequest(request));

  switch (h.opcode) {
    case Opcode::FORGET:
      ops_.Forget(h.node, std::get<req::Forget>(request.body).nlookup);
      return;
    case Opcode::BATCH_FORGET:
      for (const auto& item : std::get<req::BatchForget>(request.body).items)
        ops_.Forget(item.node, item.nlookup);
      return;
    case Opcode::INTERRUPT:
      Interrupt(std::get<req::Interrupt>(request.body).target);
      return;
    case Opcode::NOTIFY_REPLY: {
      Notifier::RetrieveDone done;
      {
        std::lock_guard lock(shared_.retrieve_mutex);
        auto it = shared_.retrieves.find(h.unique.value);
        if (it != shared_.retrieves.end()) {
          done = std::move(it->second);
          shared_.retrieves.erase(it);
        }
      }
      const auto& r = std::get<req::NotifyReply>(request.body);
      if (done) done(r.offset, r.data);
      return;
    }
    case Opcode::INIT:
      LogWarn("INIT received twice; answering EIO");
      ReplyBase(sink, h.unique, h.opcode, start_ns).Error(EIO);
      return;
    case Opcode::DESTROY:
      destroyed_ = true;
      ops_.Destroy();
      ReplyEmpty(ReplyBase(sink, h.unique, h.opcode, start_ns)).Ok();
      return;
    default:
      break;
  }

  auto* flag = new std::atomic<bool>(false);
  {
    std::lock_guard lock(inflight_->mutex);
    inflight_->flags[h.unique.value] = flag;
    // Its INTERRUPT may have been read (by another worker) before it was.
    if (!inflight_->early_interrupts.empty() && inflight_->early_interrupts.erase(h.unique.value))
      flag->store(true, std::memory_order_relaxed);
  }
  // The entry goes with the last context of the request (the check that
  // it is still this request's is defensive: uniques are never reused).
  auto forget = [inflight = inflight_, unique = h.unique.value](std::atomic<bool>* done) {
    {
      std::lock_guard lock(inflight->mutex);
      auto it = inflight->flags.find(unique);
      if (it != inflight->flags.end() && it->second == done) inflight->flags.erase(it);
    }
    delete done;
  };
  Context ctx{h, std::shared_ptr<const std::atomic<bool>>(flag, std::move(forget))};
  Route(ctx, request, sink, start_ns);
}

void Dispatcher::Route(const Context& ctx, proto::Request& request,
                       const std::shared_ptr<ReplySink>& sink, uint64_t start_ns) {
  ReplyBase base(sink, ctx.header.unique, ctx.header.opcode, start_ns);
  try {
    std::visit(Caller{ops_, ctx, base}, request.body);
  } catch (const std::exception& e) {
    // No exception crosses the request path: the reply (if still held by
    // `base`, or already dropped with EIO by the operation's frame) answers.
    LogError("{} (unique {}) threw: {}", OpcodeName(ctx.header.opcode), ctx.header.unique.value,
             e.what());
    if (!base.sent()) base.Error(EIO);
  } catch (...) {
    LogError("{} (unique {}) threw a non-exception", OpcodeName(ctx.header.opcode),
             ctx.header.unique.value);
    if (!base.sent()) base.Error(EIO);
  }
}

}  // namespace fusekit
