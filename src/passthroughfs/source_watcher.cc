#include "source_watcher.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "fs_util.h"
#include "fusekit/log.h"

namespace passthroughfs {

using fusekit::Fail;
using fusekit::FailLast;
using fusekit::Result;
using fusekit::UniqueFd;

namespace {

uint64_t PackFsid(const int val[2]) {
  return static_cast<uint32_t>(val[0]) | static_cast<uint64_t>(static_cast<uint32_t>(val[1])) << 32;
}

// Reads `fd` whenever it has events and hands each batch to `handle`, on a
// thread of its own, until destroyed; and calls it with no bytes when the
// time it last asked for has passed.
class EventThread {
 public:
  using Handle = std::function<int(std::span<const std::byte>)>;
  EventThread(int fd, Handle handle)
      : fd_(fd), stop_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), handle_(std::move(handle)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~EventThread() {
    uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof(one));
    thread_.join();
  }

 private:
  void Run() {
    // Named, so that top, perf and the tests can tell it from the
    // request threads.
    ::pthread_setname_np(::pthread_self(), kWatcherThreadName);
    // Big enough for thousands of events a read: a storm is coalesced in
    // few batches.
    std::vector<std::byte> buffer(256 << 10);
    int wait_ms = -1;
    for (;;) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_.get(), POLLIN, 0}};
      int ready = ::poll(fds, 2, wait_ms);
      if (ready < 0) {
        if (errno == EINTR) continue;
        fusekit::LogError("source watcher: poll: {}", std::strerror(errno));
        return;
      }
      if (fds[1].revents) return;
      if (ready == 0) {
        wait_ms = handle_({});
        continue;
      }
      ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        fusekit::LogError("source watcher: read: {}", std::strerror(errno));
        return;
      }
      wait_ms = handle_(std::span<const std::byte>(buffer.data(), static_cast<size_t>(n)));
    }
  }

  int fd_;
  UniqueFd stop_;
  Handle handle_;
  std::thread thread_;
};

constexpr uint64_t kFanotifyMask = FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO |
                                   FAN_ATTRIB | FAN_MODIFY | FAN_CLOSE_WRITE | FAN_DELETE_SELF |
                                   FAN_MOVE_SELF | FAN_ONDIR;

// A filesystem mark: every change on the filesystem `mount_fd` is on.
bool MarkFilesystem(int fanotify, int mount_fd) {
  return ::fanotify_mark(fanotify, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, kFanotifyMask, AT_FDCWD,
                         ProcPath(mount_fd).c_str()) == 0;
}

class FanotifyWatcher : public SourceWatcher {
 public:
  FanotifyWatcher(UniqueFd fd, Callback callback)
      : fd_(std::move(fd)),
        thread_(fd_.get(), [callback = std::move(callback)](std::span<const std::byte> records) {
          return callback(ParseFanotify(records));
        }) {}
  const char* name() const override { return "fanotify"; }
  bool Watch(int, uint64_t) override { return true; }
  void Unwatch(uint64_t) override {}
  void Cover(int mount_fd) override {
    if (!MarkFilesystem(fd_.get(), mount_fd))
      fusekit::LogWarn("source watcher: cannot watch a filesystem below SOURCE: {}",
                       std::strerror(errno));
  }

 private:
  UniqueFd fd_;
  EventThread thread_;  // last: stopped before the fd closes
};

class InotifyWatcher : public SourceWatcher {
 public:
  InotifyWatcher(UniqueFd fd, Callback callback)
      : fd_(std::move(fd)),
        thread_(fd_.get(), [this, callback = std::move(callback)](std::span<const std::byte> records) {
          return callback(ParseInotify(records, [this](int wd) { return TagOf(wd); }));
        }) {}
  const char* name() const override { return "inotify"; }
  void Cover(int) override {}

