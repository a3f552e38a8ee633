// Reply objects: each request is answered exactly once through one of them.
//
// A reply is move-only and may be completed later from any thread. One that
// is destroyed unsent answers EIO and logs, so a forgotten code path cannot
// hang the caller in the kernel forever.
#pragma once

#include <sys/statvfs.h>
#include <sys/uio.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "fusekit/opcodes.h"
#include "fusekit/result.h"
#include "fusekit/stats.h"
#include "fusekit/types.h"

namespace fusekit {

// Where replies go: implemented by the session (one per worker channel) and
// by test fakes. Thread-safety: Send may be called from any thread.
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // Sends the reply to request `unique`: error is a positive errno or 0,
  // payload the reply body (empty for errors).
  virtual void Send(RequestId unique, Opcode opcode, int error,
                    std::span<const iovec> payload) = 0;
  // Sends a successful reply whose body is up to `size` bytes of `fd` from
  // `offset` (fewer at its end). Returns the errno of a failed read, 0 once
  // sent. This default reads into memory and calls Send; the /dev/fuse
  // transport splices instead, so large replies are never copied through
  // the daemon.
  virtual int SendFile(RequestId unique, Opcode opcode, int fd, uint64_t offset, size_t size);

  // The statistics that replies sent through this sink are counted in:
  // set once, before the sink carries replies. Held here, not by the
  // reply, so that a reply sent after its session ended still finds them.
  void CountIn(std::shared_ptr<Stats> stats) { stats_ = std::move(stats); }
  Stats* stats() const { return stats_.get(); }
  const std::shared_ptr<Stats>& shared_stats() const { return stats_; }

 private:
  std::shared_ptr<Stats> stats_;
};

class [[nodiscard]] ReplyBase {
 public:
  // `start_ns` (Stats::Now()) is when the request reached the dispatcher;
  // with it, the reply's latency is counted in the sink's statistics.
  ReplyBase(std::shared_ptr<ReplySink> sink, RequestId unique, Opcode opcode, uint64_t start_ns = 0)
      : sink_(std::move(sink)), unique_(unique), opcode_(opcode), start_ns_(start_ns) {}
  ReplyBase(ReplyBase&& other) noexcept = default;
  ReplyBase& operator=(ReplyBase&& other) noexcept;
  ReplyBase(const ReplyBase&) = delete;
  ReplyBase& operator=(const ReplyBase&) = delete;
  ~ReplyBase();

  // Answers with a positive errno (ENOENT, ...).
  void Error(int error);
  void Error(Errno error) { Error(error.value()); }

  RequestId unique() const { return unique_; }
  Opcode opcode() const { return opcode_; }
  bool sent() const { return sink_ == nullptr; }

  // Calls `hook` with the answer's errno (0: success) just before the
  // answer is sent, on the thread that sends it: a layer above the
  // filesystem (an audit trail) sees every answer, errors included, before
  // the caller does. Hooks added later run first. Costs one allocation;
  // a hooked READ reply is copied, not spliced.
  void BeforeSend(std::function<void(int error)> hook);

 protected:
  void SendPayload(std::span<const iovec> payload);
  void SendStruct(const void* data, size_t size);
  // Marks the reply sent and hands over the sink, for replies that talk to
  // the sink themselves.
  std::shared_ptr<ReplySink> TakeSink() { return std::move(sink_); }
  // Counts the reply just sent through `sink` with `error` (0: success).
  void Counted(const ReplySink& sink, int error) const;

 private:
  void DropUnsent();

  std::shared_ptr<ReplySink> sink_;  // null once sent
  RequestId unique_;
  Opcode opcode_;
  uint64_t start_ns_;  // 0: not timed
};

