// Dispatcher: bytes in, Operations calls and reply bytes out, through a
// recording sink. Requests are laid out by hand from the ABI structs.
#include "fusekit/session/dispatcher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <optional>
#include <thread>
#include <vector>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/testing/wire.h"

namespace fusekit {
namespace {

using namespace std::chrono_literals;
using namespace fusekit::abi;  // NOLINT: wire structs only
using testutil::RecordingSink;
using testutil::RequestBuilder;
using testutil::SentReply;

std::vector<std::byte> InitRequest(uint32_t major, uint32_t minor, uint64_t flags,
                                   uint32_t max_readahead = 128 * 1024, uint64_t unique = 1) {
  fuse_init_in in{};
  in.major = major;
  in.minor = minor;
  in.max_readahead = max_readahead;
  in.flags = static_cast<uint32_t>(flags);
  in.flags2 = static_cast<uint32_t>(flags >> 32);
  return RequestBuilder(FUSE_INIT, unique, 0).Struct(in).Build();
}

// What a 7.45 kernel typically offers, plus what the tests need.
constexpr uint64_t kOffered =
    FUSE_ASYNC_READ | FUSE_POSIX_LOCKS | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | FUSE_SPLICE_READ |
    FUSE_WRITEBACK_CACHE | FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES | FUSE_SETXATTR_EXT |
    FUSE_INIT_EXT | FUSE_SECURITY_CTX | FUSE_PASSTHROUGH | FUSE_HAS_RESEND;

class TestOps : public Operations {
 public:
  void Init(const ConnectionInfo& info) override {
    ++init_calls;
    init_flags = info.flags;
  }
  void Destroy() override { ++destroy_calls; }
  void Forget(NodeId node, uint64_t nlookup) override { forgets.push_back({node, nlookup}); }

  // The name says what to do.
  void Lookup(const Context&, const req::Lookup& r, ReplyEntry reply) override {
    if (r.name == "throw") throw std::runtime_error("lookup failed");
    if (r.name == "throw-int") throw 42;
    if (r.name == "drop") return;  // the reply's destructor answers EIO
    Entry e;
    e.node = NodeId(2);
    e.attr.ino = 2;
    reply.Ok(e);
    if (r.name == "answer-then-throw") throw std::runtime_error("after the answer");
  }
  void GetAttr(const Context& ctx, const req::GetAttr&, ReplyAttr reply) override {
    seen_header = ctx.header;
    reply.Ok(Attr{}, 1s);
  }
  // GETLK answers later: the context and reply are kept for the test.
  void GetLk(const Context& ctx, const req::GetLk&, ReplyLock reply) override {
    kept_context = ctx;
    kept_lock_reply = std::make_unique<ReplyLock>(std::move(reply));
  }
  void SetXattr(const Context&, const req::SetXattr& r, ReplyEmpty reply) override {
    xattr_name = std::string(r.name);
    xattr_value.assign(reinterpret_cast<const char*>(r.value.data()), r.value.size());
    reply.Ok();
  }
  // SETLKW blocks, as a real lock wait would, until the request is
  // interrupted (or a deadline passes, so that a broken test still ends).
  void SetLk(const Context& ctx, const req::SetLk&, bool sleep, ReplyEmpty reply) override {
    if (!sleep) {
      reply.Ok();
      return;
    }
    waiting.set_value();
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!ctx.interrupted() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    reply.Error(ctx.interrupted() ? EINTR : ETIMEDOUT);
  }

  int init_calls = 0;
  uint64_t init_flags = 0;
  int destroy_calls = 0;
  std::vector<std::pair<NodeId, uint64_t>> forgets;
  RequestHeader seen_header;
  std::string xattr_name;
  std::string xattr_value;
  std::promise<void> waiting;
  std::optional<Context> kept_context;
  std::unique_ptr<ReplyLock> kept_lock_reply;
};

class DispatcherTest : public ::testing::Test {
 protected:
  Status Init(uint64_t offered = kOffered, uint32_t minor = 45) {
    return dispatcher_.HandleInit(InitRequest(7, minor, offered), *sink_, config_);
  }
  // Init, then forget its reply so that tests count their own.
  void InitAndClear() {
    ASSERT_TRUE(Init());
    sink_->clear();
  }
  void Handle(const std::vector<std::byte>& bytes) { dispatcher_.Handle(bytes, sink_); }

