#include "fusekit/transport/dev_fuse.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

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

namespace {

// Below this, one pread and one writev cost less than fstat, write and two
// splices.
constexpr size_t kSpliceThreshold = 64 * 1024;

// One pipe per worker thread, as large as the system lets it be.
struct SplicePipe {
  UniqueFd read_end, write_end;
  size_t capacity = 0;

  SplicePipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    // Try for a whole maximal read plus its header; the default cap for
    // pipes (/proc/sys/fs/pipe-max-size) is 1 MiB.
    for (int want : {2 << 20, 1 << 20}) {
      int got = ::fcntl(write_end.get(), F_SETPIPE_SZ, want);
      if (got > 0) {
        capacity = static_cast<size_t>(got);
        return;
      }
    }
    int got = ::fcntl(write_end.get(), F_GETPIPE_SZ);
    capacity = got > 0 ? static_cast<size_t>(got) : 0;
  }

  // Empties the pipe after a failed message, so the next one starts clean.
  // Never blocks: it reads only what FIONREAD says is there.
  void Drain() {
    char discard[4096];
    int pending = 0;
    while (::ioctl(read_end.get(), FIONREAD, &pending) == 0 && pending > 0) {
      size_t chunk = std::min(sizeof(discard), static_cast<size_t>(pending));
      if (::read(read_end.get(), discard, chunk) <= 0) break;
    }
  }
};

}  // namespace

int DevFuseChannel::SendFile(RequestId unique, Opcode opcode, int fd, uint64_t offset,
                             size_t size) {
  if (size < kSpliceThreshold) return ReplySink::SendFile(unique, opcode, fd, offset, size);
  thread_local SplicePipe pipe;
  struct stat st;
  if (::fstat(fd, &st) != 0) return errno;
  uint64_t end = static_cast<uint64_t>(std::max<off_t>(st.st_size, 0));
  size_t n = offset >= end ? 0 : static_cast<size_t>(std::min<uint64_t>(size, end - offset));
  const size_t total = sizeof(abi::fuse_out_header) + n;
  // A pipe holds capacity/page buffers, not bytes: the header takes one,
  // and the data one per page it touches.
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t buffers = 1 + (offset % page + n + page - 1) / page;
  if (!S_ISREG(st.st_mode) || !pipe.write_end || buffers > pipe.capacity / page)
    return ReplySink::SendFile(unique, opcode, fd, offset, size);

  abi::fuse_out_header out{static_cast<uint32_t>(total), 0, unique.value};
  if (::write(pipe.write_end.get(), &out, sizeof(out)) != sizeof(out)) {
    pipe.Drain();
    return ReplySink::SendFile(unique, opcode, fd, offset, size);
  }
  loff_t from = static_cast<loff_t>(offset);
  size_t moved = 0;
  while (moved < n) {
    // Never block on the pipe: a full one means the count above was wrong,
    // and waiting would hang this worker for good.
    ssize_t r = ::splice(fd, &from, pipe.write_end.get(), nullptr, n - moved,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (r <= 0) break;
    moved += static_cast<size_t>(r);
  }
  if (moved != n) {
    // The file shrank or cannot be spliced: what is in the pipe does not
    // match its header. Start over the copying way.
    pipe.Drain();
    return ReplySink::SendFile(unique, opcode, fd, offset, size);
  }
  if (DebugLogging()) {
    iovec data{nullptr, n};
    LogDebug("{} (spliced)", proto::DescribeReply(unique, opcode, 0, {&data, 1}));
  }
  ssize_t r = ::splice(pipe.read_end.get(), nullptr, fd_->get(), nullptr, total, SPLICE_F_MOVE);
  if (r != static_cast<ssize_t>(total)) {
    int e = r < 0 ? errno : EIO;
    pipe.Drain();
    if (e != ENOENT && e != ENODEV)
      LogError("spliced reply to {} (unique {}) failed: {}", OpcodeName(opcode), unique.value,
               std::strerror(e));
  }
  return 0;
}

}  // namespace fusekit::transport
