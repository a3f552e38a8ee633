// SourceHandle: a file handle of SOURCE's filesystem (name_to_handle_at),
// which names an inode for as long as it exists, without an open fd, and
// never another inode: a deleted file's handle answers ESTALE even after
// its inode number is reused (the handle carries the generation).
//
// Thread-safety: a value type; a const SourceHandle may be shared.
#pragma once

#include <fcntl.h>

#include <cstdint>
#include <cstring>
#include <span>

#include "fusekit/result.h"
#include "fusekit/unique_fd.h"

namespace passthroughfs {

class SourceHandle {
 public:
  SourceHandle() = default;
  SourceHandle(const SourceHandle& other) { *this = other; }
  SourceHandle& operator=(const SourceHandle& other);
  SourceHandle(SourceHandle&& other) noexcept { *this = std::move(other); }
  SourceHandle& operator=(SourceHandle&& other) noexcept;
  ~SourceHandle() { Free(); }

  // The handle of `name` in `dir` without following a final symlink (or of
  // `dir` itself for name ""), and the id of the mount it is on. Fails with
  // EOPNOTSUPP where the filesystem has no handles.
  static fusekit::Result<SourceHandle> Of(int dir, const char* name, int* mount_id);
  // A copy of raw handle bytes (what Of() gave, stored elsewhere).
  static SourceHandle FromBytes(int type, std::span<const uint8_t> bytes);

  // Opens the inode through `mount_fd` (any fd on its mount), with
  // `flags` (O_PATH included). Needs CAP_DAC_READ_SEARCH. ESTALE: the
  // inode is gone, or not reachable from that mount's root.
  fusekit::Result<fusekit::UniqueFd> Open(int mount_fd, int flags) const;

  bool empty() const { return size_ == 0; }
  // FILEID_* types fit a byte; an inode whose handle type does not is
  // held by fd instead (Of() fails with EOPNOTSUPP).
  int type() const { return type_; }
  std::span<const uint8_t> bytes() const { return {data(), size_}; }
  size_t Hash() const;
  bool operator==(const SourceHandle& other) const;

 private:
  // Handles of ext4 (8 bytes), xfs, btrfs and tmpfs (8 to 20) are kept
  // inline; larger ones (overlayfs, some network filesystems) on the heap.
  // 24 bytes in all: every inode held by handle carries one.
  static constexpr size_t kInline = 22;
  bool on_heap() const { return size_ > kInline; }
  // On the heap, the first bytes of inline_ hold the pointer (a union
  // would align the whole to 8 and make it 32 bytes).
  uint8_t* heap() const {
    uint8_t* p;
    std::memcpy(&p, inline_, sizeof(p));
    return p;
  }
  const uint8_t* data() const { return on_heap() ? heap() : inline_; }
  void Free();

  uint8_t type_ = 0;
  uint8_t size_ = 0;
  uint8_t inline_[kInline] = {};
};
static_assert(sizeof(SourceHandle) <= 24);

struct SourceHandleHash {
  size_t operator()(const SourceHandle& h) const noexcept { return h.Hash(); }
};

}  // namespace passthroughfs
