// The request and reply side of UringQueue: rebuilding a request from an
// entry's buffers, and writing the reply into them.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/log.h"
#include "fusekit/proto/describe.h"
#include "fusekit/transport/uring.h"
#include "fusekit/transport/uring_entry.h"

namespace fusekit::transport {
namespace {

bool NeedsNoReply(uint32_t opcode) {
  auto op = static_cast<Opcode>(opcode);
  return op == Opcode::FORGET || op == Opcode::BATCH_FORGET || op == Opcode::INTERRUPT ||
         op == Opcode::NOTIFY_REPLY;
}

}  // namespace

void UringQueue::Dispatch(Entry& e, const Handler& handle) {
  abi::fuse_in_header in;
  std::memcpy(&in, e.header.in_out, sizeof(in));
  const uint32_t payload_sz = e.header.ring_ent_in_out.payload_sz;
  e.commit_id = e.header.ring_ent_in_out.commit_id;
  e.opcode = static_cast<Opcode>(in.opcode);
  e.unique.store(in.unique, std::memory_order_relaxed);
  e.awaiting.store(true, std::memory_order_release);
  e.state = Entry::State::kUser;
  // in.len counts the whole request: the header, op_in's bytes (the op's
  // first argument, when it has one) and the payload (fuse_uring_args_to_ring).
  size_t op_in = in.len - sizeof(in) - payload_sz;
  if (in.len < sizeof(in) + payload_sz || payload_sz > payload_size_ ||
      op_in > abi::FUSE_URING_OP_IN_OUT_SZ) {
    LogError("io_uring queue {}: malformed request (len {}, payload {})", qid_, in.len,
             payload_sz);
    if (Claim(e, in.unique, e.opcode)) Commit(e, in.unique, EIO, 0);
    return;
  }
  std::byte* start = e.payload - op_in - sizeof(in);
  std::memcpy(start, &in, sizeof(in));
  std::memcpy(start + sizeof(in), e.header.op_in, op_in);
  // The sink shares ownership of the queue: a late reply finds it alive.
  std::shared_ptr<ReplySink> sink(shared_from_this(), &e.sink);
  handle({start, in.len}, sink);
  // The kernel waits for a commit even for requests that get no reply.
  if (NeedsNoReply(in.opcode) && Claim(e, in.unique, e.opcode)) Commit(e, in.unique, 0, 0);
}

bool UringQueue::Claim(Entry& e, uint64_t unique, Opcode opcode) {
  if (e.unique.load(std::memory_order_relaxed) != unique ||
      !e.awaiting.exchange(false, std::memory_order_acq_rel)) {
    LogError("{} (unique {}): reply to a request not waiting on io_uring queue {}",
             OpcodeName(opcode), unique, qid_);
    return false;
  }
  return true;
}

void UringQueue::Reply(Entry& e, uint64_t unique, Opcode opcode, int error,
                       std::span<const iovec> payload) {
  if (!Claim(e, unique, opcode)) return;
  if (DebugLogging())
    LogDebug("{}", proto::DescribeReply(RequestId(unique), opcode, error, payload));
  size_t total = 0;
  for (const iovec& piece : payload) total += piece.iov_len;
  if (error == 0 && total > payload_size_) {
    LogError("reply to {} (unique {}) is {} bytes, more than the ring's {}", OpcodeName(opcode),
             unique, total, payload_size_);
    error = EIO;
  }
  if (error != 0) total = 0;
  size_t at = 0;
  // memmove: a reply may quote the request, which sits in the same buffer.
  for (size_t i = 0; error == 0 && i < payload.size(); ++i) {
    std::memmove(e.payload + at, payload[i].iov_base, payload[i].iov_len);
    at += payload[i].iov_len;
  }
  Commit(e, unique, error, total);
}

int UringQueue::ReplyFromFile(Entry& e, uint64_t unique, Opcode opcode, int fd, uint64_t offset,
                              size_t size) {
  if (e.unique.load(std::memory_order_relaxed) != unique ||
      !e.awaiting.load(std::memory_order_acquire)) {
    Claim(e, unique, opcode);  // logs
    return 0;
  }
  size = std::min(size, payload_size_);
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, e.payload + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && got == 0) return errno;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (!Claim(e, unique, opcode)) return 0;
  if (DebugLogging()) {
    iovec data{e.payload, got};
    LogDebug("{} (read into the ring)", proto::DescribeReply(RequestId(unique), opcode, 0,
                                                             {&data, 1}));
  }
  Commit(e, unique, 0, got);
  return 0;
}

void UringQueue::Commit(Entry& e, uint64_t unique, int error, size_t size) {
  abi::fuse_out_header out{static_cast<uint32_t>(sizeof(out) + size), -error, unique};
  std::memcpy(e.header.in_out, &out, sizeof(out));
  e.header.ring_ent_in_out.payload_sz = static_cast<uint32_t>(size);
  if (std::this_thread::get_id() == owner_) {
    if (!closed_) PrepareCommand(e, abi::FUSE_IO_URING_CMD_COMMIT_AND_FETCH);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;  // the connection is gone; nobody waits for it
    to_commit_.push_back(&e);
  }
  Wake();
}

}  // namespace fusekit::transport