  abi::fuse_init_out InitReply() {
    auto replies = sink_->replies();
    EXPECT_EQ(replies.size(), 1u);
    if (replies.empty()) return {};
    EXPECT_EQ(replies[0].opcode, Opcode::INIT);
    EXPECT_EQ(replies[0].error, 0);
    return replies[0].PayloadAs<abi::fuse_init_out>().value_or(abi::fuse_init_out{});
  }

  Config config_;
  SessionShared shared_;
  Stats stats_;
  TestOps ops_;
  Dispatcher dispatcher_{ops_, shared_, stats_};
  std::shared_ptr<RecordingSink> sink_ = std::make_shared<RecordingSink>();
};

// ---- INIT ----------------------------------------------------------------------

TEST_F(DispatcherTest, InitGrantsWhatIsBothWantedAndOffered) {
  config_.want = cap::kAsyncRead | cap::kPosixLocks | cap::kFlockLocks | cap::kSecurityCtx;
  config_.max_write = 1 << 17;
  config_.max_readahead = 1 << 20;
  config_.max_background = 64;
  config_.congestion_threshold = 48;
  config_.time_gran = 1000;
  ASSERT_TRUE(dispatcher_.HandleInit(InitRequest(7, 45, kOffered, 1 << 16, 77), *sink_, config_));

  // flock_locks is not offered; big_writes, has_resend ... are not wanted.
  const uint64_t granted = FUSE_ASYNC_READ | FUSE_POSIX_LOCKS | FUSE_SECURITY_CTX | FUSE_INIT_EXT;
  EXPECT_EQ(sink_->only().unique, RequestId(77));
  abi::fuse_init_out out = InitReply();
  EXPECT_EQ(out.major, 7u);
  EXPECT_EQ(out.minor, 45u);
  EXPECT_EQ(out.flags, static_cast<uint32_t>(granted));
  EXPECT_EQ(out.flags2, static_cast<uint32_t>(granted >> 32));  // security_ctx is bit 32
  EXPECT_EQ(out.flags2, 1u);
  EXPECT_EQ(out.max_readahead, 1u << 16);  // the kernel's is smaller
  EXPECT_EQ(out.max_write, 1u << 17);
  EXPECT_EQ(out.max_background, 64);
  EXPECT_EQ(out.congestion_threshold, 48);
  EXPECT_EQ(out.time_gran, 1000u);
  EXPECT_EQ(out.max_pages, 0);  // FUSE_MAX_PAGES not wanted
  EXPECT_EQ(out.max_stack_depth, 0u);

  const ConnectionInfo& info = shared_.connection;
  EXPECT_EQ(info.proto_major, 7u);
  EXPECT_EQ(info.proto_minor, 45u);
  EXPECT_EQ(info.flags, granted);
  EXPECT_EQ(info.kernel_flags, kOffered);
  EXPECT_EQ(info.max_write, 1u << 17);
  EXPECT_FALSE(info.passthrough());
  EXPECT_TRUE(shared_.initialized);
  EXPECT_TRUE(shared_.ready);
  EXPECT_FALSE(shared_.decode.setxattr_ext);
  EXPECT_EQ(ops_.init_calls, 1);
  EXPECT_EQ(ops_.init_flags, granted);
}

TEST_F(DispatcherTest, InitMinorIsTheSmallerOfOursAndTheKernels) {
  ASSERT_TRUE(Init(kOffered, 40));
  EXPECT_EQ(InitReply().minor, 40u);
  EXPECT_EQ(shared_.connection.proto_minor, 40u);

  SessionShared shared;
  Dispatcher newer_kernel(ops_, shared, stats_);
  auto sink = std::make_shared<RecordingSink>();
  ASSERT_TRUE(newer_kernel.HandleInit(InitRequest(7, 99, kOffered), *sink, config_));
  auto out = sink->only().PayloadAs<abi::fuse_init_out>();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->minor, 45u);
}

TEST_F(DispatcherTest, InitWithPassthroughDropsWritebackCache) {
  config_.want = cap::kWritebackCache | cap::kPassthrough;
  config_.max_stack_depth = 2;
  ASSERT_TRUE(Init());
  abi::fuse_init_out out = InitReply();
  uint64_t flags = out.flags | uint64_t{out.flags2} << 32;
  EXPECT_EQ(flags, FUSE_PASSTHROUGH | FUSE_INIT_EXT);
  EXPECT_EQ(out.max_stack_depth, 2u);
  EXPECT_TRUE(shared_.connection.passthrough());
  EXPECT_FALSE(shared_.connection.has(FUSE_WRITEBACK_CACHE));
  EXPECT_EQ(shared_.connection.max_stack_depth, 2u);
}

TEST_F(DispatcherTest, InitWithoutPassthroughKeepsWritebackAndNoStackDepth) {
  config_.want = cap::kWritebackCache;
  config_.max_stack_depth = 2;
  ASSERT_TRUE(Init());
  abi::fuse_init_out out = InitReply();
  EXPECT_EQ(out.flags, static_cast<uint32_t>(FUSE_WRITEBACK_CACHE | FUSE_INIT_EXT));
  EXPECT_EQ(out.flags2, 0u);
  EXPECT_EQ(out.max_stack_depth, 0u);  // only meaningful with passthrough
}

TEST_F(DispatcherTest, InitPassthroughWantedButNotOfferedGetsNoStackDepth) {
  config_.want = cap::kPassthrough;
  ASSERT_TRUE(Init(kOffered & ~FUSE_PASSTHROUGH));
  abi::fuse_init_out out = InitReply();
  EXPECT_EQ(out.flags2, 0u);
  EXPECT_EQ(out.max_stack_depth, 0u);
  EXPECT_FALSE(shared_.connection.passthrough());
}

TEST_F(DispatcherTest, InitMaxPagesCoversMaxWriteUpTo256) {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  for (uint32_t max_write : {4096u, 100000u, 1u << 20, 1u << 24}) {
    SCOPED_TRACE(max_write);
    SessionShared shared;
    Dispatcher dispatcher(ops_, shared, stats_);
    RecordingSink sink;
    Config config;
    config.want = cap::kMaxPages;
    config.max_write = max_write;
    ASSERT_TRUE(dispatcher.HandleInit(InitRequest(7, 45, kOffered), sink, config));
    auto out = sink.only().PayloadAs<abi::fuse_init_out>();
    ASSERT_TRUE(out);
    const uint64_t pages = (max_write + page - 1) / page;
    EXPECT_EQ(out->max_pages, std::min<uint64_t>(pages, 256));
    EXPECT_EQ(shared.connection.max_pages, out->max_pages);
  }
}

TEST_F(DispatcherTest, InitFlags2CarriesEveryGrantedHighBit) {
  config_.want = cap::kSecurityCtx | cap::kCreateSuppGroup | cap::kPassthrough | cap::kHasResend |
                 cap::kAllowIdmap;
  const uint64_t offered = FUSE_INIT_EXT | FUSE_SECURITY_CTX | FUSE_CREATE_SUPP_GROUP |
                           FUSE_PASSTHROUGH | FUSE_HAS_RESEND | FUSE_ALLOW_IDMAP;
  ASSERT_TRUE(Init(offered));
  abi::fuse_init_out out = InitReply();
  EXPECT_EQ(out.flags, static_cast<uint32_t>(FUSE_INIT_EXT));
  EXPECT_EQ(out.flags2, static_cast<uint32_t>((offered & ~FUSE_INIT_EXT) >> 32));
}

TEST_F(DispatcherTest, InitNegotiatingSetxattrExtChangesHowSetxattrDecodes) {
  config_.want = cap::kSetxattrExt;
  InitAndClear();
  EXPECT_TRUE(shared_.decode.setxattr_ext);
  auto bytes = RequestBuilder(FUSE_SETXATTR, 10)
                   .Struct(fuse_setxattr_in{3, 0, FUSE_SETXATTR_ACL_KILL_SGID, 0})
                   .Name("user.k")
                   .Bytes("val")
                   .Build();
  Handle(bytes);
  EXPECT_EQ(sink_->only().error, 0);
  EXPECT_EQ(ops_.xattr_name, "user.k");
  EXPECT_EQ(ops_.xattr_value, "val");
}

TEST_F(DispatcherTest, InitFromAKernelOlderThan736IsRefusedWithEproto) {
  auto status = Init(FUSE_ASYNC_READ, 35);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errno(EPROTO));
  SentReply sent = sink_->only();
  EXPECT_EQ(sent.opcode, Opcode::INIT);
  EXPECT_EQ(sent.error, EPROTO);
  EXPECT_EQ(ops_.init_calls, 0);
  EXPECT_FALSE(shared_.initialized);
  EXPECT_FALSE(shared_.ready);
}

