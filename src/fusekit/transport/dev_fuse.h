// The /dev/fuse transport: one channel per device fd (the mount's own or a
// clone). Replies must go back through the fd their request was read from:
// each cloned fd has its own queue of requests in flight.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <span>

#include "fusekit/reply.h"
#include "fusekit/result.h"
#include "fusekit/unique_fd.h"

namespace fusekit::transport {

// Opens a new /dev/fuse fd attached to the connection of `device`
// (FUSE_DEV_IOC_CLONE).
Result<UniqueFd> CloneDevice(int device);

// Thread-safety: Receive from one thread at a time; Send from any thread.
class DevFuseChannel : public ReplySink {
 public:
  explicit DevFuseChannel(std::shared_ptr<const UniqueFd> fd) : fd_(std::move(fd)) {}

  // One whole request into `buffer`. Errors: ENODEV once the mount is gone,
  // EINTR/ENOENT/EAGAIN when the caller should simply read again.
  Result<size_t> Receive(std::span<std::byte> buffer);
  void Send(RequestId unique, Opcode opcode, int error, std::span<const iovec> payload) override;
  // Large replies go file -> pipe -> /dev/fuse with splice(2): the data is
  // never copied into the daemon. Small ones, and any that would not fit
  // the thread's pipe, take the copying path.
  int SendFile(RequestId unique, Opcode opcode, int fd, uint64_t offset, size_t size) override;

  int fd() const { return fd_->get(); }

 private:
  std::shared_ptr<const UniqueFd> fd_;
};

// Writes one message (header + payload) to a /dev/fuse fd. `error` is the
// negative errno for replies, the notify code for notifications.
Status WriteMessage(int fd, uint64_t unique, int32_t error, std::span<const iovec> payload);

}  // namespace fusekit::transport
