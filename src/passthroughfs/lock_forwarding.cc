#include "lock_forwarding.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <utility>

namespace passthroughfs {

using namespace fusekit;  // NOLINT: this file implements fusekit::Operations

namespace {

// FUSE's ranges end inclusive, OFFSET_MAX for "to the end of the file";
// struct flock's give a length, 0 for that.
constexpr uint64_t kOffsetMax = LLONG_MAX;

struct flock ToFlock(const FileLock& lock) {
  struct flock fl {};
  fl.l_type = static_cast<short>(lock.type);
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(lock.start);
  fl.l_len = lock.end >= kOffsetMax ? 0 : static_cast<off_t>(lock.end - lock.start + 1);
  return fl;
}

}  // namespace

int TryLock(int fd, bool flock, const FileLock& lock) {
  int rc;
  if (flock) {
    int op = lock.type == F_UNLCK ? LOCK_UN : lock.type == F_RDLCK ? LOCK_SH : LOCK_EX;
    rc = ::flock(fd, op | LOCK_NB);
  } else {
    struct flock fl = ToFlock(lock);
    rc = ::fcntl(fd, F_OFD_SETLK, &fl);
  }
  if (rc == 0) return 0;
  return errno == EACCES || errno == EWOULDBLOCK ? EAGAIN : errno;
}

LockForwardingFs::LockForwardingFs(Operations& inner, OpenForLocks open)
    : ForwardingOperations(inner), open_(std::move(open)) {}

LockForwardingFs::~LockForwardingFs() { Stop(); }

void LockForwardingFs::Destroy() {
  Stop();
  {
    std::lock_guard lock(mutex_);
    owners_.clear();
    by_file_.clear();
  }
  inner().Destroy();
}

size_t LockForwardingFs::owners() const {
  std::lock_guard lock(mutex_);
  return owners_.size();
}

Result<LockForwardingFs::Description> LockForwardingFs::DescriptionFor(const OwnerKey& key) {
  {
    std::lock_guard lock(mutex_);
    auto it = owners_.find(key);
    if (it != owners_.end()) return it->second;
  }
  // Opened outside the lock; an owner is one thread of requests at a time
  // (its process is blocked in the call), so two opens for it do not race
  // but for a SETLK of one thread and a close of another, where the first
  // description stays.
  auto fd = open_(NodeId(std::get<0>(key)));
  if (!fd) return Fail(fd.error());
  auto made = std::make_shared<const UniqueFd>(std::move(*fd));
  std::lock_guard lock(mutex_);
  return owners_.try_emplace(key, std::move(made)).first->second;
}

void LockForwardingFs::DropOwner(const OwnerKey& key, const Description& only) {
  Description dropped;  // closed, and its locks released, outside the lock
  std::lock_guard lock(mutex_);
  auto it = owners_.find(key);
  if (it == owners_.end() || (only && it->second != only)) return;
  dropped = std::move(it->second);
  owners_.erase(it);
}

int LockForwardingFs::TryFor(const OwnerKey& key, uint64_t fh, const FileLock& lock) {
  auto fd = DescriptionFor(key);
  if (!fd) return fd.error().value();
  int error = TryLock((*fd)->get(), std::get<2>(key), lock);
  if (error) return error;
  std::lock_guard guard(mutex_);
  auto it = owners_.find(key);
  // Dropped meanwhile (a close by another thread of the owner): what it
  // held went with it, so this try took nothing.
  if (it == owners_.end() || it->second != *fd) return EAGAIN;
  auto& taken = by_file_[fh];
  bool noted = false;
  for (const auto& [k, seen] : taken) noted |= k == key && seen.lock() == *fd;
  if (!noted) taken.emplace_back(key, *fd);
  return 0;
}

void LockForwardingFs::GetLk(const Context& ctx, const req::GetLk& in, ReplyLock reply) {
  // The owner's own locks never conflict: asked on its description, or on
  // a fresh one when it holds none.
  Description fd;
  {
    std::lock_guard lock(mutex_);
    auto it = owners_.find({ctx.node().value, in.owner, false});
    if (it != owners_.end()) fd = it->second;
  }
  UniqueFd fresh;
  if (!fd) {
    auto opened = open_(ctx.node());
    if (!opened) return reply.Error(opened.error());
    fresh = std::move(*opened);
  }
  struct flock fl = ToFlock(in.lock);
  if (::fcntl(fd ? fd->get() : fresh.get(), F_OFD_GETLK, &fl) != 0)
    return reply.Error(Errno::Last());
  FileLock out;
  out.type = static_cast<uint32_t>(fl.l_type);
  if (fl.l_type != F_UNLCK) {
    out.start = static_cast<uint64_t>(fl.l_start);
    out.end = fl.l_len == 0 ? kOffsetMax : static_cast<uint64_t>(fl.l_start + fl.l_len - 1);
    out.pid = fl.l_pid > 0 ? static_cast<uint32_t>(fl.l_pid) : 0;
  }
  reply.Ok(out);
}

void LockForwardingFs::SetLk(const Context& ctx, const req::SetLk& in, bool sleep,
                             ReplyEmpty reply) {
  OwnerKey key{ctx.node().value, in.owner, in.flock};
  if (in.lock.type == F_UNLCK) {
    Description fd;
    {
      std::lock_guard lock(mutex_);
      auto it = owners_.find(key);
      if (it != owners_.end()) fd = it->second;
    }
    if (!fd) return reply.Ok();  // nothing held
    int error = TryLock(fd->get(), in.flock, in.lock);
    return error ? reply.Error(error) : reply.Ok();
  }
  int error = TryFor(key, in.fh.value, in.lock);
  if (error != EAGAIN || !sleep) return error ? reply.Error(error) : reply.Ok();
  std::lock_guard lock(mutex_);
  if (stopping_) return reply.Error(EIO);
  waits_.push_back(Wait{key, in.fh.value, in.lock, ctx, std::move(reply)});
  if (!waiter_.joinable()) waiter_ = std::thread([this] { WaiterLoop(); });
  wake_.notify_one();
}

void LockForwardingFs::WaiterLoop() {
  using namespace std::chrono_literals;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (waits_.empty()) {
      wake_.wait(lock, [&] { return stopping_ || !waits_.empty(); });
      continue;
    }
    std::vector<Wait> trying = std::move(waits_);
    waits_.clear();
    lock.unlock();
    std::vector<std::pair<Wait, int>> done;
    std::vector<Wait> still;
    for (Wait& w : trying) {
      if (w.ctx.interrupted()) {
        done.emplace_back(std::move(w), EINTR);
        continue;
      }
      int error = TryFor(w.key, w.fh, w.lock);
      if (error == EAGAIN) {
        still.push_back(std::move(w));
      } else {
        done.emplace_back(std::move(w), error);
      }
    }
    for (auto& [w, error] : done) error ? w.reply.Error(error) : w.reply.Ok();
    done.clear();
    lock.lock();
    for (Wait& w : still) waits_.push_back(std::move(w));
    // Retried every 2 ms: a granted lock is noticed within that, and an
    // idle mount (nothing waiting) does not wake at all.
    wake_.wait_for(lock, 2ms, [&] { return stopping_; });
  }
}

