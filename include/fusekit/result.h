// Errno and Result<T>: the one error convention of fusekit.
//
// Inside the library and on the request path errors are errno values carried
// in Result<T>, shaped like C++23's std::expected<T, Errno> so that it can be
// swapped for it once the toolchain has it. No exceptions cross the request
// path.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace fusekit {

// A strong errno value: never 0 when it describes a failure.
class Errno {
 public:
  constexpr explicit Errno(int value) : value_(value) {}
  // The errno of the calling thread, for use right after a failed syscall.
  static Errno Last() { return Errno(errno); }

  constexpr int value() const { return value_; }
  std::string message() const { return std::strerror(value_); }
  friend constexpr bool operator==(Errno a, Errno b) { return a.value_ == b.value_; }

 private:
  int value_;
};

// Wraps an Errno so that Result's constructors cannot confuse it with a T.
struct Unexpected {
  Errno error;
};
inline Unexpected Fail(Errno e) { return Unexpected{e}; }
inline Unexpected Fail(int e) { return Unexpected{Errno(e)}; }
inline Unexpected FailLast() { return Unexpected{Errno::Last()}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Unexpected u) : v_(std::in_place_index<1>, u.error) {}      // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  Errno error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Errno> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(u.error.value()) {}  // NOLINT

  bool has_value() const { return error_ == 0; }
  explicit operator bool() const { return has_value(); }
  Errno error() const { return Errno(error_); }

 private:
  int error_ = 0;
};

using Status = Result<void>;
inline Status Ok() { return Status(); }

}  // namespace fusekit