TEST_F(DispatcherTest, InitFromAnOlderMajorIsRefusedWithEproto) {
  auto status = dispatcher_.HandleInit(InitRequest(6, 45, 0), *sink_, config_);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errno(EPROTO));
  EXPECT_EQ(sink_->only().error, EPROTO);
}

TEST_F(DispatcherTest, InitFromANewerMajorGetsOurVersionAndEagain) {
  auto status = dispatcher_.HandleInit(InitRequest(8, 0, kOffered, 1 << 16, 5), *sink_, config_);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errno(EAGAIN));
  SentReply sent = sink_->only();
  EXPECT_EQ(sent.unique, RequestId(5));
  EXPECT_EQ(sent.error, 0);
  auto out = sent.PayloadAs<abi::fuse_init_out>();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->major, 7u);
  EXPECT_EQ(out->minor, 45u);
  EXPECT_EQ(out->flags, 0u);  // nothing is negotiated yet
  EXPECT_EQ(out->flags2, 0u);
  EXPECT_EQ(out->max_write, 0u);
  EXPECT_EQ(ops_.init_calls, 0);
  EXPECT_FALSE(shared_.initialized);

  // The kernel then sends an INIT we speak.
  sink_->clear();
  ASSERT_TRUE(Init());
  EXPECT_EQ(ops_.init_calls, 1);
}

