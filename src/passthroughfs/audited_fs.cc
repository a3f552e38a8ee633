#include "audited_fs.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

namespace passthroughfs {

using namespace fusekit;  // NOLINT: this file implements fusekit::Operations

namespace {

// Names of the set bits of `flags`, as a JSON array.
template <size_t N>
std::string FlagNames(uint64_t flags, const std::pair<uint64_t, const char*> (&names)[N]) {
  std::string out = "[";
  for (const auto& [bit, name] : names) {
    if ((flags & bit) != bit) continue;
    if (out.size() > 1) out += ',';
    out += JsonString(name);
  }
  return out + "]";
}

std::string OpenFlags(int flags) {
  static const std::pair<uint64_t, const char*> kNames[] = {
      {O_CREAT, "creat"}, {O_EXCL, "excl"},     {O_TRUNC, "trunc"},
      {O_APPEND, "append"}, {O_DIRECT, "direct"}, {O_SYNC, "sync"}};
  std::string access = (flags & O_ACCMODE) == O_WRONLY ? "wronly"
                       : (flags & O_ACCMODE) == O_RDWR ? "rdwr"
                                                       : "rdonly";
  std::string rest = FlagNames(static_cast<unsigned>(flags), kNames);
  return "[" + JsonString(access) + (rest.size() > 2 ? "," + rest.substr(1) : "]");
}

std::string TimeValue(const req::TimeUpdate& t) {
  if (t.kind == req::TimeUpdate::Kind::kNow) return JsonString("now");
  char text[48];
  std::snprintf(text, sizeof(text), "%lld.%09ld", static_cast<long long>(t.value.tv_sec),
                t.value.tv_nsec);
  return text;
}

const char* FileTypeName(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "file";
    case S_IFIFO: return "fifo";
    case S_IFCHR: return "chr";
    case S_IFBLK: return "blk";
    case S_IFSOCK: return "sock";
    default: return "other";
  }
}

bool OpensForChange(int flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC); }

}  // namespace

AuditedFs::AuditedFs(Operations& inner, AuditTrail& trail, PathOf path_of)
    : ForwardingOperations(inner), trail_(trail), path_of_(std::move(path_of)) {}

AuditRecord AuditedFs::Begin(const Context& ctx, std::string_view op, std::string path) {
  AuditRecord r;
  r.uid = ctx.uid();
  r.gid = ctx.gid();
  r.pid = ctx.pid();
  // Read while the request is pending: the caller is still there.
  r.comm = names_.Name(ctx.pid());
  r.op = op;
  r.path = std::move(path);
  return r;
}

std::string AuditedFs::WhereIs(NodeId node) const {
  auto path = path_of_(node);
  return path ? std::move(*path) : "?";
}

std::string AuditedFs::ChildPath(NodeId parent, std::string_view name) const {
  std::string dir = WhereIs(parent);
  if (dir == ".") return std::string(name);
  return dir + "/" + std::string(name);
}

void AuditedFs::RecordAnswer(ReplyBase& reply, AuditRecord record) {
  reply.BeforeSend([this, record = std::move(record)](int error) mutable {
    record.error = error;
    ::clock_gettime(CLOCK_REALTIME, &record.time);
    trail_.Record(record);
  });
}

bool AuditedFs::Refused(ReplyBase& reply) {
  if (!trail_.Refusing()) return false;
  reply.Error(EIO);
  return true;
}

void AuditedFs::SetAttr(const Context& ctx, const req::SetAttr& in, ReplyAttr reply) {
  if (Refused(reply)) return;
  AuditRecord r = Begin(ctx, "setattr", WhereIs(ctx.node()));
  AuditMembers m;
  if (in.mode) m.AddOctal("mode", *in.mode & 07777);
  // The record's uid and gid are the caller's: the new ones are these.
  if (in.uid) m.Add("owner", uint64_t{*in.uid});
  if (in.gid) m.Add("group", uint64_t{*in.gid});
  if (in.size) m.Add("size", *in.size);
  if (!in.atime.omitted()) m.AddRaw("atime", TimeValue(in.atime));
  if (!in.mtime.omitted()) m.AddRaw("mtime", TimeValue(in.mtime));
  r.details = m.Take();
  RecordAnswer(reply, std::move(r));
  inner().SetAttr(ctx, in, std::move(reply));
}

