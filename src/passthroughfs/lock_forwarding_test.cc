// LockForwardingFs over a temp file: owners exclude each other and a
// process using the file directly, a wait ends when the holder lets go or
// when the request is interrupted, FLUSH and RELEASE drop what they
// should, and the session's end answers every wait.
#include "lock_forwarding.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "fusekit/testing/wire.h"

namespace passthroughfs {
namespace {

using fusekit::Context;
using fusekit::FileLock;
using fusekit::NodeId;
using fusekit::Opcode;
using fusekit::ReplyBase;
using fusekit::RequestId;
using fusekit::UniqueFd;
namespace req = fusekit::req;
using namespace std::chrono_literals;

class Below : public fusekit::Operations {
 public:
  void Flush(const Context&, const req::Flush&, fusekit::ReplyEmpty r) override { r.Ok(); }
  void Release(const Context&, const req::Release&, fusekit::ReplyEmpty r) override { r.Ok(); }
};

class LockForwardingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char path[] = "/tmp/lock_forwarding_test.XXXXXX";
    UniqueFd made(::mkstemp(path));
    ASSERT_TRUE(made);
    path_ = path;
    ctx_.header.node = NodeId(5);
  }
  void TearDown() override { ::unlink(path_.c_str()); }

  LockForwardingFs::OpenForLocks Opener() {
    return [this](NodeId node) -> fusekit::Result<UniqueFd> {
      EXPECT_EQ(node, NodeId(5));
      return UniqueFd(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
    };
  }
  ReplyBase Reply(Opcode op) { return ReplyBase(sink_, RequestId(++unique_), op); }

  static req::SetLk Lock(uint64_t owner, uint32_t type, uint64_t start = 0, uint64_t end = 9,
                         bool flock = false) {
    req::SetLk in;
    in.owner = owner;
    in.lock = FileLock{start, end, type, 0};
    in.flock = flock;
    return in;
  }
  int Set(LockForwardingFs& fs, const req::SetLk& in, bool sleep = false) {
    size_t before = sink_->count();
    fs.SetLk(ctx_, in, sleep, fusekit::ReplyEmpty(Reply(sleep ? Opcode::SETLKW : Opcode::SETLK)));
    return sink_->count() == before ? -1 : sink_->replies().back().error;  // -1: waiting
  }
  // The error of the reply to request `unique`, once it came (-1: never).
  int ReplyTo(uint64_t unique, std::chrono::milliseconds within = 2s) {
    auto deadline = std::chrono::steady_clock::now() + within;
    do {
      for (const auto& r : sink_->replies())
        if (r.unique == RequestId(unique)) return r.error;
      std::this_thread::sleep_for(1ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return -1;
  }

  std::string path_;
  Context ctx_;
  Below below_;
  std::shared_ptr<fusekit::testutil::RecordingSink> sink_ =
      std::make_shared<fusekit::testutil::RecordingSink>();
  uint64_t unique_ = 0;
};

TEST_F(LockForwardingTest, OwnersExcludeEachOtherAndAProcessUsingTheFile) {
  LockForwardingFs fs(below_, Opener());
  EXPECT_EQ(Set(fs, Lock(1, F_WRLCK)), 0);
  EXPECT_EQ(Set(fs, Lock(1, F_RDLCK)), 0) << "an owner's own locks never conflict";
  EXPECT_EQ(Set(fs, Lock(2, F_WRLCK)), EAGAIN);
  EXPECT_EQ(Set(fs, Lock(2, F_RDLCK, 5, 9)), 0) << "read locks share";
  EXPECT_EQ(Set(fs, Lock(2, F_WRLCK, 10, 19)), 0) << "another range";
  // Seen by someone using the file directly.
  UniqueFd direct(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_len = 5;
  ASSERT_EQ(::fcntl(direct.get(), F_OFD_GETLK, &probe), 0);
  EXPECT_EQ(probe.l_type, F_RDLCK);
  // GETLK through the layer names the conflicting range.
  req::GetLk ask = Lock(3, F_WRLCK, 0, LLONG_MAX);
  fs.GetLk(ctx_, ask, fusekit::ReplyLock(Reply(Opcode::GETLK)));
  EXPECT_EQ(sink_->replies().back().error, 0);
  EXPECT_EQ(fs.owners(), 2u);
  // Unlocked: owner 2 may now take the range.
  EXPECT_EQ(Set(fs, Lock(1, F_UNLCK)), 0);
  EXPECT_EQ(Set(fs, Lock(2, F_WRLCK)), 0);
  EXPECT_EQ(Set(fs, Lock(1, F_RDLCK, 3, 3)), EAGAIN);
}

TEST_F(LockForwardingTest, AWaitEndsWhenTheHolderClosesTheFile) {
  LockForwardingFs fs(below_, Opener());
  ASSERT_EQ(Set(fs, Lock(1, F_WRLCK)), 0);
  ASSERT_EQ(Set(fs, Lock(2, F_WRLCK), /*sleep=*/true), -1) << "answered at once";
  uint64_t waiting = unique_;
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(ReplyTo(waiting, 0ms), -1);
  // close(2) by owner 1's process: FLUSH drops its POSIX locks.
  req::Flush flush{fusekit::FileHandle(1), /*lock_owner=*/1};
  fs.Flush(ctx_, flush, fusekit::ReplyEmpty(Reply(Opcode::FLUSH)));
  EXPECT_EQ(ReplyTo(waiting), 0);
  EXPECT_EQ(Set(fs, Lock(3, F_RDLCK)), EAGAIN) << "owner 2 holds it now";
}

TEST_F(LockForwardingTest, AnInterruptedWaitAnswersEintr) {
  LockForwardingFs fs(below_, Opener());
  ASSERT_EQ(Set(fs, Lock(1, F_WRLCK)), 0);
  auto flag = std::make_shared<std::atomic<bool>>(false);
  Context waiting_ctx = ctx_;
  waiting_ctx.interrupt_flag = flag;
  fs.SetLk(waiting_ctx, Lock(2, F_WRLCK), true, fusekit::ReplyEmpty(Reply(Opcode::SETLKW)));
  uint64_t waiting = unique_;
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(ReplyTo(waiting, 0ms), -1);
  flag->store(true);
  EXPECT_EQ(ReplyTo(waiting), EINTR);
}

TEST_F(LockForwardingTest, FlockOwnersAndTheReleaseThatUnlocks) {
  LockForwardingFs fs(below_, Opener());
  req::SetLk flock = Lock(7, F_WRLCK, 0, LLONG_MAX, /*flock=*/true);
  flock.fh = fusekit::FileHandle(1);
  EXPECT_EQ(Set(fs, flock), 0);
  UniqueFd direct(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_NE(::flock(direct.get(), LOCK_SH | LOCK_NB), 0) << "not seen on the file";
  EXPECT_EQ(Set(fs, Lock(8, F_RDLCK, 0, LLONG_MAX, true)), EAGAIN);
  // A POSIX lock of the same owner id is another lock altogether.
  req::SetLk posix = Lock(7, F_WRLCK);
  posix.fh = fusekit::FileHandle(2);
  EXPECT_EQ(Set(fs, posix), 0);
  req::Release release;
  release.fh = fusekit::FileHandle(1);
  release.lock_owner = 7;
  release.flock_unlock = true;
  fs.Release(ctx_, release, fusekit::ReplyEmpty(Reply(Opcode::RELEASE)));
  EXPECT_EQ(::flock(direct.get(), LOCK_SH | LOCK_NB), 0);
  // Owner 7's POSIX description stays, and owner 8's until its RELEASE.
  EXPECT_EQ(fs.owners(), 2u);
}

// A caller's F_OFD_SETLK has its open file as owner, which no FLUSH names:
// its locks go when that open file is released.
TEST_F(LockForwardingTest, TheReleaseOfAnOpenFileDropsTheOwnersThatLockedThroughIt) {
  LockForwardingFs fs(below_, Opener());
  req::SetLk ofd = Lock(9, F_WRLCK);
  ofd.fh = fusekit::FileHandle(3);
  ASSERT_EQ(Set(fs, ofd), 0);
  req::SetLk other = Lock(10, F_RDLCK, 20, 29);
  other.fh = fusekit::FileHandle(4);
  ASSERT_EQ(Set(fs, other), 0);
  req::Release release;
  release.fh = fusekit::FileHandle(3);
  fs.Release(ctx_, release, fusekit::ReplyEmpty(Reply(Opcode::RELEASE)));
  EXPECT_EQ(fs.owners(), 1u) << "owner 10 locked through another open file";
  UniqueFd direct(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_len = 10;
  ASSERT_EQ(::fcntl(direct.get(), F_OFD_SETLK, &probe), 0) << "owner 9's lock is gone";
}

// Another thread of the waiting owner's process closes the file while it
// waits: its description goes, and the lock, once granted, is held on a
// new one (as natively: a close before the grant does not undo it).
TEST_F(LockForwardingTest, AWaitGrantedAfterItsOwnerClosedTheFileIsStillHeld) {
  LockForwardingFs fs(below_, Opener());
  ASSERT_EQ(Set(fs, Lock(1, F_WRLCK)), 0);
  ASSERT_EQ(Set(fs, Lock(2, F_WRLCK), /*sleep=*/true), -1);
  uint64_t waiting = unique_;
  req::Flush closed{fusekit::FileHandle(1), /*lock_owner=*/2};
  fs.Flush(ctx_, closed, fusekit::ReplyEmpty(Reply(Opcode::FLUSH)));
  ASSERT_EQ(Set(fs, Lock(1, F_UNLCK)), 0);
  ASSERT_EQ(ReplyTo(waiting), 0);
  EXPECT_EQ(Set(fs, Lock(3, F_RDLCK)), EAGAIN) << "owner 2 holds it";
}

TEST_F(LockForwardingTest, TheEndOfTheSessionAnswersEveryWait) {
  LockForwardingFs fs(below_, Opener());
  ASSERT_EQ(Set(fs, Lock(1, F_WRLCK)), 0);
  ASSERT_EQ(Set(fs, Lock(2, F_WRLCK), true), -1);
  uint64_t waiting = unique_;
  fs.Destroy();
  EXPECT_EQ(ReplyTo(waiting, 0ms), EIO);
  EXPECT_EQ(fs.owners(), 0u);
}

}  // namespace
}  // namespace passthroughfs
