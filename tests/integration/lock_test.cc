// -o lock-forwarding at a real passthroughfs mount: POSIX locks and flock
// taken through the mount and on SOURCE directly exclude each other both
// ways, a close releases, a waiting lock is granted when SOURCE lets go and
// is interrupted by a signal; without the option, locks stay the mount's
// own. With kernel passthrough and with passthrough=never.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "mount_fixture.h"
#include "process_helpers.h"

namespace fusekit::testing {
namespace {

using namespace std::chrono_literals;

// A process that runs `take` (a lock on SOURCE, say), reports its result,
// and holds on (its locks with it) until Release() or destruction.
class Holder {
 public:
  explicit Holder(const std::function<int()>& take) {
    int ready[2], release[2];
    EXPECT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(release, O_CLOEXEC), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only its own two pipe ends: another holder's release end, kept
      // open here, would stop that holder from ever seeing its release.
      for (int fd = 3; fd < 4096; ++fd)
        if (fd != ready[1] && fd != release[0]) ::close(fd);
      char result = static_cast<char>(take());
      (void)!::write(ready[1], &result, 1);
      char byte;
      (void)!::read(release[0], &byte, 1);
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    release_ = release[1];
    char result = -1;
    EXPECT_EQ(::read(ready[0], &result, 1), 1);
    ::close(ready[0]);
    result_ = result;
  }
  ~Holder() { Release(); }
  int result() const { return result_; }
  pid_t pid() const { return pid_; }
  void Release() {
    if (pid_ <= 0) return;
    ::close(release_);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int release_ = -1;
  int result_ = -1;
};

// What `attempt` returns, run once in another process (locks are per
// process: this one's must not count as the other's).
int InOtherProcess(const std::function<int()>& attempt) { return Holder(attempt).result(); }

int PosixLock(const std::string& path, short type, int cmd = F_SETLK) {
  int fd = ::open(path.c_str(), O_RDWR);
  if (fd < 0) return 100;
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_len = 100;
  return ::fcntl(fd, cmd, &fl) == 0 ? 0 : errno;  // fd left open: the lock held
}

int Flock(const std::string& path, int op) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return 100;
  return ::flock(fd, op) == 0 ? 0 : errno;
}

void OnAlarm(int) {}

class LockMount : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounts as root";
    source_ = tmp_.Sub("source");
    mnt_ = tmp_.Sub("mnt");
    std::ofstream(source_ + "/file") << "0123456789";
  }
  void Mount(const std::string& options) {
    child_ = ChildServer::Start(
        {BinaryPath("passthroughfs"), "-f", "-o", options + "," + GetParam(), source_, mnt_}, mnt_);
    ASSERT_NE(child_, nullptr);
    ASSERT_TRUE(child_->WaitMounted()) << child_->Output();
  }
  std::string S() const { return source_ + "/file"; }
  std::string M() const { return mnt_ + "/file"; }

  TempDir tmp_;
  std::string source_, mnt_;
  std::unique_ptr<ChildServer> child_;
};

