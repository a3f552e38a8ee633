// AuditedFs: the audit trail's layer over a filesystem (-o audit=PATH).
//
// Every change asked of the mount gets one record, written to the trail's
// queue before the caller sees the answer, denials included: create,
// mknod, mkdir, symlink, link, unlink, rmdir, rename, setattr, setxattr,
// removexattr, fallocate, copy_file_range, tmpfile, and opens for writing
// or truncating. Writes are not recorded: passthrough writes never reach
// the daemon, so the open for writing stands for them.
//
// Paths are taken before the change (a renamed or deleted name is recorded
// as it was) and are below SOURCE ("." for its root). A file's own path
// (setattr, open, ...) is one of its names, as the kernel last resolved it.
//
// With a required trail that cannot be written, every change is refused
// with EIO before it reaches the filesystem below, and not recorded.
//
// Thread-safety: as the filesystem below; the trail takes any thread.
#pragma once

#include <functional>
#include <string>

#include "audit_trail.h"
#include "fusekit/forwarding_operations.h"
#include "process_names.h"

namespace passthroughfs {

class AuditedFs : public fusekit::ForwardingOperations {
 public:
  // Where a node is below SOURCE ("." for the root), or why not.
  using PathOf = std::function<fusekit::Result<std::string>(fusekit::NodeId)>;
  // `inner` and `trail` must outlive this object.
  AuditedFs(fusekit::Operations& inner, AuditTrail& trail, PathOf path_of);

  void SetAttr(const fusekit::Context&, const fusekit::req::SetAttr&, fusekit::ReplyAttr) override;
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
  void SetXattr(const fusekit::Context&, const fusekit::req::SetXattr&,
                fusekit::ReplyEmpty) override;
  void RemoveXattr(const fusekit::Context&, const fusekit::req::RemoveXattr&,
                   fusekit::ReplyEmpty) override;
  void Fallocate(const fusekit::Context&, const fusekit::req::Fallocate&,
                 fusekit::ReplyEmpty) override;
  void CopyFileRange(const fusekit::Context&, const fusekit::req::CopyFileRange&,
                     fusekit::ReplyCopy) override;

 private:
  // The record of `op` by the caller of `ctx` on `path`, its result still
  // to come.
  AuditRecord Begin(const fusekit::Context& ctx, std::string_view op, std::string path);
  // Where `node` is, or "?" when that cannot be told.
  std::string WhereIs(fusekit::NodeId node) const;
  std::string ChildPath(fusekit::NodeId parent, std::string_view name) const;
  // Records `record` with the answer's errno just before it is sent.
  void RecordAnswer(fusekit::ReplyBase& reply, AuditRecord record);
  // A required trail that cannot be written: answers EIO, true.
  bool Refused(fusekit::ReplyBase& reply);

  AuditTrail& trail_;
  const PathOf path_of_;
  ProcessNames names_;
};

}  // namespace passthroughfs
