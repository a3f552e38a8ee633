// Micro-benchmarks of the protocol core: decoding common requests and
// encoding their replies, in ns per request.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/proto/decode.h"
#include "fusekit/reply.h"

namespace {

using namespace fusekit;  // NOLINT: benchmark code

template <typename T>
std::vector<std::byte> Request(uint32_t opcode, const T& body, std::string_view tail = {}) {
  std::vector<std::byte> out(sizeof(abi::fuse_in_header) + sizeof(T) + tail.size());
  abi::fuse_in_header h{};
  h.len = static_cast<uint32_t>(out.size());
  h.opcode = opcode;
  h.unique = 42;
  h.nodeid = 7;
  std::memcpy(out.data(), &h, sizeof(h));
  std::memcpy(out.data() + sizeof(h), &body, sizeof(T));
  std::memcpy(out.data() + sizeof(h) + sizeof(T), tail.data(), tail.size());
  return out;
}

std::vector<std::byte> LookupRequest() {
  std::vector<std::byte> out(sizeof(abi::fuse_in_header) + 12);
  abi::fuse_in_header h{};
  h.len = static_cast<uint32_t>(out.size());
  h.opcode = abi::FUSE_LOOKUP;
  h.unique = 42;
  h.nodeid = 1;
  std::memcpy(out.data(), &h, sizeof(h));
  std::memcpy(out.data() + sizeof(h), "file-000042", 12);
  return out;
}

void Decode(benchmark::State& state, std::vector<std::byte> bytes) {
  for (auto _ : state) {
    auto r = proto::Decode(bytes);
    benchmark::DoNotOptimize(r);
  }
}

class NullSink : public ReplySink {
 public:
  void Send(RequestId, Opcode, int, std::span<const iovec> payload) override {
    benchmark::DoNotOptimize(payload.data());
  }
};

void ReplyEntryOk(benchmark::State& state) {
  auto sink = std::make_shared<NullSink>();
  Entry e;
  e.node = NodeId(7);
  e.attr.mode = 0100644;
  for (auto _ : state) ReplyEntry(ReplyBase(sink, RequestId(1), Opcode::LOOKUP)).Ok(e);
}

void ReplyAttrOk(benchmark::State& state) {
  auto sink = std::make_shared<NullSink>();
  Attr a;
  for (auto _ : state)
    ReplyAttr(ReplyBase(sink, RequestId(1), Opcode::GETATTR)).Ok(a, std::chrono::seconds(1));
}

void ReplyDirFill(benchmark::State& state) {
  auto sink = std::make_shared<NullSink>();
  for (auto _ : state) {
    ReplyDir r(ReplyBase(sink, RequestId(1), Opcode::READDIR), 4096);
    uint64_t off = 0;
    while (r.Add("file-000042", 42, 0100000, ++off)) {
    }
    r.Ok();
  }
}

}  // namespace

BENCHMARK_CAPTURE(Decode, lookup, LookupRequest());
BENCHMARK_CAPTURE(Decode, getattr, Request(abi::FUSE_GETATTR, abi::fuse_getattr_in{}));
BENCHMARK_CAPTURE(Decode, read, Request(abi::FUSE_READ, abi::fuse_read_in{0, 0, 4096, 0, 0, 0, 0}));
BENCHMARK_CAPTURE(Decode, write_4k,
                  Request(abi::FUSE_WRITE, abi::fuse_write_in{0, 0, 4096, 0, 0, 0, 0},
                          std::string(4096, 'x')));
BENCHMARK(ReplyEntryOk);
BENCHMARK(ReplyAttrOk);
BENCHMARK(ReplyDirFill);
BENCHMARK_MAIN();
