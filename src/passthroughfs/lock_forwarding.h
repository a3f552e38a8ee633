// LockForwardingFs: POSIX locks and flock taken through the mount are taken
// on SOURCE too (-o lock-forwarding), so that processes using SOURCE
// directly and processes using the mount exclude each other.
//
// Each lock owner the kernel names (a process's table of open files for
// POSIX locks, an open file for flock) gets its own open file description
// of the SOURCE file, opened by the daemon; its locks are open file
// description locks (F_OFD_SETLK) or flock() on it. Owners then exclude
// each other exactly as processes do natively, and conflict with the
// classic POSIX locks and flocks taken on SOURCE directly. An owner's POSIX
// locks go at FLUSH (each close(2) of the file by that process, as POSIX
// says: the mount must then not skip FLUSH); every owner that locked
// through an open file goes at its RELEASE (its flock, and the open file
// description locks a caller takes with F_OFD_SETLK, whose owner is that
// open file); everything at the end of the session.
//
// A lock that must be waited for (SETLKW) is not waited for by a worker,
// which the holder's unlock may need: one waiter thread retries each every
// few milliseconds until it is granted, the request is interrupted (EINTR),
// or the session ends (EIO); it takes the lock on the owner's description
// of that moment (a close by another thread of the owner's process may
// have replaced it). A waiter that retries does not queue in the kernel:
// a process on SOURCE that locks and unlocks in a tight loop can keep it
// waiting. GETLK names the holder's pid only for locks taken on SOURCE
// directly (the kernel reports none for description locks). Not with
// FUSE-over-io_uring: a waiting request would hold one of its CPU's few
// ring entries.
//
// Thread-safety: every operation may run concurrently; one mutex guards
// the owners and the waits, never held across a reply or a lock call.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "fusekit/forwarding_operations.h"

namespace passthroughfs {

class LockForwardingFs : public fusekit::ForwardingOperations {
 public:
  // Opens SOURCE's file of a node for locks (read-write where it can).
  using OpenForLocks = std::function<fusekit::Result<fusekit::UniqueFd>(fusekit::NodeId)>;
  // `inner` must outlive this object.
  LockForwardingFs(fusekit::Operations& inner, OpenForLocks open);
  ~LockForwardingFs() override;

  void Destroy() override;
  void GetLk(const fusekit::Context&, const fusekit::req::GetLk&, fusekit::ReplyLock) override;
  void SetLk(const fusekit::Context&, const fusekit::req::SetLk&, bool sleep,
             fusekit::ReplyEmpty) override;
  void Flush(const fusekit::Context&, const fusekit::req::Flush&, fusekit::ReplyEmpty) override;
  void Release(const fusekit::Context&, const fusekit::req::Release&,
               fusekit::ReplyEmpty) override;

  // Owners holding a description now (tests).
  size_t owners() const;

 private:
  // (node, lock owner, flock): POSIX and flock owners never share one.
  using OwnerKey = std::tuple<uint64_t, uint64_t, bool>;
  using Description = std::shared_ptr<const fusekit::UniqueFd>;
  struct Wait {
    OwnerKey key;
    uint64_t fh;
    fusekit::FileLock lock;
    fusekit::Context ctx;
    fusekit::ReplyEmpty reply;
  };

  // The owner's description, opened at its first lock.
  fusekit::Result<Description> DescriptionFor(const OwnerKey& key);
  // One try at `lock` for `key`: 0 once it is held on the owner's current
  // description (noted as taken through open file `fh`), or the errno.
  int TryFor(const OwnerKey& key, uint64_t fh, const fusekit::FileLock& lock);
  // Drops the owner's description (closing it releases its locks), if it
  // is `only` (when given).
  void DropOwner(const OwnerKey& key, const Description& only = nullptr);
  void WaiterLoop();
  // Ends the waiter and answers what still waits.
  void Stop();

  const OpenForLocks open_;
  mutable std::mutex mutex_;
  std::map<OwnerKey, Description> owners_;
  // The owners that locked through each open file, with the description
  // they had then (not kept open by this): dropped at its RELEASE unless
  // replaced since.
  using Seen = std::weak_ptr<const fusekit::UniqueFd>;
  std::map<uint64_t, std::vector<std::pair<OwnerKey, Seen>>> by_file_;
  std::vector<Wait> waits_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread waiter_;  // started at the first wait
};

// One try at `lock` (F_UNLCK unlocks) on `fd` for its owner: 0, or the
// errno (EAGAIN: held by another owner).
int TryLock(int fd, bool flock, const fusekit::FileLock& lock);

}  // namespace passthroughfs
