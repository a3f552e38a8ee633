// Notifications' wire bytes, written to a pipe standing in for /dev/fuse.
#include "fusekit/notifier.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string_view>
#include <vector>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/session/dispatcher.h"
#include "fusekit/session/shared.h"
#include "fusekit/testing/wire.h"

namespace fusekit {
namespace {

using namespace fusekit::abi;  // NOLINT: wire structs only

struct Message {
  fuse_out_header header{};
  std::vector<std::byte> body;

  template <typename T>
  T BodyStruct() const {
    T value{};
    if (body.size() >= sizeof(T)) std::memcpy(&value, body.data(), sizeof(T));
    return value;
  }
  std::string_view Tail(size_t from) const {
    if (from > body.size()) return {};
    return {reinterpret_cast<const char*>(body.data()) + from, body.size() - from};
  }
};

class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // O_DIRECT: a packet pipe, so that each message is read whole and
    // alone, as from /dev/fuse.
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK | O_DIRECT), 0);
    read_end_.reset(fds[0]);
    shared_->device = std::make_shared<UniqueFd>(fds[1]);
    shared_->initialized = true;
  }

  // The next message, as the kernel would read it.
  Message Read() {
    std::vector<std::byte> buffer(1 << 16);
    ssize_t n = ::read(read_end_.get(), buffer.data(), buffer.size());
    Message m;
    if (n < static_cast<ssize_t>(sizeof(fuse_out_header))) {
      ADD_FAILURE() << "no message (read returned " << n << ")";
      return m;
    }
    std::memcpy(&m.header, buffer.data(), sizeof(m.header));
    EXPECT_EQ(m.header.len, static_cast<uint32_t>(n));
    EXPECT_EQ(m.header.unique, 0u);  // unique 0 marks a notification
    m.body.assign(buffer.begin() + sizeof(fuse_out_header), buffer.begin() + n);
    return m;
  }
  bool PipeIsEmpty() {
    std::byte b;
    return ::read(read_end_.get(), &b, 1) < 0 && errno == EAGAIN;
  }

  UniqueFd read_end_;
  std::shared_ptr<SessionShared> shared_ = std::make_shared<SessionShared>();
  Notifier notifier_{shared_};
};

TEST_F(NotifierTest, InvalInode) {
  ASSERT_TRUE(notifier_.InvalInode(NodeId(5), 4096, -1));
  Message m = Read();
  EXPECT_EQ(m.header.error, FUSE_NOTIFY_INVAL_INODE);
  ASSERT_EQ(m.body.size(), sizeof(fuse_notify_inval_inode_out));
  auto out = m.BodyStruct<fuse_notify_inval_inode_out>();
  EXPECT_EQ(out.ino, 5u);
  EXPECT_EQ(out.off, 4096);
  EXPECT_EQ(out.len, -1);
}

TEST_F(NotifierTest, PruneListsTheNodeIds) {
  std::vector<NodeId> nodes = {NodeId(5), NodeId(7), NodeId(uint64_t{1} << 40)};
  ASSERT_TRUE(notifier_.Prune(nodes));
  Message m = Read();
  EXPECT_EQ(m.header.error, FUSE_NOTIFY_PRUNE);
  ASSERT_EQ(m.body.size(), sizeof(fuse_notify_prune_out) + 3 * sizeof(uint64_t));
  EXPECT_EQ(m.BodyStruct<fuse_notify_prune_out>().count, 3u);
  uint64_t ids[3];
  std::memcpy(ids, m.body.data() + sizeof(fuse_notify_prune_out), sizeof(ids));
  EXPECT_EQ(ids[0], 5u);
  EXPECT_EQ(ids[1], 7u);
  EXPECT_EQ(ids[2], uint64_t{1} << 40);
}

TEST_F(NotifierTest, PruneOfManyGoesInPieces) {
  std::vector<NodeId> nodes;
  for (uint64_t i = 1; i <= 1500; ++i) nodes.push_back(NodeId(i));
  ASSERT_TRUE(notifier_.Prune(nodes));
  for (int piece = 0; piece < 3; ++piece) {
    Message m = Read();
    EXPECT_EQ(m.BodyStruct<fuse_notify_prune_out>().count, 500u) << "piece " << piece;
  }
  EXPECT_TRUE(PipeIsEmpty());
}

TEST_F(NotifierTest, IncEpochHasNoBody) {
  ASSERT_TRUE(notifier_.IncEpoch());
  Message m = Read();
  EXPECT_EQ(m.header.error, FUSE_NOTIFY_INC_EPOCH);
  EXPECT_TRUE(m.body.empty());
}

TEST_F(NotifierTest, InvalEntryNameTravelsWithItsNul) {
  ASSERT_TRUE(notifier_.InvalEntry(NodeId(1), "name"));
  Message m = Read();
  EXPECT_EQ(m.header.error, FUSE_NOTIFY_INVAL_ENTRY);
  auto out = m.BodyStruct<fuse_notify_inval_entry_out>();
  EXPECT_EQ(out.parent, 1u);
  EXPECT_EQ(out.namelen, 4u);  // without the NUL
  EXPECT_EQ(out.flags, 0u);
  EXPECT_EQ(m.Tail(sizeof(out)), std::string_view("name\0", 5));
}

