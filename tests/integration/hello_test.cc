// hello on real mounts: served in-process (HelloFs through the fixture) and
// as the hello binary in a child process, mounted as root with mount(2) and
// as an unprivileged user through fusermount3.
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fusekit/mountinfo.h"
#include "hello_fs.h"
#include "mount_fixture.h"
#include "process_helpers.h"

namespace fusekit::testing {
namespace {

using examples::HelloFs;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr long kFuseSuperMagic = 0x65735546;

// ---------------------------------------------------------------- helpers

// The file's bytes, or "<errno message>" if it cannot be read.
std::string ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "<open: " + std::string(std::strerror(errno)) + ">";
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) return "<read: " + std::string(std::strerror(errno)) + ">";
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

struct MountInfo {
  std::string fstype;
  std::string super_options;  // "rw,user_id=0,group_id=0", ...
  unsigned minor = 0;         // the FUSE connection's number
};

// The topmost mount at `path` (a canonical path), from mountinfo.
std::optional<MountInfo> FindMount(const std::string& path) {
  std::optional<MountInfo> found;
  std::istringstream in(ReadFile("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, field;
    fields >> id >> parent >> dev >> root >> point;
    while (fields >> field && field != "-") {
    }
    if (point != path) continue;  // our temp paths need no unescaping
    MountInfo info;
    std::string source;
    fields >> info.fstype >> source >> info.super_options;
    info.minor = static_cast<unsigned>(std::stoul(dev.substr(dev.find(':') + 1)));
    found = info;
  }
  return found;
}

// stat(2) of `path`, or the errno it failed with. A stat that hangs fails
// the test, and the mount's connection is aborted so that it returns.
int StatErrno(const std::string& path, milliseconds timeout = seconds(5)) {
  auto result = std::async(std::launch::async, [path] {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? 0 : errno;
  });
  if (result.wait_for(timeout) != std::future_status::ready) {
    ADD_FAILURE() << "stat(" << path << ") hangs";
    std::string dir = path.substr(0, path.rfind('/'));
    for (const auto& p : {path, dir}) {
      if (auto m = FindMount(p)) (void)AbortConnection(m->minor);
    }
  }
  return result.get();
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_FALSE(ec) << "listing " << path << ": " << ec.message();
  std::sort(names.begin(), names.end());
  return names;
}

// What each open fd refers to, for a leak report.
std::string DescribeOpenFds() {
  std::string out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    out += "  " + e.path().filename().string() + " -> " +
           std::filesystem::read_symlink(e.path(), ec).string() + "\n";
  }
  return out;
}

// ---------------------------------------------------------------- in-process

TEST(HelloInProcess, ServesTheFileReadOnly) {
  HelloFs fs;
  auto m = InProcessMount::Start(fs);
  ASSERT_NE(m, nullptr);
  const std::string file = m->path() + "/hello";
  EXPECT_TRUE(IsMounted(m->path()));

  EXPECT_EQ(ListDir(m->path()), std::vector<std::string>{"hello"});

  struct stat st;
  ASSERT_EQ(::stat(m->path().c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_ino, 1u);
  ASSERT_EQ(::stat(file.c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0444u);
  EXPECT_EQ(st.st_size, static_cast<off_t>(HelloFs::kContent.size()));
  EXPECT_EQ(st.st_ino, 2u);
  EXPECT_EQ(StatErrno(m->path() + "/missing"), ENOENT);

  EXPECT_EQ(ReadFile(file), HelloFs::kContent);
  // A read past the end and a read in the middle.
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd) << std::strerror(errno);
  char buf[16];
  EXPECT_EQ(::pread(fd.get(), buf, sizeof(buf), 100), 0);
  ASSERT_EQ(::pread(fd.get(), buf, 5, 7), 5);
  EXPECT_EQ(std::string(buf, 5), "World");
  fd.reset();

  struct statvfs vfs;
  ASSERT_EQ(::statvfs(m->path().c_str(), &vfs), 0) << std::strerror(errno);
  EXPECT_EQ(vfs.f_bsize, 4096u);
  EXPECT_EQ(vfs.f_namemax, 255u);
  struct statfs sfs;
  ASSERT_EQ(::statfs(m->path().c_str(), &sfs), 0);
  EXPECT_EQ(sfs.f_type, kFuseSuperMagic);

  for (int flags : {O_WRONLY, O_RDWR, O_WRONLY | O_TRUNC}) {
    UniqueFd w(::open(file.c_str(), flags | O_CLOEXEC));
    int e = errno;
    EXPECT_FALSE(w) << "opening hello for writing (flags " << flags << ") succeeded";
    EXPECT_TRUE(e == EACCES || e == EROFS) << std::strerror(e);
  }
  EXPECT_GT(m->session().stats().count(Opcode::LOOKUP), 0u);
  EXPECT_GT(m->session().stats().count(Opcode::READ), 0u);

  const std::string path = m->path();
  EXPECT_TRUE(m->Stop());
  EXPECT_FALSE(IsMounted(path));
  EXPECT_EQ(ListDir(path), std::vector<std::string>{}) << "the bare mount point is back";
}

TEST(HelloInProcess, MountUnmount50TimesLeaksNoFdOrThread) {
  HelloFs fs;
  {
    // One round first: runtimes start helper threads lazily (ThreadSanitizer
    // its background thread), which are no leak of ours.
    auto warm_up = InProcessMount::Start(fs);
    ASSERT_NE(warm_up, nullptr);
    ASSERT_TRUE(warm_up->Stop());
  }
  const size_t fds = CountOpenFds();
  const size_t threads = CountThreads();
  for (int i = 0; i < 50; ++i) {
    auto m = InProcessMount::Start(fs);
    ASSERT_NE(m, nullptr) << "round " << i;
    ASSERT_EQ(ReadFile(m->path() + "/hello"), HelloFs::kContent) << "round " << i;
    const std::string path = m->path();
    ASSERT_TRUE(m->Stop()) << "round " << i;
    ASSERT_FALSE(IsMounted(path)) << "round " << i;
  }
  // Joined threads leave /proc/self/task a moment after join returns.
  WaitUntil([&] { return CountOpenFds() == fds && CountThreads() == threads; }, seconds(5));
  EXPECT_EQ(CountOpenFds(), fds) << "open now:\n" << DescribeOpenFds();
  EXPECT_EQ(CountThreads(), threads);
}

// A Mount unmounts only its own mount: after umount(2) and another mount at
// the same path, destroying the first Mount leaves the second in place.
TEST(MountObject, UnmountsOnlyItsOwnMountAtThePath) {
  TempDir tmp;
  const std::string path = tmp.Sub("mnt");
  auto first = Mount::Create(path, MountOptions{});
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_EQ(::umount2(path.c_str(), 0), 0) << std::strerror(errno);
  auto second = Mount::Create(path, MountOptions{});
  ASSERT_TRUE(second) << second.error().message();
  auto before = fusekit::FindMount(path);
  ASSERT_TRUE(before);
  EXPECT_TRUE(first->Unmount());
  auto after = fusekit::FindMount(path);
  ASSERT_TRUE(after) << "the first Mount detached the second";
  EXPECT_EQ(after->id, before->id);
  EXPECT_TRUE(second->Unmount());
  EXPECT_FALSE(IsMounted(path));
}

// The fixture's own promise: a session that does not end is aborted through
// fusectl, so that teardown cannot hang, and fusectl is left as it was.
TEST(InProcessMountFixture, StopAbortsASessionThatDoesNotEnd) {
  // Answers READ only when released or after a while: long enough that
  // Stop() gives up waiting for Run, short enough to join afterwards.
  class StuckFs : public HelloFs {
   public:
    void Read(const Context& ctx, const req::Read& in, ReplyData reply) override {
      {
        std::unique_lock lock(mutex_);
        reading_ = true;
        cv_.notify_all();
        cv_.wait_for(lock, seconds(13), [&] { return released_; });
      }
      HelloFs::Read(ctx, in, std::move(reply));
    }
    bool WaitReading() {
      std::unique_lock lock(mutex_);
      return cv_.wait_for(lock, seconds(10), [&] { return reading_; });
    }
    void Release() {
      std::lock_guard lock(mutex_);
      released_ = true;
      cv_.notify_all();
    }

   private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool reading_ = false;
    bool released_ = false;
  };
  auto count_fusectl = [] {
    std::istringstream in(ReadFile("/proc/self/mounts"));
    std::string line;
    int n = 0;
    while (std::getline(in, line)) n += line.rfind("fusectl ", 0) == 0;
    return n;
  };
  const int fusectl_mounts = count_fusectl();

  StuckFs fs;
  auto m = InProcessMount::Start(fs);
  ASSERT_NE(m, nullptr);
  auto read = std::async(std::launch::async, [file = m->path() + "/hello"] {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return errno;
    char c;
    return ::read(fd.get(), &c, 1) == 1 ? 0 : errno;
  });
  // Destroyed first: should an assertion below return early, the stuck READ
  // is answered, so that `read` and `m` are torn down without waiting.
  struct ReleaseOnExit {
    StuckFs& fs;
    ~ReleaseOnExit() { fs.Release(); }
  } release_on_exit{fs};
  ASSERT_TRUE(fs.WaitReading());
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(m->Stop()) << "Stop() should have had to abort";
  EXPECT_GE(std::chrono::steady_clock::now() - start, seconds(10));
  // Aborting failed the stuck read in the kernel.
  ASSERT_EQ(read.wait_for(seconds(5)), std::future_status::ready);
  EXPECT_EQ(read.get(), ENOTCONN);
  EXPECT_EQ(count_fusectl(), fusectl_mounts) << "AbortConnection left fusectl mounts behind";
}

// ---------------------------------------------------------------- child process

class HelloChild : public ::testing::Test {
 protected:
  void SetUp() override {
    hello_ = BinaryPath("hello");
    ASSERT_FALSE(hello_.empty());
    mnt_ = tmp_.Sub("mnt");
  }
  // Starts hello with `args` before the mount point and waits for the mount.
  void StartHello(std::vector<std::string> args = {}) {
    args.insert(args.begin(), hello_);
    args.push_back(mnt_);
    child_ = ChildServer::Start(args, mnt_);
    ASSERT_NE(child_, nullptr);
    ASSERT_TRUE(child_->WaitMounted()) << "hello did not mount: "
                                       << DescribeStatus(child_->WaitExit(milliseconds(0)));
  }

  TempDir tmp_;
  std::string hello_;
  std::string mnt_;
  std::unique_ptr<ChildServer> child_;
};

class HelloStopSignal : public HelloChild, public ::testing::WithParamInterface<int> {};

TEST_P(HelloStopSignal, UnmountsAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(StartHello());
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), HelloFs::kContent);
  child_->Signal(GetParam());
  auto status = child_->WaitExit(seconds(10));
  EXPECT_TRUE(ExitedWith(status, 0)) << DescribeStatus(status);
  EXPECT_FALSE(IsMounted(mnt_));
}

