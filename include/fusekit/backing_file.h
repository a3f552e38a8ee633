// BackingFile: a file registered with the kernel for FUSE passthrough.
//
// Registering (FUSE_DEV_IOC_BACKING_OPEN) gives a backing id that an OPEN,
// CREATE or TMPFILE reply hands to the kernel (ReplyOpen::Passthrough); the
// kernel then sends that open file's read, write, splice and mmap straight to
// the backing file. The id is released (FUSE_DEV_IOC_BACKING_CLOSE) when the
// BackingFile is destroyed; files the kernel already opened with it keep
// working. Destroying it after the session ended is safe: it holds its own
// reference to the device fd.
#pragma once

#include <memory>

#include "fusekit/result.h"
#include "fusekit/types.h"
#include "fusekit/unique_fd.h"

namespace fusekit {

// Thread-safety: a move-only value; distinct objects may be used from
// distinct threads.
class BackingFile {
 public:
  BackingFile() = default;
  BackingFile(BackingFile&& other) noexcept;
  BackingFile& operator=(BackingFile&& other) noexcept;
  BackingFile(const BackingFile&) = delete;
  BackingFile& operator=(const BackingFile&) = delete;
  ~BackingFile();

  // Registers `fd` (borrowed: the kernel takes its own reference; an O_PATH
  // fd is accepted) on the connection of `device`. Fails with the kernel's
  // errno: EPERM without CAP_SYS_ADMIN in the initial namespace, ELOOP when
  // `fd` is on a filesystem stacked deeper than max_stack_depth allows,
  // EOPNOTSUPP when passthrough was not negotiated, EINVAL for a bad fd...
  static Result<BackingFile> Open(std::shared_ptr<const UniqueFd> device, int fd);

  // Whether this process may register backing files at all: the kernel
  // wants CAP_SYS_ADMIN in the initial user namespace (an unprivileged
  // mount through fusermount3 never has it). False means every Open fails
  // with EPERM: serve file I/O in the daemon instead of trying per file.
  static bool MayRegister();

  BackingId id() const { return id_; }
  bool valid() const { return device_ != nullptr; }
  // Releases the id now; returns the kernel's verdict.
  Status Close();

 private:
  BackingFile(std::shared_ptr<const UniqueFd> device, BackingId id)
      : device_(std::move(device)), id_(id) {}

  std::shared_ptr<const UniqueFd> device_;
  BackingId id_;
};

}  // namespace fusekit
