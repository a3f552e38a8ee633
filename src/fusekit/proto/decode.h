// Decode: the kernel's request bytes to a typed Request. Bytes in, values
// out: no fds, no threads, so it is unit-tested and fuzzed without a mount.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <variant>

#include "fusekit/requests.h"
#include "fusekit/result.h"

namespace fusekit::proto {

using RequestBody = std::variant<
#define FUSEKIT_VARIANT_ALT(name, number, type) req::type,
    FUSEKIT_FOR_EACH_OPCODE(FUSEKIT_VARIANT_ALT)
#undef FUSEKIT_VARIANT_ALT
        std::monostate>;

struct Request {
  RequestHeader header;
  RequestBody body;
  // Request extensions (supplementary groups, security context), raw.
  std::span<const std::byte> extensions;
};

// What was negotiated at INIT and changes how later requests are laid out.
struct DecodeOptions {
  bool setxattr_ext = false;  // FUSE_SETXATTR_EXT: fuse_setxattr_in is 16 bytes
};

// Why a request could not be decoded, with what is known of it so that the
// caller can still answer it.
struct DecodeError {
  enum class Kind {
    kTooShortForHeader,  // cannot even be answered: no unique
    kLengthMismatch,     // header.len disagrees with the bytes read
    kUnknownOpcode,      // answered ENOSYS
    kMalformed,          // short body, missing NUL, bad extension: EINVAL/EIO
  };
  Kind kind;
  RequestHeader header;  // valid unless kind == kTooShortForHeader
  std::string detail;
  // The errno to answer with (0 when it cannot be answered).
  int reply_errno() const;
};

// Either a request or the reason it is not one.
class DecodeResult {
 public:
  DecodeResult(Request r) : v_(std::move(r)) {}      // NOLINT
  DecodeResult(DecodeError e) : v_(std::move(e)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  Request& request() { return std::get<0>(v_); }
  const DecodeError& error() const { return std::get<1>(v_); }

 private:
  std::variant<Request, DecodeError> v_;
};

DecodeResult Decode(std::span<const std::byte> bytes, const DecodeOptions& options = {});

}  // namespace fusekit::proto