void LockForwardingFs::Stop() {
  std::vector<Wait> left;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (waiter_.joinable()) waiter_.join();
  {
    std::lock_guard lock(mutex_);
    left = std::move(waits_);
    waits_.clear();
  }
  for (Wait& w : left) w.reply.Error(EIO);
}

void LockForwardingFs::Flush(const Context& ctx, const req::Flush& in, ReplyEmpty reply) {
  // close(2) by this process: its POSIX locks on the file go, as natively.
  DropOwner({ctx.node().value, in.lock_owner, false});
  inner().Flush(ctx, in, std::move(reply));
}

void LockForwardingFs::Release(const Context& ctx, const req::Release& in, ReplyEmpty reply) {
  // The open file is gone: its flock and its description locks with it,
  // and every POSIX owner that locked through it has closed it (FLUSH).
  std::vector<std::pair<OwnerKey, Seen>> taken;
  {
    std::lock_guard lock(mutex_);
    auto it = by_file_.find(in.fh.value);
    if (it != by_file_.end()) {
      taken = std::move(it->second);
      by_file_.erase(it);
    }
  }
  for (const auto& [key, seen] : taken) {
    if (Description fd = seen.lock()) DropOwner(key, fd);
  }
  inner().Release(ctx, in, std::move(reply));
}

}  // namespace passthroughfs
