// CallerGate over a fake filesystem: callers it does not admit get EACCES
// for what would read or change SOURCE, and nothing reaches the filesystem
// below; their GETATTR still does (it answers their own view).
#include "caller_gate.h"

#include <gtest/gtest.h>

#include "fusekit/testing/wire.h"

namespace passthroughfs {
namespace {

using fusekit::Context;
using fusekit::Opcode;
using fusekit::ReplyBase;
using fusekit::RequestId;
namespace req = fusekit::req;

class CountingFs : public fusekit::Operations {
 public:
  void Lookup(const Context&, const req::Lookup&, fusekit::ReplyEntry r) override {
    calls++;
    r.Error(ENOENT);
  }
  void Open(const Context&, const req::Open&, fusekit::ReplyOpen r) override {
    calls++;
    r.Ok(fusekit::FileHandle(1));
  }
  void GetAttr(const Context&, const req::GetAttr&, fusekit::ReplyAttr r) override {
    calls++;
    r.Ok(fusekit::Attr{}, fusekit::Timeout::zero());
  }
  int calls = 0;
};

TEST(CallerGate, RefusesWhomItDoesNotAdmitAndLetsTheRestThrough) {
  CountingFs below;
  CallerGate gate(below, [](uid_t uid) { return uid == 0 || uid == 1000; });
  auto sink = std::make_shared<fusekit::testutil::RecordingSink>();
  uint64_t unique = 0;
  auto reply = [&](Opcode op) { return ReplyBase(sink, RequestId(++unique), op); };
  for (uint32_t uid : {0u, 1000u, 1001u}) {
    Context ctx;
    ctx.header.uid = uid;
    gate.Lookup(ctx, req::Lookup{"x"}, fusekit::ReplyEntry(reply(Opcode::LOOKUP)));
    gate.Open(ctx, req::Open{}, fusekit::ReplyOpen(reply(Opcode::OPEN)));
    gate.GetAttr(ctx, req::GetAttr{}, fusekit::ReplyAttr(reply(Opcode::GETATTR)));
  }
  EXPECT_EQ(below.calls, 7);  // all but uid 1001's lookup and open
  auto replies = sink->replies();
  ASSERT_EQ(replies.size(), 9u);
  EXPECT_EQ(replies[0].error, ENOENT);
  EXPECT_EQ(replies[4].error, 0);
  EXPECT_EQ(replies[6].error, EACCES);
  EXPECT_EQ(replies[7].error, EACCES);
  EXPECT_EQ(replies[8].error, 0);
}

}  // namespace
}  // namespace passthroughfs