void AuditedFs::SymLink(const Context& ctx, const req::SymLink& in, ReplyEntry reply) {
  if (Refused(reply)) return;
  AuditRecord r = Begin(ctx, "symlink", ChildPath(ctx.node(), in.name));
  r.path2_key = "target";
  r.path2 = std::string(in.target);
  RecordAnswer(reply, std::move(r));
  inner().SymLink(ctx, in, std::move(reply));
}

void AuditedFs::MkNod(const Context& ctx, const req::MkNod& in, ReplyEntry reply) {
  if (Refused(reply)) return;
  AuditRecord r = Begin(ctx, "mknod", ChildPath(ctx.node(), in.name));
  AuditMembers m;
  m.Add("type", FileTypeName(in.mode)).AddOctal("mode", in.mode & 07777);
  if (S_ISCHR(in.mode) || S_ISBLK(in.mode))
    m.Add("major", uint64_t{major(in.rdev)}).Add("minor", uint64_t{minor(in.rdev)});
  r.details = m.Take();
  RecordAnswer(reply, std::move(r));
  inner().MkNod(ctx, in, std::move(reply));
}

void AuditedFs::MkDir(const Context& ctx, const req::MkDir& in, ReplyEntry reply) {
  if (Refused(reply)) return;
  AuditRecord r = Begin(ctx, "mkdir", ChildPath(ctx.node(), in.name));
  r.details = AuditMembers().AddOctal("mode", in.mode & 07777).Take();
  RecordAnswer(reply, std::move(r));
  inner().MkDir(ctx, in, std::move(reply));
}

void AuditedFs::Unlink(const Context& ctx, const req::Unlink& in, ReplyEmpty reply) {
  if (Refused(reply)) return;
  RecordAnswer(reply, Begin(ctx, "unlink", ChildPath(ctx.node(), in.name)));
  inner().Unlink(ctx, in, std::move(reply));
}

void AuditedFs::RmDir(const Context& ctx, const req::RmDir& in, ReplyEmpty reply) {
  if (Refused(reply)) return;
  RecordAnswer(reply, Begin(ctx, "rmdir", ChildPath(ctx.node(), in.name)));
  inner().RmDir(ctx, in, std::move(reply));
}

void AuditedFs::Rename(const Context& ctx, const req::Rename& in, ReplyEmpty reply) {
  if (Refused(reply)) return;
  static const std::pair<uint64_t, const char*> kNames[] = {
      {RENAME_NOREPLACE, "noreplace"}, {RENAME_EXCHANGE, "exchange"}, {RENAME_WHITEOUT, "whiteout"}};
  AuditRecord r = Begin(ctx, "rename", ChildPath(ctx.node(), in.name));
  r.path2_key = "new_path";
  r.path2 = ChildPath(in.new_parent, in.new_name);
  if (in.flags != 0) r.details = AuditMembers().AddRaw("flags", FlagNames(in.flags, kNames)).Take();
  RecordAnswer(reply, std::move(r));
  inner().Rename(ctx, in, std::move(reply));
}

void AuditedFs::Link(const Context& ctx, const req::Link& in, ReplyEntry reply) {
  if (Refused(reply)) return;
  AuditRecord r = Begin(ctx, "link", ChildPath(ctx.node(), in.new_name));
  r.path2_key = "target";
  r.path2 = WhereIs(in.target);
  RecordAnswer(reply, std::move(r));
  inner().Link(ctx, in, std::move(reply));
}