TEST_F(DispatcherTest, FirstRequestThatIsNotInitFailsWithEproto) {
  auto bytes = RequestBuilder(FUSE_GETATTR, 1).Struct(fuse_getattr_in{}).Build();
  auto status = dispatcher_.HandleInit(bytes, *sink_, config_);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errno(EPROTO));
  EXPECT_EQ(ops_.init_calls, 0);
}

TEST_F(DispatcherTest, SecondInitIsEio) {
  InitAndClear();
  Handle(InitRequest(7, 45, kOffered, 1 << 16, 9));
  SentReply sent = sink_->only();
  EXPECT_EQ(sent.unique, RequestId(9));
  EXPECT_EQ(sent.error, EIO);
  EXPECT_EQ(ops_.init_calls, 1);
}

// ---- requests the session handles itself ------------------------------------

TEST_F(DispatcherTest, ForgetAndBatchForgetCallForgetAndAreNotAnswered) {
  InitAndClear();
  Handle(RequestBuilder(FUSE_FORGET, 20, 5).Struct(fuse_forget_in{3}).Build());
  Handle(RequestBuilder(FUSE_BATCH_FORGET, 21, 0)
             .Struct(fuse_batch_forget_in{2, 0})
             .Struct(fuse_forget_one{6, 1})
             .Struct(fuse_forget_one{7, 100})
             .Build());
  EXPECT_EQ(sink_->count(), 0u);
  ASSERT_EQ(ops_.forgets.size(), 3u);
  EXPECT_EQ(ops_.forgets[0], std::make_pair(NodeId(5), uint64_t{3}));
  EXPECT_EQ(ops_.forgets[1], std::make_pair(NodeId(6), uint64_t{1}));
  EXPECT_EQ(ops_.forgets[2], std::make_pair(NodeId(7), uint64_t{100}));
}

