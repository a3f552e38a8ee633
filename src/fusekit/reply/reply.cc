#include "fusekit/reply.h"

#include <unistd.h>

#include <cerrno>
#include <exception>
#include <vector>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/log.h"
#include "fusekit/proto/encode.h"

namespace fusekit {

ReplyBase& ReplyBase::operator=(ReplyBase&& other) noexcept {
  if (this != &other) {
    DropUnsent();
    sink_ = std::move(other.sink_);
    unique_ = other.unique_;
    opcode_ = other.opcode_;
    start_ns_ = other.start_ns_;
  }
  return *this;
}

ReplyBase::~ReplyBase() { DropUnsent(); }

void ReplyBase::DropUnsent() {
  if (!sink_) return;
  LogError("{} (unique {}) was dropped without a reply; answering EIO", OpcodeName(opcode_),
           unique_.value);
  Error(EIO);
}

void ReplyBase::Error(int error) {
  if (!sink_) {
    LogError("{} (unique {}) answered twice", OpcodeName(opcode_), unique_.value);
    return;
  }
  // The kernel refuses a reply whose errno is not in 1..511 (the write
  // fails with EINVAL) and the request would then never be answered.
  if (error <= 0 || error >= 512) error = EIO;
  std::shared_ptr<ReplySink> sink = std::move(sink_);
  sink->Send(unique_, opcode_, error, {});
  Counted(*sink, error);
}

namespace {

// Forwards to the sink it wraps, after telling its hook. SendFile is not
// forwarded: the base reads the file and calls Send, which tells the hook
// the errno the caller gets.
class HookedSink : public ReplySink {
 public:
  HookedSink(std::shared_ptr<ReplySink> inner, std::function<void(int)> hook)
      : inner_(std::move(inner)), hook_(std::move(hook)) {
    CountIn(inner_->shared_stats());
  }
  void Send(RequestId unique, Opcode opcode, int error, std::span<const iovec> payload) override {
    // The answer goes out whatever the hook does: the reply counts as sent.
    try {
      hook_(error);
    } catch (const std::exception& e) {
      LogError("{} (unique {}): the hook before the answer threw: {}", OpcodeName(opcode),
               unique.value, e.what());
    } catch (...) {
      LogError("{} (unique {}): the hook before the answer threw", OpcodeName(opcode),
               unique.value);
    }
    inner_->Send(unique, opcode, error, payload);
  }