void AuditedFs::Open(const Context& ctx, const req::Open& in, ReplyOpen reply) {
  if (OpensForChange(in.flags)) {
    if (Refused(reply)) return;
    AuditRecord r = Begin(ctx, "open", WhereIs(ctx.node()));
    r.details = AuditMembers().AddRaw("flags", OpenFlags(in.flags)).Take();
    RecordAnswer(reply, std::move(r));
  }
  inner().Open(ctx, in, std::move(reply));
}

void AuditedFs::Create(const Context& ctx, const req::Create& in, ReplyCreate reply) {
  if (Refused(reply)) return;
  AuditRecord r = Begin(ctx, "create", ChildPath(ctx.node(), in.name));
  r.details =
      AuditMembers().AddOctal("mode", in.mode & 07777).AddRaw("flags", OpenFlags(in.flags)).Take();
  RecordAnswer(reply, std::move(r));
  inner().Create(ctx, in, std::move(reply));
}

void AuditedFs::TmpFile(const Context& ctx, const req::TmpFile& in, ReplyCreate reply) {
  if (Refused(reply)) return;
  AuditRecord r = Begin(ctx, "tmpfile", WhereIs(ctx.node()));
  r.details =
      AuditMembers().AddOctal("mode", in.mode & 07777).AddRaw("flags", OpenFlags(in.flags)).Take();
  RecordAnswer(reply, std::move(r));
  inner().TmpFile(ctx, in, std::move(reply));
}

void AuditedFs::SetXattr(const Context& ctx, const req::SetXattr& in, ReplyEmpty reply) {
  if (Refused(reply)) return;
  static const std::pair<uint64_t, const char*> kNames[] = {{XATTR_CREATE, "create"},
                                                           {XATTR_REPLACE, "replace"}};
  AuditRecord r = Begin(ctx, "setxattr", WhereIs(ctx.node()));
  AuditMembers m;
  m.Add("name", in.name).Add("size", uint64_t{in.value.size()});
  if (in.flags != 0) m.AddRaw("flags", FlagNames(static_cast<unsigned>(in.flags), kNames));
  r.details = m.Take();
  RecordAnswer(reply, std::move(r));
  inner().SetXattr(ctx, in, std::move(reply));
}

void AuditedFs::RemoveXattr(const Context& ctx, const req::RemoveXattr& in, ReplyEmpty reply) {
  if (Refused(reply)) return;
  AuditRecord r = Begin(ctx, "removexattr", WhereIs(ctx.node()));
  r.details = AuditMembers().Add("name", in.name).Take();
  RecordAnswer(reply, std::move(r));
  inner().RemoveXattr(ctx, in, std::move(reply));
}

void AuditedFs::Fallocate(const Context& ctx, const req::Fallocate& in, ReplyEmpty reply) {
  if (Refused(reply)) return;
  AuditRecord r = Begin(ctx, "fallocate", WhereIs(ctx.node()));
  r.details = AuditMembers()
                  .Add("offset", in.offset)
                  .Add("length", in.length)
                  .Add("mode", uint64_t(static_cast<unsigned>(in.mode)))
                  .Take();
  RecordAnswer(reply, std::move(r));
  inner().Fallocate(ctx, in, std::move(reply));
}

void AuditedFs::CopyFileRange(const Context& ctx, const req::CopyFileRange& in, ReplyCopy reply) {
  if (Refused(reply)) return;
  AuditRecord r = Begin(ctx, "copy_file_range", WhereIs(in.node_out));
  r.path2_key = "from";
  r.path2 = WhereIs(ctx.node());
  r.details = AuditMembers()
                  .Add("offset_in", in.offset_in)
                  .Add("offset_out", in.offset_out)
                  .Add("length", in.length)
                  .Take();
  RecordAnswer(reply, std::move(r));
  inner().CopyFileRange(ctx, in, std::move(reply));
}

}  // namespace passthroughfs
