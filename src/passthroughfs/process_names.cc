#include "process_names.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

namespace passthroughfs {

namespace {

// The name in `fd`, or "" when its task is gone (the read fails).
std::string ReadName(int fd) {
  char name[64];
  ssize_t n = ::pread(fd, name, sizeof(name), 0);
  if (n <= 0) return "";
  if (name[n - 1] == '\n') --n;
  return std::string(name, static_cast<size_t>(n));
}

}  // namespace

std::string ProcessNames::Name(uint32_t pid) {
  if (pid == 0) return "";
  File file;
  {
    std::lock_guard lock(mutex_);
    auto it = files_.find(pid);
    if (it != files_.end()) {
      recent_.splice(recent_.begin(), recent_, it->second.at);
      file = it->second.file;
    }
  }
  if (file) {
    std::string name = ReadName(file->get());
    if (!name.empty()) return name;
    Forget(pid, file);  // that task is gone; the pid may be another's now
  }
  file = Open(pid);
  return file ? ReadName(file->get()) : "";
}

ProcessNames::File ProcessNames::Open(uint32_t pid) {
  char path[32];
  std::snprintf(path, sizeof(path), "/proc/%u/comm", pid);
  fusekit::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return nullptr;
  auto file = std::make_shared<const fusekit::UniqueFd>(std::move(fd));
  File evicted;  // closed outside the lock
  std::lock_guard lock(mutex_);
  if (files_.count(pid)) return file;  // another thread kept one meanwhile
  if (files_.size() >= capacity_ && !recent_.empty()) {
    uint32_t oldest = recent_.back();
    evicted = std::move(files_[oldest].file);
    files_.erase(oldest);
    recent_.pop_back();
  }
  recent_.push_front(pid);
  files_[pid] = Entry{file, recent_.begin()};
  return file;
}

void ProcessNames::Forget(uint32_t pid, const File& file) {
  File dropped;
  std::lock_guard lock(mutex_);
  auto it = files_.find(pid);
  if (it == files_.end() || it->second.file != file) return;
  dropped = std::move(it->second.file);
  recent_.erase(it->second.at);
  files_.erase(it);
}

size_t ProcessNames::open_files() const {
  std::lock_guard lock(mutex_);
  return files_.size();
}

}  // namespace passthroughfs
