// The open files and directories of PassthroughFs (internal).
#pragma once

#include <dirent.h>

#include <memory>
#include <mutex>

#include "passthrough_fs.h"

namespace passthroughfs {

struct PassthroughFs::OpenFile {
  std::shared_ptr<Inode> inode;  // keeps the inode (and its backing file) alive
  fusekit::UniqueFd fd;
  bool passthrough = false;
};

// Thread-safety: `mutex` guards the DIR stream; the kernel may send
// READDIR and RELEASEDIR of one handle from different workers.
struct PassthroughFs::OpenDirectory {
  std::shared_ptr<Inode> inode;
  std::mutex mutex;
  DIR* dir = nullptr;
  uint64_t offset = 0;  // the offset the stream is at
  ~OpenDirectory() {
    if (dir != nullptr) ::closedir(dir);
  }
};

}  // namespace passthroughfs
