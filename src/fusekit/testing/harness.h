// A Dispatcher after a synthetic INIT, behind a recording sink, with small
// synchronous Operations: what the fuzzer and the corpus replay test drive.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/operations.h"
#include "fusekit/proto/decode.h"
#include "fusekit/session.h"
#include "fusekit/session/dispatcher.h"
#include "fusekit/session/shared.h"
#include "fusekit/testing/wire.h"

namespace fusekit::testutil {

// Reads every byte, so that a span pointing outside its buffer shows under
// ASan even when nothing else looks at the data.
inline void TouchEveryByte(std::span<const std::byte> data) {
  volatile uint8_t sum = 0;
  for (std::byte b : data) sum = sum + static_cast<uint8_t>(b);
}

// Answers at once, touching the request's data, so that the reply paths
// run too. A LOOKUP of "throw" throws, for the dispatcher's EIO path.
class TrivialOperations : public Operations {
 public:
  static Entry SomeEntry() {
    Entry e;
    e.node = NodeId(2);
    e.attr.ino = 2;
    e.attr.mode = S_IFREG | 0644;
    e.attr.nlink = 1;
    return e;
  }

  void Lookup(const Context&, const req::Lookup& r, ReplyEntry reply) override {
    if (r.name == "throw") throw std::runtime_error("asked to throw");
    if (r.name.empty()) return reply.Negative(std::chrono::seconds(1));
    reply.Ok(SomeEntry());
  }
  void GetAttr(const Context&, const req::GetAttr&, ReplyAttr reply) override {
    reply.Ok(SomeEntry().attr, std::chrono::seconds(1));
  }
  void SetAttr(const Context&, const req::SetAttr& r, ReplyAttr reply) override {
    Attr a = SomeEntry().attr;
    a.size = r.size.value_or(a.size);
    reply.Ok(a, std::chrono::seconds(1));
  }
  void ReadLink(const Context&, const req::ReadLink&, ReplyData reply) override {
    reply.Ok(std::string_view("target"));
  }
  void MkDir(const Context&, const req::MkDir&, ReplyEntry reply) override {
    reply.Ok(SomeEntry());
  }
  void Open(const Context&, const req::Open& r, ReplyOpen reply) override {
    if (r.flags & O_DIRECT) return reply.Passthrough(FileHandle(1), BackingId(1));
    reply.Ok(FileHandle(1));
  }
  void Read(const Context&, const req::Read& r, ReplyData reply) override {
    static const std::byte kZeros[4096] = {};
    reply.Ok(std::span(kZeros, std::min<size_t>(r.size, sizeof(kZeros))));
  }
  void Write(const Context&, const req::Write& r, ReplyWrite reply) override {
    TouchEveryByte(r.data);
    reply.Ok(static_cast<uint32_t>(r.data.size()));
  }
  void StatFs(const Context&, const req::StatFs&, ReplyStatfs reply) override {
    struct statvfs st {};
    st.f_bsize = 4096;
    reply.Ok(st);
  }
  void SetXattr(const Context&, const req::SetXattr& r, ReplyEmpty reply) override {
    TouchEveryByte(r.value);
    reply.Ok();
  }
  void GetXattr(const Context&, const req::GetXattr& r, ReplyXattr reply) override {
    constexpr std::string_view kValue = "value";
    if (r.size == 0) return reply.Size(static_cast<uint32_t>(kValue.size()));
    if (r.size < kValue.size()) return reply.Error(ERANGE);
    reply.Data(AsBytes(kValue));
  }
  void OpenDir(const Context&, const req::OpenDir&, ReplyOpen reply) override {
    reply.Ok(FileHandle(2));
  }
  void ReadDir(const Context&, const req::ReadDir& r, ReplyDir reply) override {
    // Offsets are cookies from the request: unsigned arithmetic wraps.
    for (uint64_t i = 0; i < 64 && reply.Add("entry", 10 + i, S_IFREG, r.offset + i + 1); ++i) {
    }
    reply.Ok();
  }
  void ReadDirPlus(const Context&, const req::ReadDirPlus& r, ReplyDirPlus reply) override {
    for (uint64_t i = 0; i < 64 && reply.Add("entry", SomeEntry(), r.offset + i + 1); ++i) {
    }
    reply.Ok();
  }
  void Create(const Context&, const req::Create&, ReplyCreate reply) override {
    reply.Ok(SomeEntry(), FileHandle(3));
  }
  void Ioctl(const Context&, const req::Ioctl& r, ReplyIoctl reply) override {
    reply.Ok(0, r.in_data.first(std::min<size_t>(r.in_data.size(), r.out_size)));
  }
  void Lseek(const Context&, const req::Lseek& r, ReplyLseek reply) override { reply.Ok(r.offset); }
  void CopyFileRange(const Context&, const req::CopyFileRange& r, ReplyCopy reply) override {
    reply.Ok(r.length);
  }
  void TmpFile(const Context&, const req::TmpFile&, ReplyCreate reply) override {
    reply.Ok(SomeEntry(), FileHandle(4));
  }
  void Statx(const Context&, const req::Statx&, ReplyStatx reply) override {
    reply.Ok(StatxAttr{}, std::chrono::seconds(1));
  }
};

// The replies the dispatcher owes for `bytes`: one for every request the
// kernel waits on, none for the others (FORGET, BATCH_FORGET, INTERRUPT,
// NOTIFY_REPLY, and what has no usable header or unique).
inline size_t ExpectedReplies(std::span<const std::byte> bytes,
                              const proto::DecodeOptions& options) {
  auto never_answered = [](Opcode op) {
    return !HasReply(op) || op == Opcode::INTERRUPT || op == Opcode::NOTIFY_REPLY;
  };
  auto decoded = proto::Decode(bytes, options);
  if (decoded.ok()) return never_answered(decoded.request().header.opcode) ? 0 : 1;
  const proto::DecodeError& error = decoded.error();
  if (error.reply_errno() == 0 || error.header.unique.value == 0) return 0;
  return never_answered(error.header.opcode) ? 0 : 1;
}

// The NOTIFY_REPLY unique that has a retrieve callback waiting.
inline constexpr uint64_t kRetrieveUnique = 41;

// Thread-safety: none; one harness per thread.
class DispatchHarness {
 public:
  // `setxattr_ext`: whether INIT grants FUSE_SETXATTR_EXT, which changes
  // how SETXATTR is laid out.
  explicit DispatchHarness(bool setxattr_ext) : dispatcher_(ops_, shared_, stats_) {
    abi::fuse_init_in in{};
    in.major = abi::kKernelVersion;
    in.minor = abi::kKernelMinorVersion;
    in.max_readahead = 1 << 17;
    uint64_t offered = abi::FUSE_INIT_EXT | abi::FUSE_ASYNC_READ | abi::FUSE_MAX_PAGES |
                       abi::FUSE_PASSTHROUGH | abi::FUSE_SETXATTR_EXT;
    in.flags = static_cast<uint32_t>(offered);
    in.flags2 = static_cast<uint32_t>(offered >> 32);
    Config config;
    config.want = cap::kAsyncRead | cap::kMaxPages | cap::kPassthrough |
                  (setxattr_ext ? cap::kSetxattrExt : 0);
    auto bytes = RequestBuilder(abi::FUSE_INIT, 1, 0).Struct(in).Build();
    init_status_ = dispatcher_.HandleInit(bytes, *sink_, config);
    sink_->clear();
  }