  bool Watch(int dir, uint64_t tag) override {
    constexpr uint32_t kMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB |
                               IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF |
                               IN_ONLYDIR | IN_EXCL_UNLINK;
    // Through the magic link: the watch is on the directory itself.
    int wd = ::inotify_add_watch(fd_.get(), ProcPath(dir).c_str(), kMask);
    if (wd < 0) return false;
    std::lock_guard lock(mutex_);
    by_wd_[wd] = tag;
    by_tag_[tag] = wd;
    return true;
  }
  void Unwatch(uint64_t tag) override {
    std::lock_guard lock(mutex_);
    auto it = by_tag_.find(tag);
    if (it == by_tag_.end()) return;
    (void)::inotify_rm_watch(fd_.get(), it->second);
    by_wd_.erase(it->second);
    by_tag_.erase(it);
  }

 private:
  uint64_t TagOf(int wd) {
    std::lock_guard lock(mutex_);
    auto it = by_wd_.find(wd);
    return it == by_wd_.end() ? 0 : it->second;
  }

  UniqueFd fd_;
  std::mutex mutex_;
  std::unordered_map<int, uint64_t> by_wd_;
  std::unordered_map<uint64_t, int> by_tag_;
  EventThread thread_;  // last: stopped before the rest goes
};

}  // namespace

uint64_t FsidOf(int fd) {
  struct statfs st {};
  if (::fstatfs(fd, &st) != 0) return 0;
  int val[2];
  std::memcpy(val, &st.f_fsid, sizeof(val));
  return PackFsid(val);
}

Result<std::unique_ptr<SourceWatcher>> SourceWatcher::Fanotify(std::span<const int> mounts,
                                                               Callback callback) {
  // FAN_REPORT_TID: the thread, so that the daemon's own changes (made by
  // its workers) can be told apart, even from those of other threads of
  // its process.
  UniqueFd fd(::fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_TID |
                                  FAN_REPORT_DFID_NAME_TARGET,
                              O_RDONLY | O_CLOEXEC | O_LARGEFILE));
  if (!fd) return FailLast();
  for (int m : mounts) {
    if (!MarkFilesystem(fd.get(), m)) return FailLast();
  }
  return std::unique_ptr<SourceWatcher>(new FanotifyWatcher(std::move(fd), std::move(callback)));
}

Result<std::unique_ptr<SourceWatcher>> SourceWatcher::Inotify(Callback callback) {
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) return FailLast();
  return std::unique_ptr<SourceWatcher>(new InotifyWatcher(std::move(fd), std::move(callback)));
}