TEST_F(DispatcherTest, DestroyIsAnsweredAndCallsDestroy) {
  InitAndClear();
  EXPECT_FALSE(dispatcher_.destroyed());
  Handle(RequestBuilder(FUSE_DESTROY, 30, 0).Build());
  SentReply sent = sink_->only();
  EXPECT_EQ(sent.unique, RequestId(30));
  EXPECT_EQ(sent.opcode, Opcode::DESTROY);
  EXPECT_EQ(sent.error, 0);
  EXPECT_TRUE(sent.payload.empty());
  EXPECT_EQ(ops_.destroy_calls, 1);
  EXPECT_TRUE(dispatcher_.destroyed());
}

TEST_F(DispatcherTest, NotifyReplyRunsTheRetrieveCallbackOnce) {
  InitAndClear();
  int calls = 0;
  uint64_t got_offset = 0;
  std::string got_data;
  shared_.retrieves[900] = [&](uint64_t offset, std::span<const std::byte> data) {
    ++calls;
    got_offset = offset;
    got_data.assign(reinterpret_cast<const char*>(data.data()), data.size());
  };
  auto reply = RequestBuilder(FUSE_NOTIFY_REPLY, 900, 12)
                   .Struct(fuse_notify_retrieve_in{0, 4096, 6, 0, 0, 0})
                   .Bytes("cached")
                   .Build();
  Handle(reply);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got_offset, 4096u);
  EXPECT_EQ(got_data, "cached");
  EXPECT_TRUE(shared_.retrieves.empty());
  Handle(reply);  // a stray repeat finds nothing
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(sink_->count(), 0u);  // the kernel expects no answer
}

TEST_F(DispatcherTest, NotifyReplyForAnUnknownRetrieveIsIgnored) {
  InitAndClear();
  Handle(RequestBuilder(FUSE_NOTIFY_REPLY, 901).Struct(fuse_notify_retrieve_in{}).Build());
  EXPECT_EQ(sink_->count(), 0u);
}

TEST_F(DispatcherTest, InterruptFlagsTheRequestInFlight) {
  InitAndClear();
  auto waiting = ops_.waiting.get_future();
  fuse_lk_in lk{};
  lk.fh = 1;
  lk.lk.type = F_WRLCK;
  auto setlkw = RequestBuilder(FUSE_SETLKW, 300).Struct(lk).Build();
  std::thread worker([&] { Handle(setlkw); });
  EXPECT_EQ(waiting.wait_for(10s), std::future_status::ready);

  Handle(RequestBuilder(FUSE_INTERRUPT, 301, 0).Struct(fuse_interrupt_in{300}).Build());
  worker.join();
  SentReply sent = sink_->only();  // the INTERRUPT itself is not answered
  EXPECT_EQ(sent.unique, RequestId(300));
  EXPECT_EQ(sent.opcode, Opcode::SETLKW);
  EXPECT_EQ(sent.error, EINTR);
}

// An operation that answers later keeps a copy of its context: the
// INTERRUPT still reaches it, and once the copy is gone the request is
// not found any more.
TEST_F(DispatcherTest, InterruptReachesARequestAnsweredLater) {
  InitAndClear();
  Handle(RequestBuilder(FUSE_GETLK, 310).Struct(fuse_lk_in{}).Build());
  ASSERT_TRUE(ops_.kept_context.has_value());
  EXPECT_EQ(sink_->count(), 0u);
  EXPECT_FALSE(ops_.kept_context->interrupted());
  Handle(RequestBuilder(FUSE_INTERRUPT, 311, 0).Struct(fuse_interrupt_in{310}).Build());
  EXPECT_TRUE(ops_.kept_context->interrupted());
  EXPECT_EQ(sink_->count(), 0u);  // found: the INTERRUPT itself is not answered
  ops_.kept_lock_reply->Error(EINTR);
  ops_.kept_context.reset();
}

