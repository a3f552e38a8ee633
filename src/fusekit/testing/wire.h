// Test helpers shared by the unit tests, the corpus replay test, the corpus
// generator and the fuzzer: requests laid out by hand the way the kernel
// writes them (never through our own encoder, so that a bug shared by both
// directions cannot hide), and a ReplySink that records what it is given.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/reply.h"

namespace fusekit::testutil {

template <typename T>
void AppendStruct(std::vector<std::byte>& out, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto* p = reinterpret_cast<const std::byte*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

// Raw bytes, no NUL added.
inline void AppendBytes(std::vector<std::byte>& out, std::string_view raw) {
  const auto* p = reinterpret_cast<const std::byte*>(raw.data());
  out.insert(out.end(), p, p + raw.size());
}

inline std::span<const std::byte> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// A request as the kernel writes it to /dev/fuse: fuse_in_header, the
// arguments in order, then the extensions; len and total_extlen are computed
// by Build().
class RequestBuilder {
 public:
  RequestBuilder(uint32_t opcode, uint64_t unique, uint64_t node = abi::kRootId) {
    header_.opcode = opcode;
    header_.unique = unique;
    header_.nodeid = node;
    header_.uid = 1000;
    header_.gid = 100;
    header_.pid = 4242;
  }

  template <typename T>
  RequestBuilder& Struct(const T& value) {
    AppendStruct(body_, value);
    return *this;
  }
  // A name with its terminating NUL, as the kernel sends names.
  RequestBuilder& Name(std::string_view name) {
    AppendBytes(body_, name);
    body_.push_back(std::byte{0});
    return *this;
  }
  RequestBuilder& Bytes(std::string_view raw) {
    AppendBytes(body_, raw);
    return *this;
  }
  RequestBuilder& Bytes(std::span<const std::byte> raw) {
    body_.insert(body_.end(), raw.begin(), raw.end());
    return *this;
  }
  // Request extensions come last and are counted in 8-byte units; `raw`
  // must be a multiple of 8 bytes long.
  RequestBuilder& Extensions(std::span<const std::byte> raw) {
    extensions_.insert(extensions_.end(), raw.begin(), raw.end());
    return *this;
  }
  RequestBuilder& Caller(uint32_t uid, uint32_t gid, uint32_t pid) {
    header_.uid = uid;
    header_.gid = gid;
    header_.pid = pid;
    return *this;
  }

  std::vector<std::byte> Build() const {
    abi::fuse_in_header h = header_;
    h.len = static_cast<uint32_t>(sizeof(h) + body_.size() + extensions_.size());
    h.total_extlen = static_cast<uint16_t>(extensions_.size() / 8);
    std::vector<std::byte> out;
    AppendStruct(out, h);
    out.insert(out.end(), body_.begin(), body_.end());
    out.insert(out.end(), extensions_.begin(), extensions_.end());
    return out;
  }

 private:
  abi::fuse_in_header header_{};
  std::vector<std::byte> body_;
  std::vector<std::byte> extensions_;
};

// Rewrite one header field of a built request, for malformed variants.
inline void PatchLen(std::vector<std::byte>& bytes, uint32_t len) {
  std::memcpy(bytes.data() + offsetof(abi::fuse_in_header, len), &len, sizeof(len));
}
inline void PatchExtlen(std::vector<std::byte>& bytes, uint16_t total_extlen) {
  std::memcpy(bytes.data() + offsetof(abi::fuse_in_header, total_extlen), &total_extlen,
              sizeof(total_extlen));
}

// How the kernel lays out each opcode's body: a fixed struct (zeroed in the
// minimal request), then NUL-terminated names.
struct OpcodeLayout {
  uint32_t opcode;
  size_t struct_size;           // 0: no fixed struct
  std::string_view names;       // each with its NUL
  size_t required_struct_size;  // the fewest struct bytes the decoder must accept
};

constexpr OpcodeLayout Layout(uint32_t opcode, size_t struct_size, std::string_view names = {}) {
  return {opcode, struct_size, names, struct_size};
}

inline constexpr std::string_view kOneName("a\0", 2);
inline constexpr std::string_view kTwoNames("a\0b\0", 4);

// One entry per opcode in FUSEKIT_FOR_EACH_OPCODE (decode_test checks that).
inline constexpr OpcodeLayout kOpcodeLayouts[] = {
    Layout(abi::FUSE_LOOKUP, 0, kOneName),
    Layout(abi::FUSE_FORGET, sizeof(abi::fuse_forget_in)),
    Layout(abi::FUSE_GETATTR, sizeof(abi::fuse_getattr_in)),
    Layout(abi::FUSE_SETATTR, sizeof(abi::fuse_setattr_in)),
    Layout(abi::FUSE_READLINK, 0),
    Layout(abi::FUSE_SYMLINK, 0, kTwoNames),
    Layout(abi::FUSE_MKNOD, sizeof(abi::fuse_mknod_in), kOneName),
    Layout(abi::FUSE_MKDIR, sizeof(abi::fuse_mkdir_in), kOneName),
    Layout(abi::FUSE_UNLINK, 0, kOneName),
    Layout(abi::FUSE_RMDIR, 0, kOneName),
    Layout(abi::FUSE_RENAME, sizeof(abi::fuse_rename_in), kTwoNames),
    Layout(abi::FUSE_LINK, sizeof(abi::fuse_link_in), kOneName),
    Layout(abi::FUSE_OPEN, sizeof(abi::fuse_open_in)),
    Layout(abi::FUSE_READ, sizeof(abi::fuse_read_in)),
    Layout(abi::FUSE_WRITE, sizeof(abi::fuse_write_in)),
    Layout(abi::FUSE_STATFS, 0),
    Layout(abi::FUSE_RELEASE, sizeof(abi::fuse_release_in)),
    Layout(abi::FUSE_FSYNC, sizeof(abi::fuse_fsync_in)),
    // Without FUSE_SETXATTR_EXT (the decoder's default) the struct is the
    // 8-byte compat prefix.
    Layout(abi::FUSE_SETXATTR, abi::FUSE_COMPAT_SETXATTR_IN_SIZE, kOneName),
    Layout(abi::FUSE_GETXATTR, sizeof(abi::fuse_getxattr_in), kOneName),
    Layout(abi::FUSE_LISTXATTR, sizeof(abi::fuse_getxattr_in)),
    Layout(abi::FUSE_REMOVEXATTR, 0, kOneName),
    Layout(abi::FUSE_FLUSH, sizeof(abi::fuse_flush_in)),
    // A pre-7.36 kernel sends only major, minor, max_readahead and flags;
    // the decoder must read it to refuse it.
    {abi::FUSE_INIT, sizeof(abi::fuse_init_in), {}, 16},
    Layout(abi::FUSE_OPENDIR, sizeof(abi::fuse_open_in)),
    Layout(abi::FUSE_READDIR, sizeof(abi::fuse_read_in)),
    Layout(abi::FUSE_RELEASEDIR, sizeof(abi::fuse_release_in)),
    Layout(abi::FUSE_FSYNCDIR, sizeof(abi::fuse_fsync_in)),
    Layout(abi::FUSE_GETLK, sizeof(abi::fuse_lk_in)),
    Layout(abi::FUSE_SETLK, sizeof(abi::fuse_lk_in)),
    Layout(abi::FUSE_SETLKW, sizeof(abi::fuse_lk_in)),
    Layout(abi::FUSE_ACCESS, sizeof(abi::fuse_access_in)),
    Layout(abi::FUSE_CREATE, sizeof(abi::fuse_create_in), kOneName),
    Layout(abi::FUSE_INTERRUPT, sizeof(abi::fuse_interrupt_in)),
    Layout(abi::FUSE_BMAP, sizeof(abi::fuse_bmap_in)),
    Layout(abi::FUSE_DESTROY, 0),
    Layout(abi::FUSE_IOCTL, sizeof(abi::fuse_ioctl_in)),
    Layout(abi::FUSE_POLL, sizeof(abi::fuse_poll_in)),
    Layout(abi::FUSE_NOTIFY_REPLY, sizeof(abi::fuse_notify_retrieve_in)),
    Layout(abi::FUSE_BATCH_FORGET, sizeof(abi::fuse_batch_forget_in)),
    Layout(abi::FUSE_FALLOCATE, sizeof(abi::fuse_fallocate_in)),
    Layout(abi::FUSE_READDIRPLUS, sizeof(abi::fuse_read_in)),
    Layout(abi::FUSE_RENAME2, sizeof(abi::fuse_rename2_in), kTwoNames),
    Layout(abi::FUSE_LSEEK, sizeof(abi::fuse_lseek_in)),
    Layout(abi::FUSE_COPY_FILE_RANGE, sizeof(abi::fuse_copy_file_range_in)),
    Layout(abi::FUSE_SETUPMAPPING, sizeof(abi::fuse_setupmapping_in)),
    // fuse_removemapping_in is a lone 4-byte count.
    Layout(abi::FUSE_REMOVEMAPPING, sizeof(abi::fuse_removemapping_in)),
    Layout(abi::FUSE_SYNCFS, sizeof(abi::fuse_syncfs_in)),
    // The kernel names the tmpfile dentry "/".
    Layout(abi::FUSE_TMPFILE, sizeof(abi::fuse_create_in), std::string_view("/\0", 2)),
    Layout(abi::FUSE_STATX, sizeof(abi::fuse_statx_in)),
    Layout(abi::FUSE_COPY_FILE_RANGE_64, sizeof(abi::fuse_copy_file_range_in)),
};

inline const OpcodeLayout* FindLayout(uint32_t opcode) {
  for (const auto& layout : kOpcodeLayouts) {
    if (layout.opcode == opcode) return &layout;
  }
  return nullptr;
}

// The smallest well-formed request of `layout`'s opcode: a zeroed struct
// (counts and sizes 0) and one-letter names. `struct_bytes` truncates the
// struct for malformed variants.
inline std::vector<std::byte> MinimalRequest(const OpcodeLayout& layout, uint64_t unique,
                                             std::optional<size_t> struct_bytes = std::nullopt,
                                             bool with_names = true) {
  RequestBuilder b(layout.opcode, unique);
  b.Bytes(std::vector<std::byte>(struct_bytes.value_or(layout.struct_size)));
  if (with_names) b.Bytes(layout.names);
  return b.Build();
}

// What a ReplySink was given for one reply.
struct SentReply {
  RequestId unique;
  Opcode opcode{};
  int error = 0;
  std::vector<std::byte> payload;  // the iovecs, concatenated

  // The payload as a T; nullopt unless it is exactly sizeof(T) bytes.
  template <typename T>
  std::optional<T> PayloadAs() const {
    static_assert(std::is_trivially_copyable_v<T>);
    if (payload.size() != sizeof(T)) return std::nullopt;
    T value;
    std::memcpy(&value, payload.data(), sizeof(T));
    return value;
  }
};

// Thread-safety: Send may be called from any thread.
class RecordingSink : public ReplySink {
 public:
  void Send(RequestId unique, Opcode opcode, int error, std::span<const iovec> payload) override {
    SentReply reply{unique, opcode, error, {}};
    for (const iovec& piece : payload) {
      const auto* p = static_cast<const std::byte*>(piece.iov_base);
      reply.payload.insert(reply.payload.end(), p, p + piece.iov_len);
    }
    std::lock_guard lock(mutex_);
    replies_.push_back(std::move(reply));
    changed_.notify_all();
  }

  std::vector<SentReply> replies() const {
    std::lock_guard lock(mutex_);
    return replies_;
  }
  size_t count() const {
    std::lock_guard lock(mutex_);
    return replies_.size();
  }
  // The only reply; unless there is exactly one, a reply with error -1
  // and unique ~0 that no test expects, so the caller's checks fail.
  SentReply only() const {
    std::lock_guard lock(mutex_);
    if (replies_.size() != 1) return SentReply{RequestId(~uint64_t{0}), Opcode{}, -1, {}};
    return replies_[0];
  }
  void clear() {
    std::lock_guard lock(mutex_);
    replies_.clear();
  }
  // True once at least n replies arrived; false after `timeout`.
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return replies_.size() >= n; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<SentReply> replies_;
};

}  // namespace fusekit::testutil