// Operations whose success carries no data.
class ReplyEmpty : public ReplyBase {
 public:
  using ReplyBase::ReplyBase;
  explicit ReplyEmpty(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok();
};

// LOOKUP, MKNOD, MKDIR, SYMLINK, LINK. Each successful answer other than
// Negative counts as one lookup of entry.node that a FORGET will return.
class ReplyEntry : public ReplyBase {
 public:
  explicit ReplyEntry(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(const Entry& entry);
  // A cacheable "no such name" (LOOKUP only): node id 0 with a timeout.
  void Negative(Timeout timeout);
};

// GETATTR, SETATTR.
class ReplyAttr : public ReplyBase {
 public:
  explicit ReplyAttr(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(const Attr& attr, Timeout timeout);
};

// OPEN, OPENDIR.
class ReplyOpen : public ReplyBase {
 public:
  explicit ReplyOpen(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(FileHandle fh, const OpenOptions& options = {});
  // Kernel passthrough: read, write, splice and mmap of this open file go
  // to the backing file registered as `backing` (see BackingFile).
  // keep_cache, nonseekable and stream are dropped: the kernel refuses them
  // with a backing file.
  void Passthrough(FileHandle fh, BackingId backing, const OpenOptions& options = {});
};

// CREATE and TMPFILE: an entry and an open file in one answer.
class ReplyCreate : public ReplyBase {
 public:
  explicit ReplyCreate(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(const Entry& entry, FileHandle fh, const OpenOptions& options = {});
  void Passthrough(const Entry& entry, FileHandle fh, BackingId backing,
                   const OpenOptions& options = {});
};

// READ, READLINK, and any reply that is raw bytes.
class ReplyData : public ReplyBase {
 public:
  explicit ReplyData(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(std::span<const std::byte> data);
  void Ok(std::string_view data);
  // Scatter-gather: the pieces are sent as one reply.
  void Ok(std::span<const iovec> pieces);
  // Up to `size` bytes of `fd` (borrowed) from `offset`: spliced into the
  // reply without a copy through the daemon where the transport can.
  // Answers the read's errno if reading `fd` fails.
  void FromFile(int fd, uint64_t offset, size_t size);
};

// WRITE.
class ReplyWrite : public ReplyBase {
 public:
  explicit ReplyWrite(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(uint32_t written);
};

// COPY_FILE_RANGE and COPY_FILE_RANGE_64; the width on the wire follows the
// opcode.
class ReplyCopy : public ReplyBase {
 public:
  explicit ReplyCopy(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(uint64_t copied);
};

class ReplyStatfs : public ReplyBase {
 public:
  explicit ReplyStatfs(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(const struct statvfs& st);
};

// GETXATTR and LISTXATTR: Size answers a size probe (request size 0); Data
// answers with the value, and answers ERANGE instead when it is larger than
// the size the request allows.
class ReplyXattr : public ReplyBase {
 public:
  explicit ReplyXattr(ReplyBase b, uint32_t max_size = UINT32_MAX)
      : ReplyBase(std::move(b)), max_size_(max_size) {}
  void Size(uint32_t size);
  void Data(std::span<const std::byte> data);

 private:
  uint32_t max_size_;
};

class ReplyLock : public ReplyBase {
 public:
  explicit ReplyLock(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(const FileLock& lock);
};

class ReplyBmap : public ReplyBase {
 public:
  explicit ReplyBmap(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(uint64_t block);
};

class ReplyIoctl : public ReplyBase {
 public:
  explicit ReplyIoctl(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(int32_t result, std::span<const std::byte> out = {});
};

class ReplyPoll : public ReplyBase {
 public:
  explicit ReplyPoll(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(uint32_t revents);
};

class ReplyLseek : public ReplyBase {
 public:
  explicit ReplyLseek(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(uint64_t offset);
};

class ReplyStatx : public ReplyBase {
 public:
  explicit ReplyStatx(ReplyBase b) : ReplyBase(std::move(b)) {}
  void Ok(const StatxAttr& attr, Timeout timeout);
};

// READDIR: add entries until Add returns false, then Ok(). Offsets are the
// filesystem's own cookies: the kernel passes the last one back to continue.
class ReplyDir : public ReplyBase {
 public:
  ReplyDir(ReplyBase b, size_t max_size);
  ~ReplyDir();
  ReplyDir(ReplyDir&&) noexcept;
  ReplyDir& operator=(ReplyDir&&) noexcept;
  // `type` is st_mode's file type bits (S_IFREG, ...) or 0 when unknown.
  bool Add(std::string_view name, uint64_t ino, uint32_t type, uint64_t next_offset);
  void Ok();

 private:
  struct Buffer;
  std::unique_ptr<Buffer> buffer_;
};

// READDIRPLUS: like ReplyDir, each entry with its lookup answer. Every
// added entry whose node is not 0 counts as one lookup (unless it is "."
// or ".."), exactly like ReplyEntry::Ok.
class ReplyDirPlus : public ReplyBase {
 public:
  ReplyDirPlus(ReplyBase b, size_t max_size);
  ~ReplyDirPlus();
  ReplyDirPlus(ReplyDirPlus&&) noexcept;
  ReplyDirPlus& operator=(ReplyDirPlus&&) noexcept;
  bool Add(std::string_view name, const Entry& entry, uint64_t next_offset);
  void Ok();

 private:
  struct Buffer;
  std::unique_ptr<Buffer> buffer_;
};

}  // namespace fusekit
