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
#include <memory>
#include <span>

#include "fusekit/result.h"
#include "fusekit/unique_fd.h"

namespace passthroughfs {

class SourceHandle {
 public:
  SourceHandle() = default;
  SourceHandle(const SourceHandle& other) { *this = other; }
  SourceHandle& operator=(const SourceHandle& other);
  SourceHandle(SourceHandle&&) noexcept = default;
  SourceHandle& operator=(SourceHandle&&) noexcept = default;

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
  int type() const { return type_; }
  std::span<const uint8_t> bytes() const { return {data(), size_}; }
  size_t Hash() const;
  bool operator==(const SourceHandle& other) const;

 private:
  // Handles of ext4 (8 bytes), xfs, btrfs and tmpfs (8 to 20) are kept
  // inline; larger ones (overlayfs, some network filesystems) on the heap.
  static constexpr size_t kInline = 20;
  const uint8_t* data() const { return heap_ ? heap_.get() : inline_; }

  int32_t type_ = 0;
  uint8_t size_ = 0;
  uint8_t inline_[kInline] = {};
  std::unique_ptr<uint8_t[]> heap_;
};

struct SourceHandleHash {
  size_t operator()(const SourceHandle& h) const noexcept { return h.Hash(); }
};

}  // namespace passthroughfs
