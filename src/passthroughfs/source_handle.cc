#include "source_handle.h"

#include <cerrno>
#include <functional>
#include <string_view>

namespace passthroughfs {

using fusekit::Fail;
using fusekit::FailLast;
using fusekit::Result;
using fusekit::UniqueFd;

namespace {

// MAX_HANDLE_SZ: what the kernel accepts; every filesystem fits.
constexpr unsigned kMaxHandle = 128;

// file_handle ends in a flexible array: room for it behind the header.
union HandleBuffer {
  file_handle header;
  char room[sizeof(file_handle) + kMaxHandle];
};

}  // namespace

void SourceHandle::Free() {
  if (on_heap()) delete[] heap();
  size_ = 0;
}

SourceHandle& SourceHandle::operator=(const SourceHandle& other) {
  if (this != &other) *this = FromBytes(other.type_, other.bytes());
  return *this;
}

SourceHandle& SourceHandle::operator=(SourceHandle&& other) noexcept {
  if (this == &other) return *this;
  Free();
  type_ = other.type_;
  size_ = other.size_;
  std::memcpy(inline_, other.inline_, kInline);  // the heap pointer too
  other.size_ = 0;                                // which is ours now
  return *this;
}

SourceHandle SourceHandle::FromBytes(int type, std::span<const uint8_t> bytes) {
  SourceHandle h;
  h.type_ = static_cast<uint8_t>(type);
  size_t size = std::min<size_t>(bytes.size(), kMaxHandle);
  if (size > kInline) {
    auto* heap = new uint8_t[size];
    std::memcpy(heap, bytes.data(), size);
    std::memcpy(h.inline_, &heap, sizeof(heap));
  } else {
    std::memcpy(h.inline_, bytes.data(), size);
  }
  h.size_ = static_cast<uint8_t>(size);
  return h;
}

Result<SourceHandle> SourceHandle::Of(int dir, const char* name, int* mount_id) {
  HandleBuffer buffer{};
  buffer.header.handle_bytes = kMaxHandle;
  int flags = name[0] == '\0' ? AT_EMPTY_PATH : 0;
  if (::name_to_handle_at(dir, name, &buffer.header, mount_id, flags) != 0) return FailLast();
  if (buffer.header.handle_bytes == 0 || buffer.header.handle_bytes > kMaxHandle ||
      buffer.header.handle_type < 0 || buffer.header.handle_type > 255)
    return Fail(EOPNOTSUPP);
  return FromBytes(buffer.header.handle_type,
                   std::span<const uint8_t>(buffer.header.f_handle, buffer.header.handle_bytes));
}

Result<UniqueFd> SourceHandle::Open(int mount_fd, int flags) const {
  if (empty()) return Fail(ESTALE);
  HandleBuffer buffer{};
  buffer.header.handle_bytes = size_;
  buffer.header.handle_type = type_;
  std::memcpy(buffer.header.f_handle, data(), size_);
  UniqueFd fd(::open_by_handle_at(mount_fd, &buffer.header, flags | O_CLOEXEC));
  if (!fd) {
    // A handle of a file being freed right now (unlinked, its last
    // reference just dropped) meets the inode cache's "being evicted"
    // answer, which iget_locked() turns into NULL and ext4 (among others)
    // into ENOMEM. The file is gone: say so, so that the kernel's retry on
    // ESTALE (a fresh lookup) finds what the name holds now.
    if (errno == ENOMEM) return Fail(ESTALE);
    return FailLast();
  }
  return fd;
}

size_t SourceHandle::Hash() const {
  std::string_view raw(reinterpret_cast<const char*>(data()), size_);
  return std::hash<std::string_view>()(raw) * 31 + static_cast<size_t>(type_);
}

bool SourceHandle::operator==(const SourceHandle& other) const {
  return type_ == other.type_ && size_ == other.size_ &&
         std::memcmp(data(), other.data(), size_) == 0;
}

}  // namespace passthroughfs
