// Reply encoding: public value types to the kernel's wire structs. Pure
// functions, tested bytes-out without a mount.
#pragma once

#include <sys/statvfs.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/types.h"

namespace fusekit::proto {

abi::fuse_attr EncodeAttr(const Attr& a);
abi::fuse_entry_out EncodeEntry(const Entry& e);
abi::fuse_attr_out EncodeAttrOut(const Attr& a, Timeout timeout);
uint32_t EncodeOpenFlags(const OpenOptions& o);
abi::fuse_open_out EncodeOpen(FileHandle fh, const OpenOptions& o, std::optional<BackingId> backing);
abi::fuse_statfs_out EncodeStatfs(const struct statvfs& s);
abi::fuse_statx_out EncodeStatx(const StatxAttr& s, Timeout timeout);
abi::fuse_lk_out EncodeLock(const FileLock& l);

// Splits a timeout into the (seconds, nanoseconds) pair the kernel wants;
// negative timeouts become 0.
void SplitTimeout(Timeout t, uint64_t& sec, uint32_t& nsec);

// Packs directory entries into a READDIR or READDIRPLUS reply body of at
// most max_size bytes. Thread-safety: a value type.
class DirentBuffer {
 public:
  // max_size comes from the request, so it is only a limit: reserving all
  // of it would let one READDIR allocate up to 4 GiB.
  explicit DirentBuffer(size_t max_size) : max_size_(max_size) {
    bytes_.reserve(std::min(max_size, kInitialReserve));
  }

  // Each returns false, adding nothing, once the entry would not fit.
  // `type` is the file type bits of st_mode (S_IFDIR, ...); `next_offset`
  // is the offset the kernel passes back to continue after this entry.
  bool Add(std::string_view name, uint64_t ino, uint32_t type, uint64_t next_offset);
  bool AddPlus(std::string_view name, const Entry& entry, uint64_t next_offset);

  std::span<const std::byte> bytes() const { return bytes_; }
  bool empty() const { return bytes_.empty(); }

 private:
  bool Append(const void* head, size_t head_size, std::string_view name);

  static constexpr size_t kInitialReserve = 64 * 1024;

  size_t max_size_;
  std::vector<std::byte> bytes_;
};

}  // namespace fusekit::proto
