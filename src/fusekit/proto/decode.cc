#include "fusekit/proto/decode.h"

#include <fcntl.h>

#include <cerrno>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/proto/cursor.h"

namespace fusekit::proto {
static_assert(req::kSetxattrAclKillSgid == abi::FUSE_SETXATTR_ACL_KILL_SGID);

namespace {

using namespace fusekit::abi;  // NOLINT: wire structs only

// Each Parse fills a typed request from the body or returns false with
// *why set. Trailing bytes after a fixed-size struct are tolerated so that a
// newer kernel's larger struct does not break us; names must be exact.
struct Parser {
  Cursor& c;
  const RequestHeader& h;
  const DecodeOptions& options;
  const char* why = nullptr;

  bool Fail(const char* reason) {
    why = reason;
    return false;
  }
  template <typename T>
  bool Get(T& out) {
    auto v = c.fetch<T>();
    if (!v) return Fail("body shorter than its struct");
    out = *v;
    return true;
  }
  bool Name(std::string_view& out) {
    auto v = c.fetch_cstr();
    if (!v) return Fail("name without its NUL");
    out = *v;
    return true;
  }

  bool Parse(req::Init& r) {
    // Only major/minor/max_readahead/flags are sure to be there: a kernel
    // older than 7.36 sends 16 bytes, and we must still read it to refuse it.
    auto in = c.fetch_prefix<fuse_init_in>(16);
    if (!in) return Fail("body shorter than its struct");
    r.major = in->major;
    r.minor = in->minor;
    r.max_readahead = in->max_readahead;
    r.flags = in->flags;
    if (in->flags & FUSE_INIT_EXT) r.flags |= uint64_t{in->flags2} << 32;
    return true;
  }
  bool Parse(req::Lookup& r) { return Name(r.name); }
  bool Parse(req::Forget& r) {
    fuse_forget_in in;
    if (!Get(in)) return false;
    r.nlookup = in.nlookup;
    return true;
  }
  bool Parse(req::BatchForget& r) {
    fuse_batch_forget_in in;
    if (!Get(in)) return false;
    if (in.count > c.remaining() / sizeof(fuse_forget_one)) return Fail("count exceeds the body");
    r.items.reserve(in.count);
    for (uint32_t i = 0; i < in.count; ++i) {
      auto one = c.fetch<fuse_forget_one>();
      r.items.push_back({NodeId(one->nodeid), one->nlookup});
    }
    return true;
  }
  bool Parse(req::GetAttr& r) {
    fuse_getattr_in in;
    if (!Get(in)) return false;
    if (in.getattr_flags & FUSE_GETATTR_FH) r.fh = FileHandle(in.fh);
    return true;
  }
  static req::TimeUpdate Time(uint32_t valid, uint32_t set_bit, uint32_t now_bit, uint64_t sec,
                              uint32_t nsec) {
    req::TimeUpdate t;
    if (valid & now_bit) {
      t.kind = req::TimeUpdate::Kind::kNow;
    } else if (valid & set_bit) {
      t.kind = req::TimeUpdate::Kind::kSet;
      t.value = {static_cast<time_t>(sec), static_cast<long>(nsec)};
    }
    return t;
  }
  bool Parse(req::SetAttr& r) {
    fuse_setattr_in in;
    if (!Get(in)) return false;
    r.valid = in.valid;
    if (in.valid & FATTR_FH) r.fh = FileHandle(in.fh);
    if (in.valid & FATTR_MODE) r.mode = in.mode;
    if (in.valid & FATTR_UID) r.uid = in.uid;
    if (in.valid & FATTR_GID) r.gid = in.gid;
    if (in.valid & FATTR_SIZE) r.size = in.size;
    r.atime = Time(in.valid, FATTR_ATIME, FATTR_ATIME_NOW, in.atime, in.atimensec);
    r.mtime = Time(in.valid, FATTR_MTIME, FATTR_MTIME_NOW, in.mtime, in.mtimensec);
    if (in.valid & FATTR_CTIME)
      r.ctime = timespec{static_cast<time_t>(in.ctime), static_cast<long>(in.ctimensec)};
    if (in.valid & FATTR_LOCKOWNER) r.lock_owner = in.lock_owner;
    r.kill_suidgid = in.valid & FATTR_KILL_SUIDGID;
    return true;
  }
  bool Parse(req::ReadLink&) { return true; }
  bool Parse(req::SymLink& r) { return Name(r.name) && Name(r.target); }
  bool Parse(req::MkNod& r) {
    fuse_mknod_in in;
    if (!Get(in)) return false;
    r.mode = in.mode;
    r.rdev = in.rdev;
    r.umask = in.umask;
    return Name(r.name);
  }
  bool Parse(req::MkDir& r) {
    fuse_mkdir_in in;
    if (!Get(in)) return false;
    r.mode = in.mode;
    r.umask = in.umask;
    return Name(r.name);
  }
  bool Parse(req::Unlink& r) { return Name(r.name); }
  bool Parse(req::RmDir& r) { return Name(r.name); }
  bool Parse(req::Rename& r) {
    fuse_rename_in in;
    if (!Get(in)) return false;
    r.new_parent = NodeId(in.newdir);
    return Name(r.name) && Name(r.new_name);
  }
  bool Parse(req::Rename2& r) {
    fuse_rename2_in in;
    if (!Get(in)) return false;
    r.new_parent = NodeId(in.newdir);
    r.flags = in.flags;
    return Name(r.name) && Name(r.new_name);
  }
  bool Parse(req::Link& r) {
    fuse_link_in in;
    if (!Get(in)) return false;
    r.target = NodeId(in.oldnodeid);
    return Name(r.new_name);
  }
  bool Parse(req::Open& r) {
    fuse_open_in in;
    if (!Get(in)) return false;
    r.flags = static_cast<int>(in.flags);
    r.kill_suidgid = in.open_flags & FUSE_OPEN_KILL_SUIDGID;
    return true;
  }
  bool Parse(req::Read& r) {
    fuse_read_in in;
    if (!Get(in)) return false;
    r.fh = FileHandle(in.fh);
    r.offset = in.offset;
    r.size = in.size;
    r.read_flags = in.read_flags;
    if (in.read_flags & FUSE_READ_LOCKOWNER) r.lock_owner = in.lock_owner;
    r.flags = static_cast<int>(in.flags);
    return true;
  }
  bool Parse(req::Write& r) {
    fuse_write_in in;
    if (!Get(in)) return false;
    r.fh = FileHandle(in.fh);
    r.offset = in.offset;
    r.write_flags = in.write_flags;
    if (in.write_flags & FUSE_WRITE_LOCKOWNER) r.lock_owner = in.lock_owner;
    r.flags = static_cast<int>(in.flags);
    r.kill_suidgid = in.write_flags & FUSE_WRITE_KILL_SUIDGID;
    r.from_page_cache = in.write_flags & FUSE_WRITE_CACHE;
    auto data = c.fetch_bytes(in.size);
    if (!data) return Fail("write size exceeds the body");
    r.data = *data;
    return true;
  }
  bool Parse(req::StatFs&) { return true; }
  bool Parse(req::Release& r) {
    fuse_release_in in;
    if (!Get(in)) return false;
    r.fh = FileHandle(in.fh);
    r.flags = static_cast<int>(in.flags);
    r.release_flags = in.release_flags;
    r.lock_owner = in.lock_owner;
    r.flush = in.release_flags & FUSE_RELEASE_FLUSH;
    r.flock_unlock = in.release_flags & FUSE_RELEASE_FLOCK_UNLOCK;
    return true;
  }
  bool Parse(req::Fsync& r) {
    fuse_fsync_in in;
    if (!Get(in)) return false;
    r.fh = FileHandle(in.fh);
    r.datasync = in.fsync_flags & FUSE_FSYNC_FDATASYNC;
    return true;
  }
  bool Parse(req::SetXattr& r) {
    // Without SETXATTR_EXT the struct is the 8-byte compat prefix; reading
    // the full 16 bytes would swallow the name.
    fuse_setxattr_in in{};
    if (options.setxattr_ext) {
      if (!Get(in)) return false;
    } else if (!Get(in.size) || !Get(in.flags)) {
      return false;
    }
    r.flags = static_cast<int>(in.flags);
    r.setxattr_flags = in.setxattr_flags;
    if (!Name(r.name)) return false;
    auto value = c.fetch_bytes(in.size);
    if (!value) return Fail("xattr size exceeds the body");
    r.value = *value;
    return true;
  }
  bool Parse(req::GetXattr& r) {
    fuse_getxattr_in in;
    if (!Get(in)) return false;
    r.size = in.size;
    return Name(r.name);
  }
  bool Parse(req::ListXattr& r) {
    fuse_getxattr_in in;
    if (!Get(in)) return false;
    r.size = in.size;
    return true;
  }
  bool Parse(req::RemoveXattr& r) { return Name(r.name); }
  bool Parse(req::Flush& r) {
    fuse_flush_in in;
    if (!Get(in)) return false;
    r.fh = FileHandle(in.fh);
    r.lock_owner = in.lock_owner;
    return true;
  }
  bool Parse(req::OpenDir& r) {
    fuse_open_in in;
    if (!Get(in)) return false;
    r.flags = static_cast<int>(in.flags);
    return true;
  }
  bool Parse(req::ReadDir& r) {
    fuse_read_in in;
    if (!Get(in)) return false;
    r.fh = FileHandle(in.fh);
    r.offset = in.offset;
    r.size = in.size;
    return true;
  }
  bool Parse(req::GetLk& r) {
    fuse_lk_in in;
    if (!Get(in)) return false;
    r.fh = FileHandle(in.fh);
    r.owner = in.owner;
    r.lock = {in.lk.start, in.lk.end, in.lk.type, in.lk.pid};
    r.flock = in.lk_flags & FUSE_LK_FLOCK;
    return true;
  }
  bool Parse(req::Access& r) {
    fuse_access_in in;
    if (!Get(in)) return false;
    r.mask = in.mask;
    return true;
  }
  bool Parse(req::Create& r) {
    fuse_create_in in;
    if (!Get(in)) return false;
    r.flags = static_cast<int>(in.flags);
    r.mode = in.mode;
    r.umask = in.umask;
    r.kill_suidgid = in.open_flags & FUSE_OPEN_KILL_SUIDGID;
    return Name(r.name);
  }
  bool Parse(req::Interrupt& r) {
    fuse_interrupt_in in;
    if (!Get(in)) return false;
    r.target = RequestId(in.unique);
    return true;
  }
  bool Parse(req::Bmap& r) {
    fuse_bmap_in in;
    if (!Get(in)) return false;
    r.block = in.block;
    r.blocksize = in.blocksize;
    return true;
  }
  bool Parse(req::Destroy&) { return true; }
  bool Parse(req::Ioctl& r) {
    fuse_ioctl_in in;
    if (!Get(in)) return false;
    r.fh = FileHandle(in.fh);
    r.flags = in.flags;
    r.cmd = in.cmd;
    r.arg = in.arg;
    r.out_size = in.out_size;
    auto data = c.fetch_bytes(in.in_size);
    if (!data) return Fail("ioctl in_size exceeds the body");
    r.in_data = *data;
    return true;
  }
  bool Parse(req::Poll& r) {
    fuse_poll_in in;
    if (!Get(in)) return false;
    r.fh = FileHandle(in.fh);
    r.kh = in.kh;
    r.flags = in.flags;
    r.events = in.events;
    return true;
  }
  bool Parse(req::NotifyReply& r) {
    fuse_notify_retrieve_in in;
    if (!Get(in)) return false;
    r.offset = in.offset;
    auto data = c.fetch_bytes(in.size);
    if (!data) return Fail("retrieve size exceeds the body");
    r.data = *data;
    return true;
  }
  bool Parse(req::Fallocate& r) {
    fuse_fallocate_in in;
    if (!Get(in)) return false;
    r.fh = FileHandle(in.fh);
    r.offset = in.offset;
    r.length = in.length;
    r.mode = static_cast<int>(in.mode);
    return true;
  }
  bool Parse(req::Lseek& r) {
    fuse_lseek_in in;
    if (!Get(in)) return false;
    r.fh = FileHandle(in.fh);
    r.offset = in.offset;
    r.whence = static_cast<int>(in.whence);
    return true;
  }
  bool Parse(req::CopyFileRange& r) {
    fuse_copy_file_range_in in;
    if (!Get(in)) return false;
    r.fh_in = FileHandle(in.fh_in);
    r.offset_in = in.off_in;
    r.node_out = NodeId(in.nodeid_out);
    r.fh_out = FileHandle(in.fh_out);
    r.offset_out = in.off_out;
    r.length = in.len;
    r.flags = in.flags;
    return true;
  }
  bool Parse(req::SetupMapping& r) {
    fuse_setupmapping_in in;
    if (!Get(in)) return false;
    r.fh = FileHandle(in.fh);
    r.foffset = in.foffset;
    r.length = in.len;
    r.flags = in.flags;
    r.moffset = in.moffset;
    return true;
  }
  bool Parse(req::RemoveMapping& r) {
    // fuse_removemapping_in is 4 bytes on the wire, followed directly by the
    // 16-byte entries.
    auto count = c.fetch<uint32_t>();
    if (!count) return Fail("body shorter than its struct");
    if (*count > c.remaining() / sizeof(fuse_removemapping_one))
      return Fail("count exceeds the body");
    for (uint32_t i = 0; i < *count; ++i) {
      auto one = c.fetch<fuse_removemapping_one>();
      r.items.push_back({one->moffset, one->len});
    }
    return true;
  }
  bool Parse(req::SyncFs&) {
    fuse_syncfs_in in;
    return Get(in);
  }
  bool Parse(req::TmpFile& r) {
    fuse_create_in in;
    if (!Get(in)) return false;
    r.flags = static_cast<int>(in.flags);
    r.mode = in.mode;
    r.umask = in.umask;
    // The kernel sends the tmpfile dentry's placeholder name after the
    // struct; it carries nothing for the filesystem.
    if (!c.empty()) {
      std::string_view ignored;
      return Name(ignored);
    }
    return true;
  }
  bool Parse(req::Statx& r) {
    fuse_statx_in in;
    if (!Get(in)) return false;
    if (in.getattr_flags & FUSE_GETATTR_FH) r.fh = FileHandle(in.fh);
    r.sx_flags = in.sx_flags;
    r.sx_mask = in.sx_mask;
    return true;
  }
};

template <typename T>
DecodeResult Build(Request& out, Cursor& body, const DecodeOptions& options) {
  T typed{};
  Parser p{body, out.header, options};
  if (!p.Parse(typed)) {
    return DecodeError{DecodeError::Kind::kMalformed, out.header,
                       std::string(OpcodeName(out.header.opcode)) + ": " + p.why};
  }
  out.body = std::move(typed);
  return std::move(out);
}

}  // namespace

int DecodeError::reply_errno() const {
  switch (kind) {
    case Kind::kTooShortForHeader:
      return 0;
    case Kind::kUnknownOpcode:
      return ENOSYS;
    case Kind::kLengthMismatch:
      return EIO;
    case Kind::kMalformed:
      return EINVAL;
  }
  return EIO;
}

DecodeResult Decode(std::span<const std::byte> bytes, const DecodeOptions& options) {
  Cursor c(bytes);
  auto in = c.fetch<fuse_in_header>();
  if (!in) {
    return DecodeError{DecodeError::Kind::kTooShortForHeader, {},
                       "request of " + std::to_string(bytes.size()) + " bytes has no header"};
  }
  Request out;
  out.header = {in->len,   static_cast<Opcode>(in->opcode), RequestId(in->unique), NodeId(in->nodeid),
                in->uid,   in->gid,
                in->pid,   in->total_extlen};
  if (in->len != bytes.size()) {
    return DecodeError{DecodeError::Kind::kLengthMismatch, out.header,
                       "header says " + std::to_string(in->len) + " bytes, read " +
                           std::to_string(bytes.size())};
  }
  size_t ext_bytes = size_t{in->total_extlen} * 8;
  if (ext_bytes > c.remaining()) {
    return DecodeError{DecodeError::Kind::kMalformed, out.header,
                       "extension length exceeds the request"};
  }
  Cursor body(bytes.subspan(sizeof(fuse_in_header), c.remaining() - ext_bytes));
  out.extensions = bytes.subspan(bytes.size() - ext_bytes);

  switch (in->opcode) {
#define FUSEKIT_DECODE_CASE(name, number, type) \
  case number:                                  \
    return Build<req::type>(out, body, options);
    FUSEKIT_FOR_EACH_OPCODE(FUSEKIT_DECODE_CASE)
#undef FUSEKIT_DECODE_CASE
    default:
      return DecodeError{DecodeError::Kind::kUnknownOpcode, out.header,
                         "unknown opcode " + std::to_string(in->opcode)};
  }
}

}  // namespace fusekit::proto