 private:
  std::shared_ptr<ReplySink> inner_;
  std::function<void(int)> hook_;
};

}  // namespace

void ReplyBase::BeforeSend(std::function<void(int error)> hook) {
  if (!sink_) return;
  sink_ = std::make_shared<HookedSink>(std::move(sink_), std::move(hook));
}

void ReplyBase::Counted(const ReplySink& sink, int error) const {
  if (start_ns_ != 0 && sink.stats() != nullptr)
    sink.stats()->AddReply(opcode_, error, Stats::Now() - start_ns_);
}

void ReplyBase::SendPayload(std::span<const iovec> payload) {
  if (!sink_) {
    LogError("{} (unique {}) answered twice", OpcodeName(opcode_), unique_.value);
    return;
  }
  std::shared_ptr<ReplySink> sink = std::move(sink_);
  sink->Send(unique_, opcode_, 0, payload);
  Counted(*sink, 0);
}

void ReplyBase::SendStruct(const void* data, size_t size) {
  iovec iov{const_cast<void*>(data), size};
  SendPayload({&iov, 1});
}

void ReplyEmpty::Ok() { SendPayload({}); }

void ReplyEntry::Ok(const Entry& entry) {
  auto out = proto::EncodeEntry(entry);
  SendStruct(&out, sizeof(out));
}

void ReplyEntry::Negative(Timeout timeout) {
  Entry e;
  e.entry_timeout = timeout;
  Ok(e);
}

void ReplyAttr::Ok(const Attr& attr, Timeout timeout) {
  auto out = proto::EncodeAttrOut(attr, timeout);
  SendStruct(&out, sizeof(out));
}

void ReplyOpen::Ok(FileHandle fh, const OpenOptions& options) {
  auto out = proto::EncodeOpen(fh, options, std::nullopt);
  SendStruct(&out, sizeof(out));
}

void ReplyOpen::Passthrough(FileHandle fh, BackingId backing, const OpenOptions& options) {
  auto out = proto::EncodeOpen(fh, options, backing);
  SendStruct(&out, sizeof(out));
}

namespace {
struct CreateOut {
  abi::fuse_entry_out entry;
  abi::fuse_open_out open;
};
static_assert(sizeof(CreateOut) == sizeof(abi::fuse_entry_out) + sizeof(abi::fuse_open_out));
}  // namespace

void ReplyCreate::Ok(const Entry& entry, FileHandle fh, const OpenOptions& options) {
  CreateOut out{proto::EncodeEntry(entry), proto::EncodeOpen(fh, options, std::nullopt)};
  SendStruct(&out, sizeof(out));
}

void ReplyCreate::Passthrough(const Entry& entry, FileHandle fh, BackingId backing,
                              const OpenOptions& options) {
  CreateOut out{proto::EncodeEntry(entry), proto::EncodeOpen(fh, options, backing)};
  SendStruct(&out, sizeof(out));
}

void ReplyData::Ok(std::span<const std::byte> data) { SendStruct(data.data(), data.size()); }
void ReplyData::Ok(std::string_view data) { SendStruct(data.data(), data.size()); }
void ReplyData::Ok(std::span<const iovec> pieces) { SendPayload(pieces); }

int ReplySink::SendFile(RequestId unique, Opcode opcode, int fd, uint64_t offset, size_t size) {
  std::vector<std::byte> buffer(size);
  ssize_t n = ::pread(fd, buffer.data(), size, static_cast<off_t>(offset));
  if (n < 0) return errno;
  iovec iov{buffer.data(), static_cast<size_t>(n)};
  Send(unique, opcode, 0, {&iov, 1});
  return 0;
}

void ReplyData::FromFile(int fd, uint64_t offset, size_t size) {
  if (sent()) {
    LogError("{} (unique {}) answered twice", OpcodeName(opcode()), unique().value);
    return;
  }
  std::shared_ptr<ReplySink> sink = TakeSink();
  int error = sink->SendFile(unique(), opcode(), fd, offset, size);
  if (error != 0) sink->Send(unique(), opcode(), error, {});
  Counted(*sink, error);
}

void ReplyWrite::Ok(uint32_t written) {
  abi::fuse_write_out out{written, 0};
  SendStruct(&out, sizeof(out));
}

void ReplyCopy::Ok(uint64_t copied) {
  if (opcode() == Opcode::COPY_FILE_RANGE_64) {
    abi::fuse_copy_file_range_out out{copied};
    SendStruct(&out, sizeof(out));
    return;
  }
  // The 32-bit reply cannot say more; the kernel asks again for the rest.
  abi::fuse_write_out out{static_cast<uint32_t>(copied > UINT32_MAX ? UINT32_MAX : copied), 0};
  SendStruct(&out, sizeof(out));
}

void ReplyStatfs::Ok(const struct statvfs& st) {
  auto out = proto::EncodeStatfs(st);
  SendStruct(&out, sizeof(out));
}

void ReplyXattr::Size(uint32_t size) {
  abi::fuse_getxattr_out out{size, 0};
  SendStruct(&out, sizeof(out));
}

void ReplyXattr::Data(std::span<const std::byte> data) {
  if (data.size() > max_size_) return Error(ERANGE);
  SendStruct(data.data(), data.size());
}

void ReplyLock::Ok(const FileLock& lock) {
  auto out = proto::EncodeLock(lock);
  SendStruct(&out, sizeof(out));
}

void ReplyBmap::Ok(uint64_t block) {
  abi::fuse_bmap_out out{block};
  SendStruct(&out, sizeof(out));
}

void ReplyIoctl::Ok(int32_t result, std::span<const std::byte> data) {
  abi::fuse_ioctl_out out{result, 0, 0, 0};
  iovec iov[2] = {{&out, sizeof(out)}, {const_cast<std::byte*>(data.data()), data.size()}};
  SendPayload({iov, data.empty() ? 1u : 2u});
}

void ReplyPoll::Ok(uint32_t revents) {
  abi::fuse_poll_out out{revents, 0};
  SendStruct(&out, sizeof(out));
}

void ReplyLseek::Ok(uint64_t offset) {
  abi::fuse_lseek_out out{offset};
  SendStruct(&out, sizeof(out));
}

void ReplyStatx::Ok(const StatxAttr& attr, Timeout timeout) {
  auto out = proto::EncodeStatx(attr, timeout);
  SendStruct(&out, sizeof(out));
}

struct ReplyDir::Buffer : proto::DirentBuffer {
  using DirentBuffer::DirentBuffer;
};
ReplyDir::ReplyDir(ReplyBase b, size_t max_size)
    : ReplyBase(std::move(b)), buffer_(std::make_unique<Buffer>(max_size)) {}
ReplyDir::~ReplyDir() = default;
ReplyDir::ReplyDir(ReplyDir&&) noexcept = default;
ReplyDir& ReplyDir::operator=(ReplyDir&&) noexcept = default;
bool ReplyDir::Add(std::string_view name, uint64_t ino, uint32_t type, uint64_t next_offset) {
  return buffer_->Add(name, ino, type, next_offset);
}
void ReplyDir::Ok() {
  auto bytes = buffer_->bytes();
  SendStruct(bytes.data(), bytes.size());
}

struct ReplyDirPlus::Buffer : proto::DirentBuffer {
  using DirentBuffer::DirentBuffer;
};
ReplyDirPlus::ReplyDirPlus(ReplyBase b, size_t max_size)
    : ReplyBase(std::move(b)), buffer_(std::make_unique<Buffer>(max_size)) {}
ReplyDirPlus::~ReplyDirPlus() = default;
ReplyDirPlus::ReplyDirPlus(ReplyDirPlus&&) noexcept = default;
ReplyDirPlus& ReplyDirPlus::operator=(ReplyDirPlus&&) noexcept = default;
bool ReplyDirPlus::Add(std::string_view name, const Entry& entry, uint64_t next_offset) {
  return buffer_->AddPlus(name, entry, next_offset);
}
void ReplyDirPlus::Ok() {
  auto bytes = buffer_->bytes();
  SendStruct(bytes.data(), bytes.size());
}

}  // namespace fusekit
