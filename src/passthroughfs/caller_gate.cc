#include "caller_gate.h"

#include <cerrno>
#include <utility>

namespace passthroughfs {

using namespace fusekit;  // NOLINT: this file implements fusekit::Operations

void CallerGate::Lookup(const Context& ctx, const req::Lookup& in, ReplyEntry reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().Lookup(ctx, in, std::move(reply));
}

void CallerGate::SetAttr(const Context& ctx, const req::SetAttr& in, ReplyAttr reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().SetAttr(ctx, in, std::move(reply));
}

void CallerGate::ReadLink(const Context& ctx, const req::ReadLink& in, ReplyData reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().ReadLink(ctx, in, std::move(reply));
}

void CallerGate::SymLink(const Context& ctx, const req::SymLink& in, ReplyEntry reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().SymLink(ctx, in, std::move(reply));
}

void CallerGate::MkNod(const Context& ctx, const req::MkNod& in, ReplyEntry reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().MkNod(ctx, in, std::move(reply));
}

void CallerGate::MkDir(const Context& ctx, const req::MkDir& in, ReplyEntry reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().MkDir(ctx, in, std::move(reply));
}

void CallerGate::Unlink(const Context& ctx, const req::Unlink& in, ReplyEmpty reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().Unlink(ctx, in, std::move(reply));
}

void CallerGate::RmDir(const Context& ctx, const req::RmDir& in, ReplyEmpty reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().RmDir(ctx, in, std::move(reply));
}

void CallerGate::Rename(const Context& ctx, const req::Rename& in, ReplyEmpty reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().Rename(ctx, in, std::move(reply));
}

void CallerGate::Link(const Context& ctx, const req::Link& in, ReplyEntry reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().Link(ctx, in, std::move(reply));
}

void CallerGate::Open(const Context& ctx, const req::Open& in, ReplyOpen reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().Open(ctx, in, std::move(reply));
}

void CallerGate::Create(const Context& ctx, const req::Create& in, ReplyCreate reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().Create(ctx, in, std::move(reply));
}

void CallerGate::TmpFile(const Context& ctx, const req::TmpFile& in, ReplyCreate reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().TmpFile(ctx, in, std::move(reply));
}

void CallerGate::OpenDir(const Context& ctx, const req::OpenDir& in, ReplyOpen reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().OpenDir(ctx, in, std::move(reply));
}

void CallerGate::ReadDir(const Context& ctx, const req::ReadDir& in, ReplyDir reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().ReadDir(ctx, in, std::move(reply));
}

void CallerGate::ReadDirPlus(const Context& ctx, const req::ReadDirPlus& in, ReplyDirPlus reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().ReadDirPlus(ctx, in, std::move(reply));
}

void CallerGate::SetXattr(const Context& ctx, const req::SetXattr& in, ReplyEmpty reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().SetXattr(ctx, in, std::move(reply));
}

void CallerGate::GetXattr(const Context& ctx, const req::GetXattr& in, ReplyXattr reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().GetXattr(ctx, in, std::move(reply));
}

void CallerGate::ListXattr(const Context& ctx, const req::ListXattr& in, ReplyXattr reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().ListXattr(ctx, in, std::move(reply));
}

void CallerGate::RemoveXattr(const Context& ctx, const req::RemoveXattr& in, ReplyEmpty reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().RemoveXattr(ctx, in, std::move(reply));
}

void CallerGate::Access(const Context& ctx, const req::Access& in, ReplyEmpty reply) {
  if (!admits_(ctx.uid())) return reply.Error(EACCES);
  inner().Access(ctx, in, std::move(reply));
}

}  // namespace passthroughfs