// The signal lands right as the mount appears, before the server has
// necessarily started serving: it must still unmount and exit cleanly.
TEST_P(HelloStopSignal, RightAfterMountingUnmountsAndExitsZero) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_NO_FATAL_FAILURE(StartHello());
    child_->Signal(GetParam());
    auto status = child_->WaitExit(seconds(10));
    EXPECT_TRUE(ExitedWith(status, 0)) << "round " << i << ": " << DescribeStatus(status);
    EXPECT_FALSE(IsMounted(mnt_)) << "round " << i;
    child_.reset();
  }
}

INSTANTIATE_TEST_SUITE_P(Signals, HelloStopSignal, ::testing::Values(SIGTERM, SIGINT, SIGHUP),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(sigabbrev_np(info.param));
                         });

TEST_F(HelloChild, KilledServerLeavesMountThatFailsWithEnotconn) {
  ASSERT_NO_FATAL_FAILURE(StartHello());
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), HelloFs::kContent);
  child_->Signal(SIGKILL);
  auto status = child_->WaitExit(seconds(10));
  ASSERT_TRUE(status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL)
      << DescribeStatus(status);
  EXPECT_TRUE(IsMounted(mnt_)) << "a killed server cannot unmount";

  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(StatErrno(mnt_), ENOTCONN);
  EXPECT_EQ(StatErrno(mnt_ + "/hello"), ENOTCONN);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(2)) << "ENOTCONN is not prompt";

  EXPECT_EQ(::umount2(mnt_.c_str(), MNT_DETACH), 0) << std::strerror(errno);
  EXPECT_FALSE(IsMounted(mnt_));
}

