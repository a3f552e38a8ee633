// ProcessNames: the name (/proc/PID/comm) of the process behind a request,
// for the audit trail, at one pread per request instead of an open, a read
// and a close.
//
// It keeps the comm files of the last few pids open. A kept file names the
// task it was opened for, never a later one given the same pid: once that
// task is gone it reads nothing, and the pid's file is opened again. A
// name changed by exec or prctl is read as it is now.
//
// Thread-safety: Name may be called from any thread; the mutex guards the
// table only, never a read.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "fusekit/unique_fd.h"

namespace passthroughfs {

class ProcessNames {
 public:
  explicit ProcessNames(size_t capacity = 64) : capacity_(capacity) {}

  // Empty for pid 0 (the kernel's own requests) and for a task that is gone.
  std::string Name(uint32_t pid);
  size_t open_files() const;

 private:
  using File = std::shared_ptr<const fusekit::UniqueFd>;
  File Open(uint32_t pid);
  void Forget(uint32_t pid, const File& file);

  const size_t capacity_;
  mutable std::mutex mutex_;
  std::list<uint32_t> recent_;  // most recent first
  struct Entry {
    File file;
    std::list<uint32_t>::iterator at;
  };
  std::unordered_map<uint32_t, Entry> files_;
};

}  // namespace passthroughfs
