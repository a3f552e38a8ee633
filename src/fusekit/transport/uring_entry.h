// UringQueue's entries: internal to uring.cc and uring_reply.cc.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdlib>
#include <memory>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/transport/uring.h"

namespace fusekit::transport {

struct FreeDeleter {
  void operator()(std::byte* p) const { std::free(p); }
};

class UringQueue::EntrySink : public ReplySink {
 public:
  EntrySink(UringQueue& queue, Entry& entry) : queue_(queue), entry_(entry) {}
  void Send(RequestId unique, Opcode opcode, int error, std::span<const iovec> payload) override {
    queue_.Reply(entry_, unique.value, opcode, error, payload);
  }
  // No splice into a ring buffer: read straight into the payload instead.
  int SendFile(RequestId unique, Opcode opcode, int fd, uint64_t offset, size_t size) override {
    return queue_.ReplyFromFile(entry_, unique.value, opcode, fd, offset, size);
  }

 private:
  UringQueue& queue_;
  Entry& entry_;
};

struct UringQueue::Entry {
  Entry(UringQueue& queue, size_t index) : index(index), sink(queue, *this) {}

  abi::fuse_uring_req_header header{};
  std::unique_ptr<std::byte, FreeDeleter> buffer;  // prefix, then the payload
  std::byte* payload = nullptr;
  iovec iov[2]{};
  const size_t index;
  // Owner thread only.
  enum class State { kKernel, kUser, kDead } state = State::kKernel;
  uint32_t last_cmd = 0;
  uint64_t commit_id = 0;
  Opcode opcode{};
  // The request being served; `awaiting` until its reply is claimed.
  std::atomic<uint64_t> unique{0};
  std::atomic<bool> awaiting{false};
  EntrySink sink;
};

}  // namespace fusekit::transport