// Read by one worker before another registered its request: the interrupt
// is kept, and the request starts interrupted.
TEST_F(DispatcherTest, AnInterruptReadBeforeItsRequestStillReachesIt) {
  InitAndClear();
  Handle(RequestBuilder(FUSE_INTERRUPT, 321, 0).Struct(fuse_interrupt_in{320}).Build());
  EXPECT_EQ(sink_->count(), 0u);
  Handle(RequestBuilder(FUSE_GETLK, 320).Struct(fuse_lk_in{}).Build());
  ASSERT_TRUE(ops_.kept_context.has_value());
  EXPECT_TRUE(ops_.kept_context->interrupted());
  ops_.kept_lock_reply->Error(EINTR);
  // Used once: a later request is not affected.
  Handle(RequestBuilder(FUSE_GETLK, 322).Struct(fuse_lk_in{}).Build());
  EXPECT_FALSE(ops_.kept_context->interrupted());
  ops_.kept_lock_reply->Error(EINTR);
}

TEST_F(DispatcherTest, InterruptForARequestNotInFlightIsNotAnswered) {
  InitAndClear();
  Handle(RequestBuilder(FUSE_INTERRUPT, 302, 0).Struct(fuse_interrupt_in{12345}).Build());
  EXPECT_EQ(sink_->count(), 0u);
  // A later request with that unique is not affected.
  Handle(RequestBuilder(FUSE_GETATTR, 12345).Struct(fuse_getattr_in{}).Build());
  EXPECT_EQ(sink_->only().error, 0);
}

// ---- routing -------------------------------------------------------------------

TEST_F(DispatcherTest, ContextCarriesTheRequestHeader) {
  InitAndClear();
  Handle(RequestBuilder(FUSE_GETATTR, 40, 99)
             .Caller(1001, 1002, 1003)
             .Struct(fuse_getattr_in{})
             .Build());
  EXPECT_EQ(sink_->only().error, 0);
  EXPECT_EQ(ops_.seen_header.unique, RequestId(40));
  EXPECT_EQ(ops_.seen_header.node, NodeId(99));
  EXPECT_EQ(ops_.seen_header.uid, 1001u);
  EXPECT_EQ(ops_.seen_header.gid, 1002u);
  EXPECT_EQ(ops_.seen_header.pid, 1003u);
}

TEST_F(DispatcherTest, UnknownOpcodeIsAnsweredEnosys) {
  InitAndClear();
  for (uint32_t opcode : {7u, 19u, 999u, uint32_t{CUSE_INIT}}) {
    SCOPED_TRACE(opcode);
    sink_->clear();
    Handle(RequestBuilder(opcode, 50 + opcode).Build());
    SentReply sent = sink_->only();
    EXPECT_EQ(sent.unique, RequestId(50 + opcode));
    EXPECT_EQ(sent.error, ENOSYS);
  }
}

TEST_F(DispatcherTest, MalformedRequestIsAnsweredEinval) {
  InitAndClear();
  Handle(RequestBuilder(FUSE_LOOKUP, 60).Bytes("no-nul").Build());
  SentReply sent = sink_->only();
  EXPECT_EQ(sent.unique, RequestId(60));
  EXPECT_EQ(sent.opcode, Opcode::LOOKUP);
  EXPECT_EQ(sent.error, EINVAL);
}

TEST_F(DispatcherTest, LengthMismatchIsAnsweredEio) {
  InitAndClear();
  auto bytes = RequestBuilder(FUSE_GETATTR, 61).Struct(fuse_getattr_in{}).Build();
  testutil::PatchLen(bytes, static_cast<uint32_t>(bytes.size() + 8));
  Handle(bytes);
  SentReply sent = sink_->only();
  EXPECT_EQ(sent.unique, RequestId(61));
  EXPECT_EQ(sent.error, EIO);
}