TEST_F(NotifierTest, ExpireEntrySetsExpireOnly) {
  ASSERT_TRUE(notifier_.ExpireEntry(NodeId(2), "x"));
  Message m = Read();
  EXPECT_EQ(m.header.error, FUSE_NOTIFY_INVAL_ENTRY);
  auto out = m.BodyStruct<fuse_notify_inval_entry_out>();
  EXPECT_EQ(out.flags, FUSE_EXPIRE_ONLY);
  EXPECT_EQ(m.Tail(sizeof(out)), std::string_view("x\0", 2));
}

TEST_F(NotifierTest, Delete) {
  ASSERT_TRUE(notifier_.Delete(NodeId(3), NodeId(30), "gone"));
  Message m = Read();
  EXPECT_EQ(m.header.error, FUSE_NOTIFY_DELETE);
  auto out = m.BodyStruct<fuse_notify_delete_out>();
  EXPECT_EQ(out.parent, 3u);
  EXPECT_EQ(out.child, 30u);
  EXPECT_EQ(out.namelen, 4u);
  EXPECT_EQ(m.Tail(sizeof(out)), std::string_view("gone\0", 5));
}

TEST_F(NotifierTest, Store) {
  ASSERT_TRUE(notifier_.Store(NodeId(4), 8192, testutil::AsBytes("payload")));
  Message m = Read();
  EXPECT_EQ(m.header.error, FUSE_NOTIFY_STORE);
  auto out = m.BodyStruct<fuse_notify_store_out>();
  EXPECT_EQ(out.nodeid, 4u);
  EXPECT_EQ(out.offset, 8192u);
  EXPECT_EQ(out.size, 7u);
  EXPECT_EQ(m.Tail(sizeof(out)), "payload");
}

TEST_F(NotifierTest, RetrieveAnswerReachesTheCallbackThroughTheDispatcher) {
  std::string got;
  uint64_t got_offset = 0;
  ASSERT_TRUE(notifier_.Retrieve(
      NodeId(6), 512, 100, [&](uint64_t offset, std::span<const std::byte> data) {
        got_offset = offset;
        got.assign(reinterpret_cast<const char*>(data.data()), data.size());
      }));
  Message m = Read();
  EXPECT_EQ(m.header.error, FUSE_NOTIFY_RETRIEVE);
  auto out = m.BodyStruct<fuse_notify_retrieve_out>();
  EXPECT_NE(out.notify_unique, 0u);
  EXPECT_EQ(out.nodeid, 6u);
  EXPECT_EQ(out.offset, 512u);
  EXPECT_EQ(out.size, 100u);

  // The kernel answers with a NOTIFY_REPLY whose unique is notify_unique.
  Operations ops;
  Stats stats;
  Dispatcher dispatcher(ops, *shared_, stats);
  auto sink = std::make_shared<testutil::RecordingSink>();
  dispatcher.Handle(testutil::RequestBuilder(FUSE_NOTIFY_REPLY, out.notify_unique, 6)
                        .Struct(fuse_notify_retrieve_in{0, 512, 3, 0, 0, 0})
                        .Bytes("abc")
                        .Build(),
                    sink);
  EXPECT_EQ(got, "abc");
  EXPECT_EQ(got_offset, 512u);
  EXPECT_EQ(sink->count(), 0u);
}

TEST_F(NotifierTest, RetrievesGetDistinctUniques) {
  ASSERT_TRUE(notifier_.Retrieve(NodeId(1), 0, 1, [](uint64_t, std::span<const std::byte>) {}));
  ASSERT_TRUE(notifier_.Retrieve(NodeId(1), 0, 1, [](uint64_t, std::span<const std::byte>) {}));
  auto first = Read().BodyStruct<fuse_notify_retrieve_out>();
  auto second = Read().BodyStruct<fuse_notify_retrieve_out>();
  EXPECT_NE(first.notify_unique, second.notify_unique);
  EXPECT_EQ(shared_->retrieves.size(), 2u);
}

TEST_F(NotifierTest, BeforeInitNothingIsSent) {
  shared_->initialized = false;
  auto status = notifier_.InvalInode(NodeId(1));
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errno(ENOTCONN));
  auto retrieve = notifier_.Retrieve(NodeId(1), 0, 1, [](uint64_t, std::span<const std::byte>) {});
  ASSERT_FALSE(retrieve);
  EXPECT_TRUE(shared_->retrieves.empty());  // no callback left behind
  EXPECT_TRUE(PipeIsEmpty());
}

TEST_F(NotifierTest, FailedRetrieveLeavesNoCallbackBehind) {
  // Writing to a pipe's read end fails with EBADF.
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd write_end(fds[1]);
  shared_->device = std::make_shared<UniqueFd>(fds[0]);
  auto status = notifier_.Retrieve(NodeId(1), 0, 1, [](uint64_t, std::span<const std::byte>) {});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errno(EBADF));
  EXPECT_TRUE(shared_->retrieves.empty());
}

}  // namespace
}  // namespace fusekit
