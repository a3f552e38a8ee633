// libFuzzer target: one input is the bytes of one read from /dev/fuse.
//
// Each input is decoded with both SETXATTR layouts (and described when it
// decodes), then handled by two dispatchers past a synthetic INIT, one per
// layout. Besides crashes and sanitizer reports, it checks the dispatcher's
// promise: every request the kernel waits on gets exactly one reply, to its
// own unique, and no other request gets any.
//
// Inputs whose header length disagrees with their size are also handled
// with the length patched, so that mutations which grow or shrink a request
// still reach the decoders of its body.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/proto/decode.h"
#include "fusekit/proto/describe.h"
#include "fusekit/testing/harness.h"

namespace {

using fusekit::testutil::DispatchHarness;

void Decode(std::span<const std::byte> bytes) {
  for (bool setxattr_ext : {false, true}) {
    auto decoded = fusekit::proto::Decode(bytes, {.setxattr_ext = setxattr_ext});
    if (decoded.ok()) {
      std::string text = fusekit::proto::DescribeRequest(decoded.request());
      if (text.empty()) std::abort();
    } else {
      (void)decoded.error().reply_errno();
    }
  }
}

void Dispatch(std::span<const std::byte> bytes) {
  // Built once: a dispatcher keeps no per-request state between requests.
  static DispatchHarness* compat = new DispatchHarness(false);
  static DispatchHarness* ext = new DispatchHarness(true);
  for (DispatchHarness* harness : {compat, ext}) {
    if (!harness->initialized()) {
      std::fprintf(stderr, "synthetic INIT failed\n");
      std::abort();
    }
    if (!harness->Handle(bytes)) {
      std::fprintf(stderr, "wrong replies: %zu sent, %zu owed\n", harness->last_reply_count(),
                   fusekit::testutil::ExpectedReplies(bytes, harness->decode_options()));
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Every malformed request logs a warning: millions of them per run.
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  Decode(bytes);
  Dispatch(bytes);

  if (size >= sizeof(fusekit::abi::fuse_in_header)) {
    uint32_t len;
    std::memcpy(&len, data + offsetof(fusekit::abi::fuse_in_header, len), sizeof(len));
    if (len != size) {
      std::vector<std::byte> patched(bytes.begin(), bytes.end());
      fusekit::testutil::PatchLen(patched, static_cast<uint32_t>(size));
      Decode(patched);
      Dispatch(patched);
    }
  }
  return 0;
}
