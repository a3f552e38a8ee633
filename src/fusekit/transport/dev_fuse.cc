#include "fusekit/transport/dev_fuse.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <vector>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/log.h"
#include "fusekit/proto/describe.h"

namespace fusekit::transport {

Result<UniqueFd> CloneDevice(int device) {
  UniqueFd clone(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
  if (!clone) return FailLast();
  uint32_t source = static_cast<uint32_t>(device);
  if (::ioctl(clone.get(), abi::FUSE_DEV_IOC_CLONE, &source) == -1) return FailLast();
  return clone;
}

Result<size_t> DevFuseChannel::Receive(std::span<std::byte> buffer) {
  ssize_t n = ::read(fd_->get(), buffer.data(), buffer.size());
  if (n < 0) return FailLast();
  return static_cast<size_t>(n);
}

Status WriteMessage(int fd, uint64_t unique, int32_t error, std::span<const iovec> payload) {
  constexpr size_t kMaxPieces = 8;
  iovec stack_iov[kMaxPieces + 1];
  std::vector<iovec> heap_iov;
  iovec* iov = stack_iov;
  if (payload.size() > kMaxPieces) {
    heap_iov.resize(payload.size() + 1);
    iov = heap_iov.data();
  }
  size_t len = sizeof(abi::fuse_out_header);
  for (size_t i = 0; i < payload.size(); ++i) {
    iov[i + 1] = payload[i];
    len += payload[i].iov_len;
  }
  abi::fuse_out_header out{static_cast<uint32_t>(len), error, unique};
  iov[0] = {&out, sizeof(out)};
  ssize_t n = ::writev(fd, iov, static_cast<int>(payload.size() + 1));
  if (n < 0) return FailLast();
  return Ok();
}

void DevFuseChannel::Send(RequestId unique, Opcode opcode, int error,
                          std::span<const iovec> payload) {
  if (DebugLogging()) LogDebug("{}", proto::DescribeReply(unique, opcode, error, payload));
  auto status = WriteMessage(fd_->get(), unique.value, -error, payload);
  // ENOENT: the request was interrupted and is gone; ENODEV: unmounted.
  if (!status && status.error().value() != ENOENT && status.error().value() != ENODEV) {
    LogError("reply to {} (unique {}) failed: {}", OpcodeName(opcode), unique.value,
             status.error().message());
  }
}

}  // namespace fusekit::transport
