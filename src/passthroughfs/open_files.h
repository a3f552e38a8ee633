// The open files and directories of PassthroughFs (internal).
#pragma once

#include <dirent.h>

#include <atomic>
#include <memory>
#include <mutex>

#include "passthrough_fs.h"

namespace passthroughfs {

struct PassthroughFs::OpenFile {
  std::shared_ptr<Inode> inode;  // keeps the inode (and its backing file) alive
  fusekit::UniqueFd fd;
  // Written through the backing file: the kernel does not see mmap writes
  // change mtime, so FSYNC and FLUSH (RELEASE where opens skip FLUSH)
  // invalidate its cached attributes.
  bool passthrough_writable = false;
};

// Thread-safety: `mutex` guards the DIR stream; the kernel may send
// READDIR and RELEASEDIR of one handle from different workers.
struct PassthroughFs::OpenDirectory {
  // An open directory is in use: its inode is not offered for pruning.
  explicit OpenDirectory(std::shared_ptr<Inode> of) : inode(std::move(of)) { inode->in_use++; }
  ~OpenDirectory() {
    if (dir != nullptr) ::closedir(dir);
    inode->in_use--;
  }
  OpenDirectory(const OpenDirectory&) = delete;
  OpenDirectory& operator=(const OpenDirectory&) = delete;

  const std::shared_ptr<Inode> inode;
  std::mutex mutex;
  DIR* dir = nullptr;
  uint64_t offset = 0;  // the offset the stream is at
  // READDIRPLUS looks entries up in this listing (ListingAdvisor).
  std::atomic<bool> look_up{true};
};

}  // namespace passthroughfs
