#include "fusekit/proto/describe.h"

#include <fmt/format.h>
#include <string.h>

#include <string_view>

namespace fusekit::proto {
namespace {

std::string Fh(const std::optional<FileHandle>& fh) {
  return fh ? std::to_string(fh->value) : std::string("-");
}

// One overload per request type that has fields worth printing; the rest
// print nothing beyond the header.
std::string Args(const req::Init& r) {
  return fmt::format("{}.{} flags={:#x} max_readahead={}", r.major, r.minor, r.flags,
                     r.max_readahead);
}
std::string Args(const req::Lookup& r) { return fmt::format("name=\"{}\"", r.name); }
std::string Args(const req::Forget& r) { return fmt::format("nlookup={}", r.nlookup); }
std::string Args(const req::BatchForget& r) { return fmt::format("count={}", r.items.size()); }
std::string Args(const req::GetAttr& r) { return fmt::format("fh={}", Fh(r.fh)); }
std::string Args(const req::SetAttr& r) {
  return fmt::format("valid={:#x} fh={} mode={:o} size={}", r.valid, Fh(r.fh), r.mode.value_or(0),
                     r.size.value_or(0));
}
std::string Args(const req::SymLink& r) {
  return fmt::format("name=\"{}\" target=\"{}\"", r.name, r.target);
}
std::string Args(const req::MkNod& r) {
  return fmt::format("name=\"{}\" mode={:o} rdev={:#x} umask={:o}", r.name, r.mode, r.rdev, r.umask);
}
std::string Args(const req::MkDir& r) {
  return fmt::format("name=\"{}\" mode={:o} umask={:o}", r.name, r.mode, r.umask);
}
std::string Args(const req::Unlink& r) { return fmt::format("name=\"{}\"", r.name); }
std::string Args(const req::RmDir& r) { return fmt::format("name=\"{}\"", r.name); }
std::string Args(const req::Rename& r) {
  return fmt::format("name=\"{}\" new_parent={} new_name=\"{}\" flags={:#x}", r.name,
                     r.new_parent.value, r.new_name, r.flags);
}
std::string Args(const req::Link& r) {
  return fmt::format("target={} new_name=\"{}\"", r.target.value, r.new_name);
}
std::string Args(const req::Open& r) {
  return fmt::format("flags={:#o} kill_suidgid={}", r.flags, r.kill_suidgid);
}
std::string Args(const req::Read& r) {
  return fmt::format("fh={} offset={} size={}", r.fh.value, r.offset, r.size);
}
std::string Args(const req::Write& r) {
  return fmt::format("fh={} offset={} size={} write_flags={:#x}", r.fh.value, r.offset,
                     r.data.size(), r.write_flags);
}
std::string Args(const req::Release& r) {
  return fmt::format("fh={} flags={:#o} release_flags={:#x}", r.fh.value, r.flags, r.release_flags);
}
std::string Args(const req::Fsync& r) {
  return fmt::format("fh={} datasync={}", r.fh.value, r.datasync);
}
std::string Args(const req::SetXattr& r) {
  return fmt::format("name=\"{}\" size={} flags={:#x}", r.name, r.value.size(), r.flags);
}
std::string Args(const req::GetXattr& r) {
  return fmt::format("name=\"{}\" size={}", r.name, r.size);
}
std::string Args(const req::ListXattr& r) { return fmt::format("size={}", r.size); }
std::string Args(const req::RemoveXattr& r) { return fmt::format("name=\"{}\"", r.name); }
std::string Args(const req::Flush& r) { return fmt::format("fh={}", r.fh.value); }
std::string Args(const req::OpenDir& r) { return fmt::format("flags={:#o}", r.flags); }
std::string Args(const req::ReadDir& r) {
  return fmt::format("fh={} offset={} size={}", r.fh.value, r.offset, r.size);
}
std::string Args(const req::GetLk& r) {
  return fmt::format("fh={} owner={:#x} type={} start={} end={} flock={}", r.fh.value, r.owner,
                     r.lock.type, r.lock.start, r.lock.end, r.flock);
}
std::string Args(const req::Access& r) { return fmt::format("mask={:#o}", r.mask); }
std::string Args(const req::Create& r) {
  return fmt::format("name=\"{}\" flags={:#o} mode={:o} umask={:o}", r.name, r.flags, r.mode,
                     r.umask);
}
std::string Args(const req::Interrupt& r) { return fmt::format("target={}", r.target.value); }
std::string Args(const req::Fallocate& r) {
  return fmt::format("fh={} offset={} length={} mode={:#x}", r.fh.value, r.offset, r.length,
                     r.mode);
}
std::string Args(const req::Lseek& r) {
  return fmt::format("fh={} offset={} whence={}", r.fh.value, r.offset, r.whence);
}
std::string Args(const req::CopyFileRange& r) {
  return fmt::format("fh_in={} off_in={} node_out={} fh_out={} off_out={} len={}", r.fh_in.value,
                     r.offset_in, r.node_out.value, r.fh_out.value, r.offset_out, r.length);
}
std::string Args(const req::TmpFile& r) {
  return fmt::format("flags={:#o} mode={:o}", r.flags, r.mode);
}
std::string Args(const req::Statx& r) {
  return fmt::format("fh={} sx_flags={:#x} sx_mask={:#x}", Fh(r.fh), r.sx_flags, r.sx_mask);
}
// Request types derived from another print like their base: for them the
// catch-all template below would otherwise be the better match.
std::string Args(const req::Rename2& r) { return Args(static_cast<const req::Rename&>(r)); }
std::string Args(const req::ReleaseDir& r) { return Args(static_cast<const req::Release&>(r)); }
std::string Args(const req::FsyncDir& r) { return Args(static_cast<const req::Fsync&>(r)); }
std::string Args(const req::ReadDirPlus& r) { return Args(static_cast<const req::ReadDir&>(r)); }
std::string Args(const req::SetLk& r) { return Args(static_cast<const req::GetLk&>(r)); }
std::string Args(const req::SetLkW& r) { return Args(static_cast<const req::GetLk&>(r)); }
std::string Args(const req::CopyFileRange64& r) {
  return Args(static_cast<const req::CopyFileRange&>(r));
}
template <typename T>
std::string Args(const T&) {
  return {};
}

}  // namespace

std::string DescribeRequest(const Request& request) {
  const auto& h = request.header;
  std::string args = std::visit(
      [](const auto& body) -> std::string {
        if constexpr (std::is_same_v<std::decay_t<decltype(body)>, std::monostate>) {
          return {};
        } else {
          return Args(body);
        }
      },
      request.body);
  return fmt::format("unique {} {} node {} uid {} gid {} pid {}{}{}", h.unique.value,
                     OpcodeName(h.opcode), h.node.value, h.uid, h.gid, h.pid,
                     args.empty() ? "" : ": ", args);
}

std::string DescribeReply(RequestId unique, Opcode opcode, int error,
                          std::span<const iovec> payload) {
  if (error != 0) {
    const char* name = strerrorname_np(error);
    return fmt::format("unique {} {} -> {}", unique.value, OpcodeName(opcode),
                       name ? name : std::to_string(error));
  }
  size_t size = 0;
  for (const auto& piece : payload) size += piece.iov_len;
  return fmt::format("unique {} {} -> ok, {} bytes", unique.value, OpcodeName(opcode), size);
}

}  // namespace fusekit::proto