class HelloExternalUnmount : public HelloChild,
                             public ::testing::WithParamInterface<std::string> {};

TEST_P(HelloExternalUnmount, EndsTheServerWithStatusZero) {
  ASSERT_NO_FATAL_FAILURE(StartHello());
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), HelloFs::kContent);
  if (GetParam() == "umount2") {
    ASSERT_EQ(::umount2(mnt_.c_str(), 0), 0) << std::strerror(errno);
  } else {
    if (FindInPath("fusermount3").empty()) GTEST_SKIP() << "no fusermount3 in PATH";
    auto result = RunCommand({"fusermount3", "-u", mnt_});
    ASSERT_TRUE(ExitedWith(result.status, 0))
        << "fusermount3 -u: " << DescribeStatus(result.status) << "\n" << result.output;
  }
  auto status = child_->WaitExit(seconds(10));
  EXPECT_TRUE(ExitedWith(status, 0)) << DescribeStatus(status);
  EXPECT_FALSE(IsMounted(mnt_));
}

INSTANTIATE_TEST_SUITE_P(Tools, HelloExternalUnmount, ::testing::Values("umount2", "fusermount3"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST_F(HelloChild, DebugOutputShowsRequestsAndReplies) {
  ASSERT_NO_FATAL_FAILURE(StartHello({"-d"}));
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), HelloFs::kContent);
  child_->Signal(SIGTERM);
  auto status = child_->WaitExit(seconds(10));
  ASSERT_TRUE(ExitedWith(status, 0)) << DescribeStatus(status);

  // "unique 6 LOOKUP node 1 uid 0 gid 0 pid 42: name="hello"" and
  // "unique 6 LOOKUP -> ok, 128 bytes": pair them by unique id.
  const std::regex request_re(R"(unique (\d+) ([A-Z0-9_]+) node (.*))");
  const std::regex reply_re(R"(unique (\d+) ([A-Z0-9_]+) -> (.*))");
  struct Seen {
    std::string op, request, reply;
  };
  std::map<std::string, Seen> by_unique;
  std::istringstream lines(child_->Output());
  std::string line;
  std::smatch match;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, match, reply_re)) {
      by_unique[match[1]].reply = match[3];
    } else if (std::regex_search(line, match, request_re)) {
      by_unique[match[1]].op = match[2];
      by_unique[match[1]].request = match[3];
    }
  }
  auto answered_ok = [&](const std::string& op, const std::string& detail) {
    for (const auto& [unique, seen] : by_unique) {
      if (seen.op == op && seen.request.find(detail) != std::string::npos &&
          seen.reply.rfind("ok", 0) == 0) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(answered_ok("INIT", "7."));
  EXPECT_TRUE(answered_ok("LOOKUP", "\"hello\""));
  EXPECT_TRUE(answered_ok("READ", ""));
  // On failure the fixture prints what hello said.
}

// As root hello takes auto_unmount through fusermount3 too: its watcher
// unmounts once the server is gone.
TEST_F(HelloChild, AutoUnmountRemovesTheMountOfAKilledServer) {
  if (FindInPath("fusermount3").empty()) GTEST_SKIP() << "no fusermount3 in PATH";
  ASSERT_NO_FATAL_FAILURE(StartHello({"-o", "auto_unmount"}));
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), HelloFs::kContent);
  EXPECT_GT(FindAutoUnmountHelper(mnt_), 0) << "no fusermount3 watching " << mnt_;
  child_->Signal(SIGKILL);
  auto status = child_->WaitExit(seconds(10));
  ASSERT_TRUE(status && WIFSIGNALED(*status)) << DescribeStatus(status);
  EXPECT_TRUE(WaitUntil([&] { return !IsMounted(mnt_); }, seconds(10)))
      << "fusermount3 auto_unmount did not unmount after the server died";
}