std::vector<SourceEvent> SourceWatcher::ParseFanotify(std::span<const std::byte> records) {
  std::vector<SourceEvent> events;
  size_t at = 0;
  while (records.size() - at >= sizeof(fanotify_event_metadata)) {
    fanotify_event_metadata meta;
    std::memcpy(&meta, records.data() + at, sizeof(meta));
    if (meta.event_len < sizeof(meta) || meta.event_len > records.size() - at ||
        meta.metadata_len < sizeof(meta) || meta.metadata_len > meta.event_len)
      break;
    const std::byte* event = records.data() + at;
    at += meta.event_len;
    if (meta.vers != FANOTIFY_METADATA_VERSION) continue;
    if (meta.fd >= 0) ::close(meta.fd);  // FID groups report none; never leak one
    SourceEvent e;
    e.pid = meta.pid;
    const uint64_t m = meta.mask;
    if (m & FAN_Q_OVERFLOW) e.flags |= SourceEvent::kOverflow;
    if (m & FAN_CREATE) e.flags |= SourceEvent::kCreated;
    if (m & FAN_DELETE) e.flags |= SourceEvent::kDeleted;
    if (m & FAN_MOVED_FROM) e.flags |= SourceEvent::kMovedFrom;
    if (m & FAN_MOVED_TO) e.flags |= SourceEvent::kMovedTo;
    if (m & FAN_ATTRIB) e.flags |= SourceEvent::kAttrib;
    if (m & (FAN_MODIFY | FAN_CLOSE_WRITE)) e.flags |= SourceEvent::kModified;
    if (m & (FAN_DELETE_SELF | FAN_MOVE_SELF)) e.flags |= SourceEvent::kSelfGone;
    if (m & FAN_ONDIR) e.flags |= SourceEvent::kIsDir;
    // Info records: the object (FID), its directory and name (DFID_NAME).
    size_t info = meta.metadata_len;
    while (meta.event_len - info >= sizeof(fanotify_event_info_header)) {
      fanotify_event_info_header header;
      std::memcpy(&header, event + info, sizeof(header));
      if (header.len < sizeof(header) || header.len > meta.event_len - info) break;
      const std::byte* record = event + info;
      info += header.len;
      if (header.info_type != FAN_EVENT_INFO_TYPE_FID &&
          header.info_type != FAN_EVENT_INFO_TYPE_DFID_NAME &&
          header.info_type != FAN_EVENT_INFO_TYPE_DFID)
        continue;
      // header, fsid, then a struct file_handle, then (DFID_NAME) a name.
      constexpr size_t kHandleAt = sizeof(fanotify_event_info_header) + sizeof(__kernel_fsid_t);
      if (header.len < kHandleAt + 8) continue;
      int fsid[2];
      std::memcpy(fsid, record + sizeof(fanotify_event_info_header), sizeof(fsid));
      uint32_t handle_bytes;
      int32_t handle_type;
      std::memcpy(&handle_bytes, record + kHandleAt, 4);
      std::memcpy(&handle_type, record + kHandleAt + 4, 4);
      size_t bytes_at = kHandleAt + 8;
      if (handle_bytes > header.len - bytes_at || handle_type < 0 || handle_type > 255) continue;
      auto handle = SourceHandle::FromBytes(
          handle_type, std::span<const uint8_t>(
                           reinterpret_cast<const uint8_t*>(record + bytes_at), handle_bytes));
      e.fsid = PackFsid(fsid);
      if (header.info_type == FAN_EVENT_INFO_TYPE_FID) {
        e.object = std::move(handle);
        continue;
      }
      e.dir = std::move(handle);
      if (header.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
        const char* name = reinterpret_cast<const char*>(record + bytes_at + handle_bytes);
        size_t room = header.len - bytes_at - handle_bytes;
        e.name.assign(name, strnlen(name, room));
      }
    }
    // An event on a directory itself comes as its DFID with the name ".".
    if (e.name == "." && e.object.empty()) {
      e.object = std::move(e.dir);
      e.dir = SourceHandle();
      e.name.clear();
    }
    events.push_back(std::move(e));
  }
  return events;
}

std::vector<SourceEvent> SourceWatcher::ParseInotify(
    std::span<const std::byte> records, const std::function<uint64_t(int wd)>& tag_of) {
  std::vector<SourceEvent> events;
  size_t at = 0;
  while (records.size() - at >= sizeof(inotify_event)) {
    inotify_event header;
    std::memcpy(&header, records.data() + at, sizeof(header));
    if (header.len > records.size() - at - sizeof(header)) break;
    const char* name = reinterpret_cast<const char*>(records.data() + at + sizeof(header));
    at += sizeof(header) + header.len;
    SourceEvent e;
    const uint32_t m = header.mask;
    if (m & IN_Q_OVERFLOW) {
      e.flags = SourceEvent::kOverflow;
      events.push_back(std::move(e));
      continue;
    }
    e.dir_tag = tag_of(header.wd);
    if (e.dir_tag == 0) continue;  // a watch since removed
    if (m & IN_CREATE) e.flags |= SourceEvent::kCreated;
    if (m & IN_DELETE) e.flags |= SourceEvent::kDeleted;
    if (m & IN_MOVED_FROM) e.flags |= SourceEvent::kMovedFrom;
    if (m & IN_MOVED_TO) e.flags |= SourceEvent::kMovedTo;
    if (m & IN_ATTRIB) e.flags |= SourceEvent::kAttrib;
    if (m & (IN_MODIFY | IN_CLOSE_WRITE)) e.flags |= SourceEvent::kModified;
    if (m & (IN_DELETE_SELF | IN_MOVE_SELF)) e.flags |= SourceEvent::kSelfGone;
    if (m & IN_ISDIR) e.flags |= SourceEvent::kIsDir;
    if (e.flags == 0) continue;  // IN_IGNORED, IN_UNMOUNT
    e.name.assign(name, strnlen(name, header.len));
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace passthroughfs
