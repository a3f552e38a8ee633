// The FUSE-over-io_uring transport (FUSE_OVER_IO_URING, protocol 7.42+).
//
// The kernel keeps one queue per possible CPU and puts each request on the
// queue of the CPU its caller runs on; a daemon thread pinned to that CPU
// then serves it without a cross-CPU wakeup. Each queue is a set of entries
// (a header buffer and a payload buffer) registered with
// FUSE_IO_URING_CMD_REGISTER; a request arrives as the completion of the
// entry's command, and the reply goes back in the same buffers with
// FUSE_IO_URING_CMD_COMMIT_AND_FETCH, which also re-arms the entry.
//
// Only the kernel's requests travel this way: INIT, FORGET, BATCH_FORGET
// and INTERRUPT still come through /dev/fuse, and notifications still go
// out through it (fs/fuse/dev_uring.c, fuse_io_uring_ops).
#pragma once

#include <liburing.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "fusekit/reply.h"
#include "fusekit/result.h"
#include "fusekit/unique_fd.h"

namespace fusekit::transport {

// How many queues the kernel makes (num_possible_cpus()); a queue id is a
// CPU number.
unsigned PossibleCpus();

// Thread-safety: Serve runs on one thread, the queue's owner. The reply
// sinks handed to `handle` may be used from any thread, as may Wake. A reply
// sent from the owner is committed with the owner's next submission; one
// sent from another thread is handed to the owner (through an eventfd it
// polls), so that every command is issued by the owner: the kernel copies
// the next request into the buffers in the issuing task's context, and
// cancels a task's commands when that task exits.
class UringQueue : public std::enable_shared_from_this<UringQueue> {
 public:
  using Handler =
      std::function<void(std::span<const std::byte> request, const std::shared_ptr<ReplySink>&)>;

  // A ring for queue `qid` of the connection of `device`, with `depth`
  // entries whose payload buffers hold `payload_size` bytes (at least the
  // kernel's max(max_write, max_pages * page size, 8 KiB)). Nothing is
  // registered yet: that needs INIT answered.
  static Result<std::shared_ptr<UringQueue>> Create(std::shared_ptr<const UniqueFd> device,
                                                    unsigned qid, unsigned depth,
                                                    size_t payload_size);
  ~UringQueue();
  UringQueue(const UringQueue&) = delete;
  UringQueue& operator=(const UringQueue&) = delete;

  // Registers every entry, then hands each request to `handle` until the
  // connection ends (ENOTCONN from the kernel), or `stop` is seen (after
  // Wake or a signal). Fails with the kernel's errno when no entry could
  // be registered: the kernel then keeps using /dev/fuse.
  Status Serve(const Handler& handle, const std::atomic<bool>& stop);
  // Makes Serve look at `stop` again.
  void Wake();

  unsigned qid() const { return qid_; }
  // Replies through this queue's entries count in `stats` (before Serve).
  void CountIn(const std::shared_ptr<Stats>& stats);

 private:
  struct Entry;
  class EntrySink;

  UringQueue(std::shared_ptr<const UniqueFd> device, unsigned qid, size_t payload_size);
  void PrepareCommand(Entry& e, uint32_t cmd);
  void ArmWake();
  void Dispatch(Entry& e, const Handler& handle);
  // Fills `e`'s header for the reply whose body (`size` bytes) already is
  // in the payload buffer, and commits it (or hands it to the owner).
  void Commit(Entry& e, uint64_t unique, int error, size_t size);
  void Reply(Entry& e, uint64_t unique, Opcode opcode, int error, std::span<const iovec> payload);
  int ReplyFromFile(Entry& e, uint64_t unique, Opcode opcode, int fd, uint64_t offset,
                    size_t size);
  // Claims the right to answer `e`'s request; false for a reply that comes
  // twice or to a request that is gone.
  bool Claim(Entry& e, uint64_t unique, Opcode opcode);

  std::shared_ptr<const UniqueFd> device_;
  const unsigned qid_;
  const size_t payload_size_;
  io_uring ring_{};
  bool ring_ready_ = false;
  UniqueFd wake_fd_;
  uint64_t wake_value_ = 0;  // the eventfd read lands here
  std::vector<std::unique_ptr<Entry>> entries_;
  std::thread::id owner_;

  // Replies from other threads waiting for the owner to commit them.
  std::mutex mutex_;
  std::vector<Entry*> to_commit_;  // guarded by mutex_
  bool closed_ = false;            // guarded by mutex_: Serve has returned
};

}  // namespace fusekit::transport
