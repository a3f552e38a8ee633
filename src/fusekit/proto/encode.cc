#include "fusekit/proto/encode.h"

#include <sys/stat.h>

#include <cstring>

namespace fusekit::proto {

void SplitTimeout(Timeout t, uint64_t& sec, uint32_t& nsec) {
  if (t.count() <= 0) {
    sec = 0;
    nsec = 0;
    return;
  }
  sec = static_cast<uint64_t>(t.count() / 1'000'000'000);
  nsec = static_cast<uint32_t>(t.count() % 1'000'000'000);
}

abi::fuse_attr EncodeAttr(const Attr& a) {
  abi::fuse_attr out{};
  out.ino = a.ino;
  out.size = a.size;
  out.blocks = a.blocks;
  out.atime = static_cast<uint64_t>(a.atime.tv_sec);
  out.mtime = static_cast<uint64_t>(a.mtime.tv_sec);
  out.ctime = static_cast<uint64_t>(a.ctime.tv_sec);
  out.atimensec = static_cast<uint32_t>(a.atime.tv_nsec);
  out.mtimensec = static_cast<uint32_t>(a.mtime.tv_nsec);
  out.ctimensec = static_cast<uint32_t>(a.ctime.tv_nsec);
  out.mode = a.mode;
  out.nlink = a.nlink;
  out.uid = a.uid;
  out.gid = a.gid;
  out.rdev = a.rdev;
  out.blksize = a.blksize;
  out.flags = a.submount ? abi::FUSE_ATTR_SUBMOUNT : 0;
  return out;
}

abi::fuse_entry_out EncodeEntry(const Entry& e) {
  abi::fuse_entry_out out{};
  out.nodeid = e.node.value;
  out.generation = e.generation;
  SplitTimeout(e.entry_timeout, out.entry_valid, out.entry_valid_nsec);
  SplitTimeout(e.attr_timeout, out.attr_valid, out.attr_valid_nsec);
  out.attr = EncodeAttr(e.attr);
  return out;
}

abi::fuse_attr_out EncodeAttrOut(const Attr& a, Timeout timeout) {
  abi::fuse_attr_out out{};
  SplitTimeout(timeout, out.attr_valid, out.attr_valid_nsec);
  out.attr = EncodeAttr(a);
  return out;
}

uint32_t EncodeOpenFlags(const OpenOptions& o) {
  uint32_t f = 0;
  if (o.direct_io) f |= abi::FOPEN_DIRECT_IO;
  if (o.keep_cache) f |= abi::FOPEN_KEEP_CACHE;
  if (o.nonseekable) f |= abi::FOPEN_NONSEEKABLE;
  if (o.cache_dir) f |= abi::FOPEN_CACHE_DIR;
  if (o.stream) f |= abi::FOPEN_STREAM;
  if (o.noflush) f |= abi::FOPEN_NOFLUSH;
  if (o.parallel_direct_writes) f |= abi::FOPEN_PARALLEL_DIRECT_WRITES;
  return f;
}

abi::fuse_open_out EncodeOpen(FileHandle fh, const OpenOptions& o,
                              std::optional<BackingId> backing) {
  abi::fuse_open_out out{};
  out.fh = fh.value;
  out.open_flags = EncodeOpenFlags(o);
  if (backing) {
    // The kernel refuses these with a backing file: they would contradict
    // I/O that never reaches the server.
    out.open_flags &= ~(abi::FOPEN_KEEP_CACHE | abi::FOPEN_NONSEEKABLE | abi::FOPEN_STREAM);
    out.open_flags |= abi::FOPEN_PASSTHROUGH;
    out.backing_id = backing->value;
  }
  return out;
}

abi::fuse_statfs_out EncodeStatfs(const struct statvfs& s) {
  abi::fuse_statfs_out out{};
  out.st.blocks = s.f_blocks;
  out.st.bfree = s.f_bfree;
  out.st.bavail = s.f_bavail;
  out.st.files = s.f_files;
  out.st.ffree = s.f_ffree;
  out.st.bsize = static_cast<uint32_t>(s.f_bsize);
  out.st.namelen = static_cast<uint32_t>(s.f_namemax);
  out.st.frsize = static_cast<uint32_t>(s.f_frsize);
  return out;
}

static abi::fuse_sx_time SxTime(const timespec& t) {
  return {static_cast<int64_t>(t.tv_sec), static_cast<uint32_t>(t.tv_nsec), 0};
}

abi::fuse_statx_out EncodeStatx(const StatxAttr& s, Timeout timeout) {
  abi::fuse_statx_out out{};
  SplitTimeout(timeout, out.attr_valid, out.attr_valid_nsec);
  out.stat.mask = s.mask;
  out.stat.blksize = s.blksize;
  out.stat.attributes = s.attributes;
  out.stat.nlink = s.nlink;
  out.stat.uid = s.uid;
  out.stat.gid = s.gid;
  out.stat.mode = s.mode;
  out.stat.ino = s.ino;
  out.stat.size = s.size;
  out.stat.blocks = s.blocks;
  out.stat.attributes_mask = s.attributes_mask;
  out.stat.atime = SxTime(s.atime);
  out.stat.btime = SxTime(s.btime);
  out.stat.ctime = SxTime(s.ctime);
  out.stat.mtime = SxTime(s.mtime);
  out.stat.rdev_major = s.rdev_major;
  out.stat.rdev_minor = s.rdev_minor;
  out.stat.dev_major = s.dev_major;
  out.stat.dev_minor = s.dev_minor;
  return out;
}

abi::fuse_lk_out EncodeLock(const FileLock& l) {
  abi::fuse_lk_out out{};
  out.lk = {l.start, l.end, l.type, l.pid};
  return out;
}

bool DirentBuffer::Append(const void* head, size_t head_size, std::string_view name) {
  size_t entry = head_size + name.size();
  size_t padded = (entry + 7) & ~size_t{7};
  if (bytes_.size() + padded > max_size_) return false;
  size_t at = bytes_.size();
  bytes_.resize(at + padded);  // zero-fills the padding
  std::memcpy(bytes_.data() + at, head, head_size);
  std::memcpy(bytes_.data() + at + head_size, name.data(), name.size());
  return true;
}

bool DirentBuffer::Add(std::string_view name, uint64_t ino, uint32_t type, uint64_t next_offset) {
  abi::fuse_dirent d{ino, next_offset, static_cast<uint32_t>(name.size()), (type & S_IFMT) >> 12};
  return Append(&d, sizeof(d), name);
}

bool DirentBuffer::AddPlus(std::string_view name, const Entry& entry, uint64_t next_offset) {
  abi::fuse_direntplus d{};
  d.entry_out = EncodeEntry(entry);
  d.dirent = {entry.attr.ino, next_offset, static_cast<uint32_t>(name.size()),
              (entry.attr.mode & S_IFMT) >> 12};
  return Append(&d, sizeof(d), name);
}

}  // namespace fusekit::proto
