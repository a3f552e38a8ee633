#include "fusekit/transport/uring.h"

#include <sys/eventfd.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/log.h"
#include "fusekit/proto/describe.h"

namespace fusekit::transport {
namespace {

// user_data of the eventfd read that wakes the owner; entries use their index.
constexpr uint64_t kWakeTag = ~uint64_t{0};

// The request is rebuilt in front of the payload, in this much room, so
// that header, per-op struct and payload are contiguous for the decoder
// without copying the payload: 40 bytes of fuse_in_header and at most
// FUSE_URING_OP_IN_OUT_SZ of op_in, rounded up to keep the payload
// page-aligned.
size_t PrefixSize() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }

const char* CommandName(uint32_t cmd) {
  return cmd == abi::FUSE_IO_URING_CMD_REGISTER ? "REGISTER" : "COMMIT_AND_FETCH";
}

bool NeedsNoReply(uint32_t opcode) {
  auto op = static_cast<Opcode>(opcode);
  return op == Opcode::FORGET || op == Opcode::BATCH_FORGET || op == Opcode::INTERRUPT ||
         op == Opcode::NOTIFY_REPLY;
}

struct FreeDeleter {
  void operator()(std::byte* p) const { std::free(p); }
};

}  // namespace

unsigned PossibleCpus() {
  // "0-1" or "0,2-5": the kernel sizes the ring by the number of CPUs in
  // this mask (num_possible_cpus()).
  std::ifstream in("/sys/devices/system/cpu/possible");
  std::string list;
  unsigned count = 0;
  if (in >> list) {
    size_t pos = 0;
    while (pos < list.size()) {
      size_t comma = list.find(',', pos);
      std::string range = list.substr(pos, comma == std::string::npos ? comma : comma - pos);
      size_t dash = range.find('-');
      unsigned first = static_cast<unsigned>(std::stoul(range.substr(0, dash)));
      unsigned last = dash == std::string::npos
                          ? first
                          : static_cast<unsigned>(std::stoul(range.substr(dash + 1)));
      count += last - first + 1;
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  if (count == 0) count = static_cast<unsigned>(std::max(1, ::get_nprocs_conf()));
  return count;
}

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

UringQueue::UringQueue(std::shared_ptr<const UniqueFd> device, unsigned qid, size_t payload_size)
    : device_(std::move(device)), qid_(qid), payload_size_(payload_size) {}

UringQueue::~UringQueue() {
  if (ring_ready_) io_uring_queue_exit(&ring_);
}

Result<std::shared_ptr<UringQueue>> UringQueue::Create(std::shared_ptr<const UniqueFd> device,
                                                       unsigned qid, unsigned depth,
                                                       size_t payload_size) {
  std::shared_ptr<UringQueue> q(new UringQueue(std::move(device), qid, payload_size));
  io_uring_params params{};
  // The command area of a 64-byte SQE is too small for fuse_uring_cmd_req;
  // the kernel refuses FUSE commands without SQE128. No CQE32: the kernel
  // completes them with res only.
  params.flags = IORING_SETUP_SQE128;
  // Every entry has at most one command in flight, plus the wake read.
  int r = io_uring_queue_init_params(depth + 2, &q->ring_, &params);
  if (r < 0) return Fail(-r);
  q->ring_ready_ = true;
  int fd = q->device_->get();
  r = io_uring_register_files(&q->ring_, &fd, 1);
  if (r < 0) return Fail(-r);
  q->wake_fd_.reset(::eventfd(0, EFD_CLOEXEC));
  if (!q->wake_fd_) return FailLast();

  const size_t prefix = PrefixSize();
  const size_t page = prefix;
  const size_t bytes = prefix + (payload_size + page - 1) / page * page;
  for (unsigned i = 0; i < depth; ++i) {
    auto e = std::make_unique<Entry>(*q, i);
    e->buffer.reset(static_cast<std::byte*>(std::aligned_alloc(page, bytes)));
    if (!e->buffer) return Fail(ENOMEM);
    e->payload = e->buffer.get() + prefix;
    e->iov[0] = {&e->header, sizeof(e->header)};
    e->iov[1] = {e->payload, payload_size};
    q->entries_.push_back(std::move(e));
  }
  return q;
}

void UringQueue::PrepareCommand(Entry& e, uint32_t cmd) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    // Cannot happen with one command per entry; flush and retry anyway.
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      LogError("io_uring queue {}: no free SQE; entry {} is lost", qid_, e.index);
      e.state = Entry::State::kDead;
      return;
    }
  }
  // liburing 2.3 has no helper for IORING_OP_URING_CMD: fill the 128-byte
  // SQE by hand. The command area starts where addr3 is (byte 48).
  auto* raw = reinterpret_cast<std::byte*>(sqe);
  std::memset(raw, 0, 128);
  sqe->opcode = IORING_OP_URING_CMD;
  sqe->flags = IOSQE_FIXED_FILE;
  sqe->fd = 0;  // index of the device in the registered files
  sqe->cmd_op = cmd;
  sqe->user_data = e.index;
  if (cmd == abi::FUSE_IO_URING_CMD_REGISTER) {
    sqe->addr = reinterpret_cast<uintptr_t>(e.iov);
    sqe->len = 2;
  }
  abi::fuse_uring_cmd_req req{};
  req.qid = static_cast<uint16_t>(qid_);
  req.commit_id = cmd == abi::FUSE_IO_URING_CMD_COMMIT_AND_FETCH ? e.commit_id : 0;
  std::memcpy(raw + offsetof(io_uring_sqe, addr3), &req, sizeof(req));
  e.last_cmd = cmd;
  e.state = Entry::State::kKernel;
}

