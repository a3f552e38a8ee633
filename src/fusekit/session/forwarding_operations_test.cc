// ForwardingOperations: a layer that overrides one operation still hands
// every other one, with its arguments and reply, to the filesystem below.
#include "fusekit/forwarding_operations.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fusekit/testing/wire.h"

namespace fusekit {
namespace {

class Below : public Operations {
 public:
  void Lookup(const Context& ctx, const req::Lookup& in, ReplyEntry r) override {
    calls.push_back("lookup " + std::string(in.name) + " in " + std::to_string(ctx.node().value));
    r.Error(ENOENT);
  }
  void Unlink(const Context&, const req::Unlink& in, ReplyEmpty r) override {
    calls.push_back("unlink " + std::string(in.name));
    r.Ok();
  }
  void Forget(NodeId node, uint64_t nlookup) override {
    calls.push_back("forget " + std::to_string(node.value) + " " + std::to_string(nlookup));
  }
  std::vector<std::string> calls;
};

class RefusesMkdir : public ForwardingOperations {
 public:
  using ForwardingOperations::ForwardingOperations;
  void MkDir(const Context&, const req::MkDir&, ReplyEntry r) override { r.Error(EROFS); }
};

TEST(ForwardingOperations, PassesWhatItDoesNotOverride) {
  Below below;
  RefusesMkdir layer(below);
  auto sink = std::make_shared<testutil::RecordingSink>();
  Context ctx;
  ctx.header.node = NodeId(7);
  layer.Lookup(ctx, req::Lookup{"a"}, ReplyEntry(ReplyBase(sink, RequestId(1), Opcode::LOOKUP)));
  layer.Unlink(ctx, req::Unlink{"b"}, ReplyEmpty(ReplyBase(sink, RequestId(2), Opcode::UNLINK)));
  layer.MkDir(ctx, req::MkDir{0755, 022, "c"},
              ReplyEntry(ReplyBase(sink, RequestId(3), Opcode::MKDIR)));
  layer.Forget(NodeId(9), 3);
  EXPECT_EQ(below.calls, (std::vector<std::string>{"lookup a in 7", "unlink b", "forget 9 3"}));
  auto replies = sink->replies();
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].error, ENOENT);
  EXPECT_EQ(replies[1].error, 0);
  EXPECT_EQ(replies[2].error, EROFS);
  // What it does not override and the filesystem below does not implement
  // still answers ENOSYS, so that the kernel stops asking.
  layer.Bmap(ctx, req::Bmap{}, ReplyBmap(ReplyBase(sink, RequestId(4), Opcode::BMAP)));
  EXPECT_EQ(sink->replies().back().error, ENOSYS);
}

}  // namespace
}  // namespace fusekit