TEST_F(DispatcherTest, UnanswerableBadRequestsGetNoReply) {
  InitAndClear();
  auto getattr = RequestBuilder(FUSE_GETATTR, 62).Struct(fuse_getattr_in{}).Build();
  // Too short to have a unique.
  Handle(std::vector<std::byte>(getattr.begin(), getattr.begin() + 20));
  // Requests the kernel never waits an answer for, even when malformed.
  Handle(RequestBuilder(FUSE_FORGET, 63, 5).Bytes("x").Build());
  Handle(RequestBuilder(FUSE_BATCH_FORGET, 64).Struct(fuse_batch_forget_in{9, 0}).Build());
  Handle(RequestBuilder(FUSE_INTERRUPT, 65).Bytes("x").Build());
  Handle(RequestBuilder(FUSE_NOTIFY_REPLY, 66).Bytes("x").Build());
  // Unique 0 is a notification's, never a request's.
  Handle(RequestBuilder(FUSE_LOOKUP, 0).Bytes("no-nul").Build());
  EXPECT_EQ(sink_->count(), 0u);
  EXPECT_TRUE(ops_.forgets.empty());
}

TEST_F(DispatcherTest, OperationThatThrowsIsAnsweredEioOnce) {
  InitAndClear();
  for (const char* name : {"throw", "throw-int", "drop"}) {
    SCOPED_TRACE(name);
    sink_->clear();
    Handle(RequestBuilder(FUSE_LOOKUP, 70).Name(name).Build());
    SentReply sent = sink_->only();
    EXPECT_EQ(sent.unique, RequestId(70));
    EXPECT_EQ(sent.error, EIO);
  }
}

TEST_F(DispatcherTest, OperationThatThrowsAfterAnsweringKeepsItsAnswer) {
  InitAndClear();
  Handle(RequestBuilder(FUSE_LOOKUP, 71).Name("answer-then-throw").Build());
  SentReply sent = sink_->only();
  EXPECT_EQ(sent.error, 0);
  EXPECT_EQ(sent.payload.size(), sizeof(abi::fuse_entry_out));
}

TEST_F(DispatcherTest, SetLkIsNotASleepingLock) {
  InitAndClear();
  // TestOps::SetLk answers at once only when told not to sleep; told to
  // sleep it would wait 10 s for an interrupt and answer ETIMEDOUT.
  Handle(RequestBuilder(FUSE_SETLK, 72).Struct(fuse_lk_in{}).Build());
  EXPECT_EQ(sink_->only().error, 0);
}

TEST_F(DispatcherTest, StatsCountRequestsPerOpcode) {
  InitAndClear();
  EXPECT_EQ(stats_.count(Opcode::INIT), 1u);
  for (int i = 0; i < 3; ++i) {
    Handle(RequestBuilder(FUSE_GETATTR, 80 + i).Struct(fuse_getattr_in{}).Build());
  }
  Handle(RequestBuilder(FUSE_LOOKUP, 90).Name("x").Build());
  Handle(RequestBuilder(FUSE_LOOKUP, 91).Bytes("malformed").Build());
  Handle(RequestBuilder(FUSE_FORGET, 92).Struct(fuse_forget_in{1}).Build());
  Handle(RequestBuilder(999, 93).Build());  // beyond the table: not counted, no crash
  EXPECT_EQ(stats_.count(Opcode::GETATTR), 3u);
  EXPECT_EQ(stats_.count(Opcode::LOOKUP), 2u);
  EXPECT_EQ(stats_.count(Opcode::FORGET), 1u);
  EXPECT_EQ(stats_.count(Opcode::SETATTR), 0u);
}

