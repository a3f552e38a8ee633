#include "fusekit/transport/uring.h"

#include <sys/eventfd.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/log.h"
#include "fusekit/transport/uring_entry.h"

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

void UringQueue::CountIn(const std::shared_ptr<Stats>& stats) {
  for (auto& e : entries_) e->sink.CountIn(stats);
}

}  // namespace fusekit::transport