void UringQueue::ArmWake() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  if (sqe == nullptr) return;  // replies from other threads wait for the next request
  io_uring_prep_read(sqe, wake_fd_.get(), &wake_value_, sizeof(wake_value_), 0);
  io_uring_sqe_set_data64(sqe, kWakeTag);
}

void UringQueue::Wake() {
  uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof(one));
}

Status UringQueue::Serve(const Handler& handle, const std::atomic<bool>& stop) {
  owner_ = std::this_thread::get_id();
  for (auto& e : entries_) PrepareCommand(*e, abi::FUSE_IO_URING_CMD_REGISTER);
  ArmWake();
  size_t live = entries_.size();
  size_t refused = 0;
  int refusal = 0;
  bool disconnected = false;
  Status result = Ok();
  while (!stop.load(std::memory_order_relaxed)) {
    int r = io_uring_submit_and_wait(&ring_, 1);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
      LogError("io_uring queue {}: io_uring_enter failed: {}", qid_, std::strerror(-r));
      result = Fail(-r);
      break;
    }
    io_uring_cqe* cqe;
    while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
      uint64_t tag = cqe->user_data;
      int res = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);
      if (tag == kWakeTag) {
        std::vector<Entry*> ready;
        {
          std::lock_guard lock(mutex_);
          ready.swap(to_commit_);
        }
        for (Entry* e : ready) PrepareCommand(*e, abi::FUSE_IO_URING_CMD_COMMIT_AND_FETCH);
        ArmWake();
        continue;
      }
      if (tag >= entries_.size()) continue;
      Entry& e = *entries_[tag];
      if (res == 0) {
        Dispatch(e, handle);
        continue;
      }
      // EAGAIN: REGISTER before the kernel saw the INIT reply.
      if (res == -EINTR || res == -EAGAIN) {
        PrepareCommand(e, e.last_cmd);
        continue;
      }
      if (res == -ENOTCONN || res == -ECONNABORTED || res == -ECANCELED) {
        disconnected = true;  // unmounted or aborted
      } else {
        LogError("io_uring queue {}: {} failed: {}", qid_, CommandName(e.last_cmd),
                 std::strerror(-res));
        if (e.last_cmd == abi::FUSE_IO_URING_CMD_REGISTER) {
          ++refused;
          refusal = -res;
        }
      }
      e.state = Entry::State::kDead;
      --live;
    }
    if (live == 0) break;
    // Gone: entries still waiting for an asynchronous reply are abandoned
    // (their reply is dropped) rather than waited for.
    if (disconnected) {
      bool in_kernel = false;
      for (auto& e : entries_) in_kernel |= e->state == Entry::State::kKernel;
      if (!in_kernel) break;
    }
  }
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    to_commit_.clear();
  }
  // Closing the ring cancels the commands still in the kernel, which drops
  // their references to the device so that closing it ends the connection.
  io_uring_queue_exit(&ring_);
  ring_ready_ = false;
  if (refused == entries_.size()) return Fail(refusal);
  return result;
}

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