TEST_F(HelloChild, UnknownOptionExitsTwoAndMountsNothing) {
  for (const std::string option : {"no_such_option", "max_read=lots", "fsname="}) {
    child_ = ChildServer::Start({hello_, "-o", option, mnt_}, mnt_);
    ASSERT_NE(child_, nullptr);
    auto status = child_->WaitExit(seconds(10));
    EXPECT_TRUE(ExitedWith(status, 2)) << "-o " << option << ": " << DescribeStatus(status);
    EXPECT_NE(child_->Output().find(option), std::string::npos)
        << "the message names the option: " << child_->Output();
    EXPECT_FALSE(IsMounted(mnt_));
  }
}

TEST_F(HelloChild, MissingMountPointExitsNonZeroNamingThePath) {
  const std::string missing = tmp_.path() + "/does-not-exist";
  child_ = ChildServer::Start({hello_, missing}, missing);
  ASSERT_NE(child_, nullptr);
  auto status = child_->WaitExit(seconds(10));
  ASSERT_TRUE(status && WIFEXITED(*status)) << DescribeStatus(status);
  EXPECT_NE(WEXITSTATUS(*status), 0);
  EXPECT_NE(child_->Output().find(missing), std::string::npos) << child_->Output();
  EXPECT_FALSE(IsMounted(missing));
}

