// A bounds-checked reader over untrusted bytes.
#pragma once

#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace fusekit::proto {

// Thread-safety: a value type; not shared.
class Cursor {
 public:
  explicit Cursor(std::span<const std::byte> bytes) : bytes_(bytes) {}

  size_t remaining() const { return bytes_.size() - pos_; }
  bool empty() const { return remaining() == 0; }

  // Copies a T out of the bytes (no alignment assumed); nullopt when short.
  template <typename T>
  std::optional<T> fetch() {
    static_assert(std::is_trivially_copyable_v<T>);
    if (remaining() < sizeof(T)) return std::nullopt;
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  // Reads up to sizeof(T) bytes into a zeroed T: for structs the kernel may
  // send shorter than our definition (older compat sizes). Fails when fewer
  // than min_size bytes remain.
  template <typename T>
  std::optional<T> fetch_prefix(size_t min_size) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (remaining() < min_size) return std::nullopt;
    T value{};
    size_t n = remaining() < sizeof(T) ? remaining() : sizeof(T);
    std::memcpy(&value, bytes_.data() + pos_, n);
    pos_ += n;
    return value;
  }

  // A NUL-terminated string; nullopt when the NUL is missing. The view
  // excludes the NUL.
  std::optional<std::string_view> fetch_cstr() {
    // An empty span may have a null data(), which memchr must not see.
    if (empty()) return std::nullopt;
    const std::byte* start = bytes_.data() + pos_;
    const void* nul = std::memchr(start, 0, remaining());
    if (nul == nullptr) return std::nullopt;
    size_t len = static_cast<const std::byte*>(nul) - start;
    pos_ += len + 1;
    return std::string_view(reinterpret_cast<const char*>(start), len);
  }

  std::optional<std::span<const std::byte>> fetch_bytes(size_t n) {
    if (remaining() < n) return std::nullopt;
    auto out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

  std::span<const std::byte> rest() {
    auto out = bytes_.subspan(pos_);
    pos_ = bytes_.size();
    return out;
  }

 private:
  std::span<const std::byte> bytes_;
  size_t pos_ = 0;
};

}  // namespace fusekit::proto