  bool initialized() const { return init_status_.has_value(); }
  const proto::DecodeOptions& decode_options() const { return shared_.decode; }

  // Handles one request; true when it got the replies it is owed, each to
  // its own unique and opcode.
  bool Handle(std::span<const std::byte> bytes) {
    sink_->clear();
    {
      std::lock_guard lock(shared_.retrieve_mutex);
      shared_.retrieves[kRetrieveUnique] = [](uint64_t, std::span<const std::byte> data) {
        TouchEveryByte(data);
      };
    }
    dispatcher_.Handle(bytes, sink_);
    auto replies = sink_->replies();
    if (replies.size() != ExpectedReplies(bytes, shared_.decode)) return false;
    if (replies.empty()) return true;
    abi::fuse_in_header header;
    std::memcpy(&header, bytes.data(), sizeof(header));
    return replies[0].unique.value == header.unique &&
           static_cast<uint32_t>(replies[0].opcode) == header.opcode;
  }

  size_t last_reply_count() const { return sink_->count(); }

 private:
  TrivialOperations ops_;
  SessionShared shared_;
  Stats stats_;
  Dispatcher dispatcher_;
  std::shared_ptr<RecordingSink> sink_ = std::make_shared<RecordingSink>();
  Status init_status_;
};

}  // namespace fusekit::testutil