// ---------------------------------------------------------------- non-root

// hello run as an unprivileged user mounts through fusermount3 (Mount's
// automatic method when not root).
class HelloNonRoot : public HelloChild {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(HelloChild::SetUp());
    std::string why;
    auto user = UnprivilegedUser::Nobody(&why);
    if (!user) GTEST_SKIP() << why;
    user_ = *user;
    uid_ = user_.uid();
    gid_ = user_.gid();
    // The user must reach the mount point and run the binary: the temp
    // dir is root's 0700, and the build tree may not be readable either.
    ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0) << std::strerror(errno);
    ASSERT_EQ(::chown(mnt_.c_str(), uid_, gid_), 0) << std::strerror(errno);
    hello_ = UnprivilegedUser::CopyExecutable(hello_, tmp_.path());
    ASSERT_FALSE(hello_.empty()) << "cannot copy the hello binary";
  }

  std::vector<std::string> AsUser(std::vector<std::string> argv) const {
    return user_.AsUser(std::move(argv));
  }

  void StartHelloAsUser(std::vector<std::string> options) {
    std::vector<std::string> argv = {hello_};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(mnt_);
    child_ = ChildServer::Start(AsUser(argv), mnt_);
    ASSERT_NE(child_, nullptr);
    ASSERT_TRUE(child_->WaitMounted()) << "hello as uid " << uid_ << " did not mount: "
                                       << DescribeStatus(child_->WaitExit(milliseconds(0)));
    auto mount = FindMount(mnt_);
    ASSERT_TRUE(mount);
    EXPECT_EQ(mount->fstype, "fuse.hello");
    EXPECT_NE(("," + mount->super_options + ",").find(",user_id=" + std::to_string(uid_) + ","),
              std::string::npos)
        << "not mounted as the user: " << mount->super_options;
    // Without allow_other only the user itself may look inside.
    auto cat = RunCommand(AsUser({"cat", mnt_ + "/hello"}));
    EXPECT_TRUE(ExitedWith(cat.status, 0)) << DescribeStatus(cat.status) << ": " << cat.output;
    EXPECT_EQ(cat.output, HelloFs::kContent);
  }

  UnprivilegedUser user_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

TEST_F(HelloNonRoot, MountsThroughFusermountAndUnmountsOnSigterm) {
  ASSERT_NO_FATAL_FAILURE(StartHelloAsUser({}));
  child_->Signal(SIGTERM);
  auto status = child_->WaitExit(seconds(10));
  EXPECT_TRUE(ExitedWith(status, 0)) << DescribeStatus(status);
  EXPECT_FALSE(IsMounted(mnt_));
}

TEST_F(HelloNonRoot, AutoUnmountRemovesTheMountOfAKilledServer) {
  // fusermount3 before libfuse 3.15 checks, as root, that the dead mount
  // answers ENOTCONN before it unmounts: root may look into it only with
  // allow_other (libfuse #586). unprivileged_ns.sh allows it.
  ASSERT_NO_FATAL_FAILURE(
      StartHelloAsUser({"-o", UserAllowOther() ? "auto_unmount,allow_other" : "auto_unmount"}));
  pid_t helper = FindAutoUnmountHelper(mnt_);
  ASSERT_GT(helper, 0) << "no fusermount3 watching " << mnt_;
  child_->Signal(SIGKILL);
  auto status = child_->WaitExit(seconds(10));
  ASSERT_TRUE(status && WIFSIGNALED(*status)) << DescribeStatus(status);
  if (WaitUntil([&] { return !IsMounted(mnt_); }, seconds(10))) return;

  // Still mounted. If the helper still waits, the server's end of its
  // socket outlived the server: ours to fix.
  ASSERT_FALSE(ProcessRunning(helper))
      << "fusermount3 still waits: the socket to it was not closed when the server died";
  // The helper woke and gave up: fusermount3 before libfuse 3.15 checks as
  // root whether the dead mount answers ENOTCONN, and root gets EACCES from
  // a mount without allow_other (libfuse issue #586, fixed by PR #754).
  auto version = RunCommand({"fusermount3", "-V"});
  GTEST_SKIP() << "this fusermount3 cannot auto-unmount an unprivileged mount without "
                  "allow_other (libfuse #586): "
               << version.output;
}

}  // namespace
}  // namespace fusekit::testing