TEST_P(LockMount, APosixLockOnSourceExcludesTheMountAndGetlkNamesItsHolder) {
  ASSERT_NO_FATAL_FAILURE(Mount("lock-forwarding"));
  Holder holder([&] { return PosixLock(S(), F_WRLCK); });
  ASSERT_EQ(holder.result(), 0);
  int fd = ::open(M().c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  struct flock fl {};
  fl.l_type = F_RDLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 10;
  fl.l_len = 10;
  EXPECT_NE(::fcntl(fd, F_SETLK, &fl), 0);
  EXPECT_TRUE(errno == EAGAIN || errno == EACCES) << std::strerror(errno);
  struct flock probe = fl;
  ASSERT_EQ(::fcntl(fd, F_GETLK, &probe), 0) << std::strerror(errno);
  EXPECT_EQ(probe.l_type, F_WRLCK);
  EXPECT_EQ(probe.l_pid, holder.pid());
  EXPECT_EQ(probe.l_start, 0);
  EXPECT_EQ(probe.l_len, 100);
  holder.Release();
  EXPECT_EQ(::fcntl(fd, F_SETLK, &fl), 0) << std::strerror(errno);
  ::close(fd);
}

TEST_P(LockMount, ALockThroughTheMountExcludesSourceUntilClosed) {
  ASSERT_NO_FATAL_FAILURE(Mount("lock-forwarding"));
  int fd = ::open(M().c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_len = 50;
  ASSERT_EQ(::fcntl(fd, F_SETLK, &fl), 0) << std::strerror(errno);
  int busy = InOtherProcess([&] { return PosixLock(S(), F_RDLCK); });
  EXPECT_TRUE(busy == EAGAIN || busy == EACCES) << busy;
  // Another process through the mount is excluded as well.
  busy = InOtherProcess([&] { return PosixLock(M(), F_RDLCK); });
  EXPECT_TRUE(busy == EAGAIN || busy == EACCES) << busy;
  // close(2) releases this process's locks, as natively.
  ::close(fd);
  EXPECT_EQ(InOtherProcess([&] { return PosixLock(S(), F_WRLCK); }), 0);
}

// F_OFD_SETLK's owner is the open file, which FLUSH never names: its lock
// goes when that open file is released.
TEST_P(LockMount, AnOpenFileDescriptionLockGoesWithItsFile) {
  ASSERT_NO_FATAL_FAILURE(Mount("lock-forwarding"));
  int fd = ::open(M().c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_len = 10;
  ASSERT_EQ(::fcntl(fd, F_OFD_SETLK, &fl), 0) << std::strerror(errno);
  int busy = InOtherProcess([&] { return PosixLock(S(), F_RDLCK); });
  EXPECT_TRUE(busy == EAGAIN || busy == EACCES) << busy;
  ::close(fd);
  // RELEASE comes after close(2) returns.
  int after = EAGAIN;
  for (int i = 0; i < 100 && after != 0; ++i) {
    after = InOtherProcess([&] { return PosixLock(S(), F_WRLCK); });
    if (after != 0) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(after, 0);
}

TEST_P(LockMount, FlockExcludesBothWays) {
  ASSERT_NO_FATAL_FAILURE(Mount("lock-forwarding"));
  {
    Holder holder([&] { return Flock(S(), LOCK_EX); });
    ASSERT_EQ(holder.result(), 0);
    EXPECT_EQ(InOtherProcess([&] { return Flock(M(), LOCK_SH | LOCK_NB); }), EWOULDBLOCK);
  }
  int fd = ::open(M().c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0) << std::strerror(errno);
  EXPECT_EQ(InOtherProcess([&] { return Flock(S(), LOCK_SH | LOCK_NB); }), EWOULDBLOCK);
  ::close(fd);  // the last close of the open file: RELEASE unlocks it
  EXPECT_EQ(InOtherProcess([&] { return Flock(S(), LOCK_EX | LOCK_NB); }), 0);
}

TEST_P(LockMount, AWaitingLockIsGrantedWhenSourceLetsGo) {
  ASSERT_NO_FATAL_FAILURE(Mount("lock-forwarding"));
  Holder holder([&] { return PosixLock(S(), F_WRLCK); });
  ASSERT_EQ(holder.result(), 0);
  auto waited = std::async(std::launch::async, [&] { return PosixLock(M(), F_WRLCK, F_SETLKW); });
  EXPECT_EQ(waited.wait_for(300ms), std::future_status::timeout) << "not a wait";
  holder.Release();
  ASSERT_EQ(waited.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(waited.get(), 0);
}

// A signal ends the wait (EINTR): the kernel sends INTERRUPT, which must
// reach a request the daemon answers from its waiter thread.
TEST_P(LockMount, AWaitingLockIsInterruptedByASignal) {
  ASSERT_NO_FATAL_FAILURE(Mount("lock-forwarding"));
  Holder holder([&] { return PosixLock(S(), F_WRLCK); });
  ASSERT_EQ(holder.result(), 0);
  auto result = std::async(std::launch::async, [&] {
    return InOtherProcess([&] {
      struct sigaction sa {};
      sa.sa_handler = OnAlarm;  // no SA_RESTART
      ::sigaction(SIGALRM, &sa, nullptr);
      ::alarm(1);
      return PosixLock(M(), F_WRLCK, F_SETLKW);
    });
  });
  // Should the interrupt be lost, the wait ends when SOURCE lets go (0),
  // not never: the test fails instead of hanging.
  if (result.wait_for(5s) != std::future_status::ready) holder.Release();
  EXPECT_EQ(result.get(), EINTR);
}

// Without the option the kernel keeps locks for the mount alone.
TEST_P(LockMount, WithoutForwardingLocksStayTheMounts) {
  ASSERT_NO_FATAL_FAILURE(Mount("rw"));
  Holder holder([&] { return PosixLock(S(), F_WRLCK); });
  ASSERT_EQ(holder.result(), 0);
  EXPECT_EQ(InOtherProcess([&] { return PosixLock(M(), F_WRLCK); }), 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, LockMount, ::testing::Values("passthrough=auto", "passthrough=never"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           return std::string(p.param) == "passthrough=auto" ? "Passthrough"
                                                                              : "PassthroughNever";
                         });

}  // namespace
}  // namespace fusekit::testing
