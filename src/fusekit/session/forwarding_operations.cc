#include "fusekit/forwarding_operations.h"

#include <utility>

namespace fusekit {

void ForwardingOperations::Init(const ConnectionInfo& info) {
  inner_.Init(info);
}

void ForwardingOperations::Destroy() {
  inner_.Destroy();
}

void ForwardingOperations::Forget(NodeId node, uint64_t nlookup) {
  inner_.Forget(node, nlookup);
}

void ForwardingOperations::Lookup(const Context& ctx, const req::Lookup& in, ReplyEntry reply) {
  inner_.Lookup(ctx, in, std::move(reply));
}

void ForwardingOperations::GetAttr(const Context& ctx, const req::GetAttr& in, ReplyAttr reply) {
  inner_.GetAttr(ctx, in, std::move(reply));
}

void ForwardingOperations::SetAttr(const Context& ctx, const req::SetAttr& in, ReplyAttr reply) {
  inner_.SetAttr(ctx, in, std::move(reply));
}

void ForwardingOperations::ReadLink(const Context& ctx, const req::ReadLink& in, ReplyData reply) {
  inner_.ReadLink(ctx, in, std::move(reply));
}

void ForwardingOperations::SymLink(const Context& ctx, const req::SymLink& in, ReplyEntry reply) {
  inner_.SymLink(ctx, in, std::move(reply));
}

void ForwardingOperations::MkNod(const Context& ctx, const req::MkNod& in, ReplyEntry reply) {
  inner_.MkNod(ctx, in, std::move(reply));
}

void ForwardingOperations::MkDir(const Context& ctx, const req::MkDir& in, ReplyEntry reply) {
  inner_.MkDir(ctx, in, std::move(reply));
}

void ForwardingOperations::Unlink(const Context& ctx, const req::Unlink& in, ReplyEmpty reply) {
  inner_.Unlink(ctx, in, std::move(reply));
}

void ForwardingOperations::RmDir(const Context& ctx, const req::RmDir& in, ReplyEmpty reply) {
  inner_.RmDir(ctx, in, std::move(reply));
}

void ForwardingOperations::Rename(const Context& ctx, const req::Rename& in, ReplyEmpty reply) {
  inner_.Rename(ctx, in, std::move(reply));
}

void ForwardingOperations::Link(const Context& ctx, const req::Link& in, ReplyEntry reply) {
  inner_.Link(ctx, in, std::move(reply));
}

void ForwardingOperations::Open(const Context& ctx, const req::Open& in, ReplyOpen reply) {
  inner_.Open(ctx, in, std::move(reply));
}

void ForwardingOperations::Read(const Context& ctx, const req::Read& in, ReplyData reply) {
  inner_.Read(ctx, in, std::move(reply));
}

void ForwardingOperations::Write(const Context& ctx, const req::Write& in, ReplyWrite reply) {
  inner_.Write(ctx, in, std::move(reply));
}

void ForwardingOperations::StatFs(const Context& ctx, const req::StatFs& in, ReplyStatfs reply) {
  inner_.StatFs(ctx, in, std::move(reply));
}

void ForwardingOperations::Release(const Context& ctx, const req::Release& in, ReplyEmpty reply) {
  inner_.Release(ctx, in, std::move(reply));
}

void ForwardingOperations::Fsync(const Context& ctx, const req::Fsync& in, ReplyEmpty reply) {
  inner_.Fsync(ctx, in, std::move(reply));
}

void ForwardingOperations::SetXattr(const Context& ctx, const req::SetXattr& in, ReplyEmpty reply) {
  inner_.SetXattr(ctx, in, std::move(reply));
}

void ForwardingOperations::GetXattr(const Context& ctx, const req::GetXattr& in, ReplyXattr reply) {
  inner_.GetXattr(ctx, in, std::move(reply));
}

void ForwardingOperations::ListXattr(const Context& ctx, const req::ListXattr& in, ReplyXattr reply) {
  inner_.ListXattr(ctx, in, std::move(reply));
}

void ForwardingOperations::RemoveXattr(const Context& ctx, const req::RemoveXattr& in, ReplyEmpty reply) {
  inner_.RemoveXattr(ctx, in, std::move(reply));
}

void ForwardingOperations::Flush(const Context& ctx, const req::Flush& in, ReplyEmpty reply) {
  inner_.Flush(ctx, in, std::move(reply));
}

void ForwardingOperations::OpenDir(const Context& ctx, const req::OpenDir& in, ReplyOpen reply) {
  inner_.OpenDir(ctx, in, std::move(reply));
}

void ForwardingOperations::ReadDir(const Context& ctx, const req::ReadDir& in, ReplyDir reply) {
  inner_.ReadDir(ctx, in, std::move(reply));
}

void ForwardingOperations::ReadDirPlus(const Context& ctx, const req::ReadDirPlus& in, ReplyDirPlus reply) {
  inner_.ReadDirPlus(ctx, in, std::move(reply));
}

void ForwardingOperations::ReleaseDir(const Context& ctx, const req::ReleaseDir& in, ReplyEmpty reply) {
  inner_.ReleaseDir(ctx, in, std::move(reply));
}

void ForwardingOperations::FsyncDir(const Context& ctx, const req::FsyncDir& in, ReplyEmpty reply) {
  inner_.FsyncDir(ctx, in, std::move(reply));
}

void ForwardingOperations::GetLk(const Context& ctx, const req::GetLk& in, ReplyLock reply) {
  inner_.GetLk(ctx, in, std::move(reply));
}

void ForwardingOperations::SetLk(const Context& ctx, const req::SetLk& in, bool sleep, ReplyEmpty reply) {
  inner_.SetLk(ctx, in, sleep, std::move(reply));
}

void ForwardingOperations::Access(const Context& ctx, const req::Access& in, ReplyEmpty reply) {
  inner_.Access(ctx, in, std::move(reply));
}

void ForwardingOperations::Create(const Context& ctx, const req::Create& in, ReplyCreate reply) {
  inner_.Create(ctx, in, std::move(reply));
}

void ForwardingOperations::Bmap(const Context& ctx, const req::Bmap& in, ReplyBmap reply) {
  inner_.Bmap(ctx, in, std::move(reply));
}

void ForwardingOperations::Ioctl(const Context& ctx, const req::Ioctl& in, ReplyIoctl reply) {
  inner_.Ioctl(ctx, in, std::move(reply));
}

void ForwardingOperations::Poll(const Context& ctx, const req::Poll& in, ReplyPoll reply) {
  inner_.Poll(ctx, in, std::move(reply));
}

void ForwardingOperations::Fallocate(const Context& ctx, const req::Fallocate& in, ReplyEmpty reply) {
  inner_.Fallocate(ctx, in, std::move(reply));
}

void ForwardingOperations::Lseek(const Context& ctx, const req::Lseek& in, ReplyLseek reply) {
  inner_.Lseek(ctx, in, std::move(reply));
}

void ForwardingOperations::CopyFileRange(const Context& ctx, const req::CopyFileRange& in, ReplyCopy reply) {
  inner_.CopyFileRange(ctx, in, std::move(reply));
}

void ForwardingOperations::SyncFs(const Context& ctx, const req::SyncFs& in, ReplyEmpty reply) {
  inner_.SyncFs(ctx, in, std::move(reply));
}

void ForwardingOperations::TmpFile(const Context& ctx, const req::TmpFile& in, ReplyCreate reply) {
  inner_.TmpFile(ctx, in, std::move(reply));
}

void ForwardingOperations::Statx(const Context& ctx, const req::Statx& in, ReplyStatx reply) {
  inner_.Statx(ctx, in, std::move(reply));
}

}  // namespace fusekit
