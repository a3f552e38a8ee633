// CallerGate: a layer that refuses (EACCES) every request that would read
// or change SOURCE from a caller it does not admit (-o mirror-only=: root
// and the mirrored users only).
//
// The policy already shows other callers no permission bits, and the
// kernel checks them (default_permissions); but with a view per caller the
// kernel's one copy of a file's attributes may, within the same jiffy,
// be the one a mirrored user fetched. The gate is what stops such a caller
// at the daemon: lookups, opens, listings, links, xattrs and changes.
// GETATTR and STATX are let through (they answer the caller's own view),
// and so are requests on files already open.
//
// Thread-safety: as the filesystem below; `admits` is called from any
// worker.
#pragma once

#include <sys/types.h>

#include <functional>

#include "fusekit/forwarding_operations.h"

namespace passthroughfs {

class CallerGate : public fusekit::ForwardingOperations {
 public:
  CallerGate(fusekit::Operations& inner, std::function<bool(uid_t)> admits)
      : ForwardingOperations(inner), admits_(std::move(admits)) {}

  void Lookup(const fusekit::Context&, const fusekit::req::Lookup&, fusekit::ReplyEntry) override;
  void SetAttr(const fusekit::Context&, const fusekit::req::SetAttr&, fusekit::ReplyAttr) override;
  void ReadLink(const fusekit::Context&, const fusekit::req::ReadLink&, fusekit::ReplyData) override;
  void SymLink(const fusekit::Context&, const fusekit::req::SymLink&, fusekit::ReplyEntry) override;
  void MkNod(const fusekit::Context&, const fusekit::req::MkNod&, fusekit::ReplyEntry) override;
  void MkDir(const fusekit::Context&, const fusekit::req::MkDir&, fusekit::ReplyEntry) override;
  void Unlink(const fusekit::Context&, const fusekit::req::Unlink&, fusekit::ReplyEmpty) override;
  void RmDir(const fusekit::Context&, const fusekit::req::RmDir&, fusekit::ReplyEmpty) override;
  void Rename(const fusekit::Context&, const fusekit::req::Rename&, fusekit::ReplyEmpty) override;
  void Link(const fusekit::Context&, const fusekit::req::Link&, fusekit::ReplyEntry) override;
  void Open(const fusekit::Context&, const fusekit::req::Open&, fusekit::ReplyOpen) override;
  void Create(const fusekit::Context&, const fusekit::req::Create&, fusekit::ReplyCreate) override;
  void TmpFile(const fusekit::Context&, const fusekit::req::TmpFile&,
               fusekit::ReplyCreate) override;
  void OpenDir(const fusekit::Context&, const fusekit::req::OpenDir&, fusekit::ReplyOpen) override;
  void ReadDir(const fusekit::Context&, const fusekit::req::ReadDir&, fusekit::ReplyDir) override;
  void ReadDirPlus(const fusekit::Context&, const fusekit::req::ReadDirPlus&,
                   fusekit::ReplyDirPlus) override;
  void SetXattr(const fusekit::Context&, const fusekit::req::SetXattr&,
                fusekit::ReplyEmpty) override;
  void GetXattr(const fusekit::Context&, const fusekit::req::GetXattr&,
                fusekit::ReplyXattr) override;
  void ListXattr(const fusekit::Context&, const fusekit::req::ListXattr&,
                 fusekit::ReplyXattr) override;
  void RemoveXattr(const fusekit::Context&, const fusekit::req::RemoveXattr&,
                   fusekit::ReplyEmpty) override;
  void Access(const fusekit::Context&, const fusekit::req::Access&, fusekit::ReplyEmpty) override;

 private:
  const std::function<bool(uid_t)> admits_;
};

}  // namespace passthroughfs
