// ForwardingOperations: passes every operation to another filesystem, so
// that a layer over it (an audit trail, a policy, a tracer) overrides only
// the operations it changes and calls the base for the rest of the work.
//
// Thread-safety: that of the filesystem it forwards to.
#pragma once

#include "fusekit/operations.h"

namespace fusekit {

class ForwardingOperations : public Operations {
 public:
  // `inner` must outlive this object.
  explicit ForwardingOperations(Operations& inner) : inner_(inner) {}

  void Init(const ConnectionInfo&) override;
  void Destroy() override;
  void Forget(NodeId, uint64_t) override;
  void Lookup(const Context&, const req::Lookup&, ReplyEntry) override;
  void GetAttr(const Context&, const req::GetAttr&, ReplyAttr) override;
  void SetAttr(const Context&, const req::SetAttr&, ReplyAttr) override;
  void ReadLink(const Context&, const req::ReadLink&, ReplyData) override;
  void SymLink(const Context&, const req::SymLink&, ReplyEntry) override;
  void MkNod(const Context&, const req::MkNod&, ReplyEntry) override;
  void MkDir(const Context&, const req::MkDir&, ReplyEntry) override;
  void Unlink(const Context&, const req::Unlink&, ReplyEmpty) override;
  void RmDir(const Context&, const req::RmDir&, ReplyEmpty) override;
  void Rename(const Context&, const req::Rename&, ReplyEmpty) override;
  void Link(const Context&, const req::Link&, ReplyEntry) override;
  void Open(const Context&, const req::Open&, ReplyOpen) override;
  void Read(const Context&, const req::Read&, ReplyData) override;
  void Write(const Context&, const req::Write&, ReplyWrite) override;
  void StatFs(const Context&, const req::StatFs&, ReplyStatfs) override;
  void Release(const Context&, const req::Release&, ReplyEmpty) override;
  void Fsync(const Context&, const req::Fsync&, ReplyEmpty) override;
  void SetXattr(const Context&, const req::SetXattr&, ReplyEmpty) override;
  void GetXattr(const Context&, const req::GetXattr&, ReplyXattr) override;
  void ListXattr(const Context&, const req::ListXattr&, ReplyXattr) override;
  void RemoveXattr(const Context&, const req::RemoveXattr&, ReplyEmpty) override;
  void Flush(const Context&, const req::Flush&, ReplyEmpty) override;
  void OpenDir(const Context&, const req::OpenDir&, ReplyOpen) override;
  void ReadDir(const Context&, const req::ReadDir&, ReplyDir) override;
  void ReadDirPlus(const Context&, const req::ReadDirPlus&, ReplyDirPlus) override;
  void ReleaseDir(const Context&, const req::ReleaseDir&, ReplyEmpty) override;
  void FsyncDir(const Context&, const req::FsyncDir&, ReplyEmpty) override;
  void GetLk(const Context&, const req::GetLk&, ReplyLock) override;
  void SetLk(const Context&, const req::SetLk&, bool, ReplyEmpty) override;
  void Access(const Context&, const req::Access&, ReplyEmpty) override;
  void Create(const Context&, const req::Create&, ReplyCreate) override;
  void Bmap(const Context&, const req::Bmap&, ReplyBmap) override;
  void Ioctl(const Context&, const req::Ioctl&, ReplyIoctl) override;
  void Poll(const Context&, const req::Poll&, ReplyPoll) override;
  void Fallocate(const Context&, const req::Fallocate&, ReplyEmpty) override;
  void Lseek(const Context&, const req::Lseek&, ReplyLseek) override;
  void CopyFileRange(const Context&, const req::CopyFileRange&, ReplyCopy) override;
  void SyncFs(const Context&, const req::SyncFs&, ReplyEmpty) override;
  void TmpFile(const Context&, const req::TmpFile&, ReplyCreate) override;
  void Statx(const Context&, const req::Statx&, ReplyStatx) override;

 protected:
  Operations& inner() const { return inner_; }

 private:
  Operations& inner_;
};

}  // namespace fusekit