// Replies count in the statistics of the sink they go through: answered,
// failed (by errno) and timed from the dispatcher to the send. FORGET has
// no reply; a request that cannot be decoded is answered and counted.
TEST_F(DispatcherTest, RepliesCountInTheSinksStatistics) {
  InitAndClear();
  auto counted = std::make_shared<Stats>();
  sink_->CountIn(counted);
  Dispatcher dispatcher(ops_, shared_, *counted);
  for (int i = 0; i < 3; ++i)
    dispatcher.Handle(RequestBuilder(FUSE_GETATTR, 80 + i).Struct(fuse_getattr_in{}).Build(), sink_);
  dispatcher.Handle(RequestBuilder(FUSE_LOOKUP, 90).Name("x").Build(), sink_);
  dispatcher.Handle(RequestBuilder(FUSE_LOOKUP, 91).Name("drop").Build(), sink_);
  dispatcher.Handle(RequestBuilder(FUSE_LOOKUP, 92).Bytes("malformed").Build(), sink_);
  dispatcher.Handle(RequestBuilder(FUSE_FORGET, 93).Struct(fuse_forget_in{1}).Build(), sink_);
  dispatcher.Handle(RequestBuilder(FUSE_MKNOD, 94).Struct(fuse_mknod_in{}).Name("n").Build(), sink_);

  StatsSnapshot snap = counted->Snapshot();
  EXPECT_EQ(snap.of(Opcode::GETATTR).requests, 3u);
  EXPECT_EQ(snap.of(Opcode::GETATTR).replies, 3u);
  EXPECT_EQ(snap.of(Opcode::GETATTR).errors, 0u);
  EXPECT_EQ(snap.of(Opcode::GETATTR).latency.count(), 3u);
  EXPECT_GT(snap.of(Opcode::GETATTR).latency.total_ns(), 0u);
  EXPECT_EQ(snap.of(Opcode::LOOKUP).requests, 3u);
  EXPECT_EQ(snap.of(Opcode::LOOKUP).replies, 3u);
  EXPECT_EQ(snap.of(Opcode::LOOKUP).errors, 2u);  // dropped (EIO) and malformed
  EXPECT_EQ(snap.of(Opcode::FORGET).requests, 1u);
  EXPECT_EQ(snap.of(Opcode::FORGET).replies, 0u);
  EXPECT_EQ(snap.of(Opcode::MKNOD).errors, 1u);  // the default Operations: ENOSYS
  EXPECT_EQ(snap.errors_by_errno[EIO], 1u);
  EXPECT_EQ(snap.errors_by_errno[ENOSYS], 1u);
  EXPECT_EQ(snap.errors(), 3u);
  EXPECT_EQ(snap.requests(), 8u);
  // The recording sink saw the same replies.
  EXPECT_EQ(sink_->count(), 7u);
}

// Every answerable opcode reaches the default Operations, which answers
// ENOSYS (RELEASE and RELEASEDIR succeed: there is nothing to refuse), and is
// answered exactly once.
TEST(DispatcherDefaultsTest, DefaultOperationsAnswerEnosysExactlyOnce) {
  Operations defaults;
  SessionShared shared;
  Stats stats;
  Dispatcher dispatcher(defaults, shared, stats);
  auto sink = std::make_shared<RecordingSink>();
  ASSERT_TRUE(dispatcher.HandleInit(InitRequest(7, 45, kOffered), *sink, Config{}));

  int routed = 0;
  for (const auto& layout : testutil::kOpcodeLayouts) {
    const auto opcode = static_cast<Opcode>(layout.opcode);
    if (opcode == Opcode::INIT || opcode == Opcode::DESTROY || opcode == Opcode::FORGET ||
        opcode == Opcode::BATCH_FORGET || opcode == Opcode::INTERRUPT ||
        opcode == Opcode::NOTIFY_REPLY) {
      continue;  // handled by the dispatcher itself, tested above
    }
    SCOPED_TRACE(OpcodeName(opcode));
    sink->clear();
    const uint64_t unique = 5000 + layout.opcode;
    dispatcher.Handle(testutil::MinimalRequest(layout, unique), sink);
    SentReply sent = sink->only();
    EXPECT_EQ(sent.unique, RequestId(unique));
    EXPECT_EQ(sent.opcode, opcode);
    bool succeeds = opcode == Opcode::RELEASE || opcode == Opcode::RELEASEDIR;
    EXPECT_EQ(sent.error, succeeds ? 0 : ENOSYS);
    ++routed;
  }
  EXPECT_EQ(routed, 45);
}

}  // namespace
}  // namespace fusekit
