// The passthroughfs binary as users run it: -f and its startup line,
// daemon mode, signals, bad arguments, mount(8) through Debian's mount.fuse3
// and an fstab line, and the -o options that change what the mount does.
//
// Every server runs as a child process with a bounded wait; a daemon (which
// is not our child) is found by scanning /proc and SIGKILLed in teardown,
// and every mount below the test's temp dir is detached lazily.
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fusekit/mountinfo.h"

#include "mount_fixture.h"

namespace {

using fusekit::UniqueFd;
using fusekit::testing::BinaryPath;
using fusekit::testing::ChildServer;
using fusekit::testing::IsMounted;
using fusekit::testing::TempDir;
using fusekit::testing::WaitUntil;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kTimeout = seconds(10);
constexpr char kContent[] = "hello through passthroughfs\n";

// -1 while running (or never started), the exit code, or 128 + signal.
int ExitCode(const std::optional<int>& status) {
  if (!status) return -1;
  if (WIFEXITED(*status)) return WEXITSTATUS(*status);
  if (WIFSIGNALED(*status)) return 128 + WTERMSIG(*status);
  return -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "<cannot open " + path + ": " + std::strerror(errno) + ">";
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

size_t CountLines(const std::string& text, const std::string& needle) {
  size_t n = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) n += line.find(needle) != std::string::npos;
  return n;
}

std::vector<std::string> Cmdline(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::vector<std::string> args;
  std::string arg;
  while (std::getline(in, arg, '\0')) args.push_back(arg);
  return args;
}

// Alive and not a zombie.
bool IsRunning(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return false;
  auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// Running processes (not this one) with an argument equal to or containing
// `needle`; with `program`, only those whose argv[0] ends in it.
std::vector<pid_t> FindProcesses(const std::string& needle, const std::string& program = "",
                                 bool exact_arg = false) {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  while (dirent* e = ::readdir(proc)) {
    char* end;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == ::getpid()) continue;
    auto args = Cmdline(static_cast<pid_t>(pid));
    if (args.empty()) continue;
    if (!program.empty()) {
      const std::string& a0 = args[0];
      auto slash = a0.rfind('/');
      if ((slash == std::string::npos ? a0 : a0.substr(slash + 1)) != program) continue;
    }
    bool match = std::any_of(args.begin() + 1, args.end(), [&](const std::string& a) {
      return exact_arg ? a == needle : a.find(needle) != std::string::npos;
    });
    if (match && IsRunning(static_cast<pid_t>(pid))) found.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  return found;
}

// The passthroughfs daemon serving `mountpoint`: its pid, if exactly one.
std::optional<pid_t> FindDaemon(const std::string& mountpoint) {
  auto pids = FindProcesses(mountpoint, "passthroughfs", /*exact_arg=*/true);
  if (pids.size() != 1) return std::nullopt;
  return pids[0];
}

bool WaitGone(pid_t pid) {
  return WaitUntil([&] { return !IsRunning(pid); }, kTimeout);
}

// Kills (SIGKILL) whatever still runs with `token` (the test's temp dir) in
// its arguments, daemons included, then detaches the given mount points.
// Declared after the TempDir, so that it runs before the TempDir cleans up.
class Reaper {
 public:
  explicit Reaper(std::string token) : token_(std::move(token)) {}
  void AddMountpoint(const std::string& path) { mountpoints_.push_back(path); }
  ~Reaper() {
    for (pid_t pid : FindProcesses(token_)) {
      ADD_FAILURE() << "left running, killed: pid " << pid << " " << ::testing::PrintToString(Cmdline(pid));
      ::kill(pid, SIGKILL);
      WaitGone(pid);
    }
    for (auto& m : mountpoints_) {
      // umount(8) first: it also drops what mount(8) noted in
      // /run/mount/utab for the mount (_netdev, x-*).
      if (IsMounted(m)) {
        auto umount = ChildServer::Start({"umount", "-l", m}, "");
        if (umount) umount->WaitExit(kTimeout);
      }
      for (int i = 0; i < 4 && IsMounted(m); ++i) ::umount2(m.c_str(), MNT_DETACH);
    }
  }

 private:
  std::string token_;
  std::vector<std::string> mountpoints_;
};

// Runs a command to its end (bounded) and returns its exit code and output.
// With `mountpoint`, whatever is mounted there is detached before returning
// (for commands that must not mount).
struct CommandResult {
  int code = -1;
  std::string output;
};
CommandResult RunCommand(std::vector<std::string> argv, const std::string& mountpoint = "") {
  CommandResult result;
  auto child = ChildServer::Start(std::move(argv), mountpoint);
  if (!child) return result;
  result.code = ExitCode(child->WaitExit(kTimeout));
  result.output = child->Output();
  return result;
}

bool HasOption(const std::string& list, const std::string& option) {
  std::istringstream items(list);
  std::string item;
  while (std::getline(items, item, ','))
    if (item == option) return true;
  return false;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = BinaryPath("passthroughfs");
    ASSERT_FALSE(binary_.empty());
    source_ = tmp_.Sub("source");
    mnt_ = tmp_.Sub("mnt");
    WriteFile(source_ + "/hello", kContent);
    reaper_.AddMountpoint(mnt_);
  }

  // passthroughfs [args...] SOURCE MOUNTPOINT, as a child.
  std::unique_ptr<ChildServer> Start(std::vector<std::string> args) {
    args.insert(args.begin(), binary_);
    args.push_back(source_);
    args.push_back(mnt_);
    return ChildServer::Start(args, mnt_);
  }

  // Starts it with -f, waits for the mount and the startup line.
  std::unique_ptr<ChildServer> StartForeground(std::vector<std::string> args) {
    args.insert(args.begin(), "-f");
    auto server = Start(args);
    if (!server) return nullptr;
    EXPECT_TRUE(server->WaitMounted()) << server->Output();
    EXPECT_TRUE(WaitUntil([&] { return server->Output().find(" on ") != std::string::npos; },
                          kTimeout))
        << server->Output();
    return server;
  }

  // SIGTERM, exit 0, unmounted.
  void StopCleanly(ChildServer& server, int sig = SIGTERM) {
    server.Signal(sig);
    EXPECT_EQ(ExitCode(server.WaitExit(kTimeout)), 0) << server.Output();
    EXPECT_FALSE(IsMounted(mnt_));
  }

  TempDir tmp_;
  Reaper reaper_{tmp_.path()};
  std::string binary_;
  std::string source_;
  std::string mnt_;
};

// ---------------------------------------------------------------- -f

TEST_F(CliTest, ForegroundSaysPassthroughIsActive) {
  auto server = StartForeground({});
  ASSERT_TRUE(server);
  std::string out = server->Output();
  EXPECT_EQ(CountLines(out, "passthrough"), 1u) << out;
  EXPECT_EQ(CountLines(out, source_ + " on " + mnt_ + ": kernel passthrough active"), 1u) << out;
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent);
  StopCleanly(*server);
}

TEST_F(CliTest, PassthroughNeverSaysOffAndWhy) {
  auto server = StartForeground({"-o", "passthrough=never"});
  ASSERT_TRUE(server);
  std::string out = server->Output();
  EXPECT_EQ(CountLines(out, "passthrough"), 1u) << out;
  EXPECT_EQ(CountLines(out, "kernel passthrough off: turned off (-o passthrough=never)"), 1u)
      << out;
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent);
  StopCleanly(*server);
}

TEST_F(CliTest, PassthroughAlwaysStartsWhenPassthroughWorks) {
  auto server = StartForeground({"-o", "passthrough=always"});
  ASSERT_TRUE(server);
  EXPECT_EQ(CountLines(server->Output(), "kernel passthrough active"), 1u) << server->Output();
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent);
  StopCleanly(*server);
}

TEST_F(CliTest, SingleThreadedServes) {
  auto server = StartForeground({"-s"});
  ASSERT_TRUE(server);
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent);
  WriteFile(mnt_ + "/new", "written\n");
  EXPECT_EQ(ReadFile(source_ + "/new"), "written\n");
  ASSERT_EQ(::mkdir((mnt_ + "/dir").c_str(), 0755), 0) << std::strerror(errno);
  for (int i = 0; i < 20; ++i) WriteFile(mnt_ + "/dir/f" + std::to_string(i), "x");
  DIR* dir = ::opendir((mnt_ + "/dir").c_str());
  ASSERT_NE(dir, nullptr);
  int entries = 0;
  while (::readdir(dir) != nullptr) ++entries;
  ::closedir(dir);
  EXPECT_EQ(entries, 22);
  // One worker besides the thread that runs the session, and the thread
  // that watches SOURCE.
  DIR* tasks = ::opendir(("/proc/" + std::to_string(server->pid()) + "/task").c_str());
  ASSERT_NE(tasks, nullptr);
  int threads = 0;
  while (dirent* e = ::readdir(tasks)) threads += e->d_name[0] != '.';
  ::closedir(tasks);
  // ThreadSanitizer runs a background thread of its own.
#if defined(__SANITIZE_THREAD__)
  constexpr int kRuntimeThreads = 1;
#else
  constexpr int kRuntimeThreads = 0;
#endif
  EXPECT_LE(threads, 3 + kRuntimeThreads);
  StopCleanly(*server);
}

// ---------------------------------------------------------------- signals

class CliSignalTest : public CliTest, public ::testing::WithParamInterface<int> {};

TEST_P(CliSignalTest, UnmountsAndExitsZero) {
  auto server = StartForeground({});
  ASSERT_TRUE(server);
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent);
  StopCleanly(*server, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Signals, CliSignalTest, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const auto& info) { return std::string(sigabbrev_np(info.param)); });

// A stop signal that lands while it is still starting (before, during or
// just after mount(2)) must never leave a mount behind.
TEST_F(CliTest, SignalDuringStartupLeavesNoMount) {
  for (int i = 0; i < 60; ++i) {
    auto server = Start({"-f"});
    ASSERT_TRUE(server);
    // Spread over the first few milliseconds, where it parses and mounts.
    std::this_thread::sleep_for(std::chrono::microseconds(100 * i));
    server->Signal(i % 2 ? SIGINT : SIGTERM);
    int code = ExitCode(server->WaitExit(kTimeout));
    // Killed by the signal before it blocked it (nothing mounted yet), or
    // it took the signal and unmounted.
    EXPECT_TRUE(code == 0 || code == 128 + SIGINT || code == 128 + SIGTERM)
        << code << "\n" << server->Output();
    EXPECT_FALSE(IsMounted(mnt_)) << "iteration " << i << "\n" << server->Output();
  }
}

// ---------------------------------------------------------------- daemon mode

TEST_F(CliTest, DaemonReturnsOnceReadyAndUmountEndsIt) {
  auto start = Start({});
  ASSERT_TRUE(start);
  ASSERT_EQ(ExitCode(start->WaitExit(kTimeout)), 0) << start->Output();
  // Ready as soon as the command returned: no waiting.
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent);
  EXPECT_EQ(start->Output(), "");  // quiet without -f
  auto daemon = FindDaemon(mnt_);
  ASSERT_TRUE(daemon) << "no single passthroughfs process serving " << mnt_;
  EXPECT_NE(*daemon, start->pid());
  // It let go of the caller's output, or a caller reading it to EOF would hang.
  char target[PATH_MAX] = {};
  ASSERT_GT(::readlink(("/proc/" + std::to_string(*daemon) + "/fd/2").c_str(), target,
                       sizeof(target) - 1),
            0);
  EXPECT_STREQ(target, "/dev/null");
  // Keeps serving.
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_TRUE(IsRunning(*daemon));
  WriteFile(mnt_ + "/later", "later\n");
  EXPECT_EQ(ReadFile(source_ + "/later"), "later\n");

  auto umount = RunCommand({"umount", mnt_});
  EXPECT_EQ(umount.code, 0) << umount.output;
  EXPECT_TRUE(WaitGone(*daemon)) << "the daemon did not exit after umount";
  EXPECT_FALSE(IsMounted(mnt_));
}

TEST_F(CliTest, FusermountUEndsTheDaemon) {
  auto start = Start({});
  ASSERT_TRUE(start);
  ASSERT_EQ(ExitCode(start->WaitExit(kTimeout)), 0) << start->Output();
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent);
  auto daemon = FindDaemon(mnt_);
  ASSERT_TRUE(daemon);
  auto unmount = RunCommand({"fusermount3", "-u", mnt_});
  EXPECT_EQ(unmount.code, 0) << unmount.output;
  EXPECT_TRUE(WaitGone(*daemon)) << "the daemon did not exit after fusermount3 -u";
  EXPECT_FALSE(IsMounted(mnt_));
}

// umount, then another daemon mounts at once at the same path, and only
// then the first one exits: it must leave the newcomer mounted. (Stopped
// with SIGSTOP until the second mount is up, so the order is certain.)
TEST_F(CliTest, ExitingDaemonLeavesTheNextMountAtItsPathAlone) {
  auto first = Start({"-f"});
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->WaitMounted()) << first->Output();
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent);
  first->Signal(SIGSTOP);
  // umount2 itself: umount(8) would stat the mount point and wait for the
  // stopped daemon.
  ASSERT_EQ(::umount2(mnt_.c_str(), 0), 0) << std::strerror(errno);
  WriteFile(source_ + "/second", "served by the second daemon\n");
  auto second = Start({"-f"});
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->WaitMounted()) << second->Output();
  ASSERT_EQ(ReadFile(mnt_ + "/second"), "served by the second daemon\n");
  ASSERT_FALSE(first->WaitExit(milliseconds(0))) << "the first daemon exited before the second mounted";
  auto second_mount = fusekit::FindMount(mnt_);
  ASSERT_TRUE(second_mount);

  first->Signal(SIGCONT);  // its worker now reads ENODEV: the first mount is gone
  EXPECT_EQ(ExitCode(first->WaitExit(kTimeout)), 0) << first->Output();
  auto now = fusekit::FindMount(mnt_);
  ASSERT_TRUE(now) << "the first daemon's exit unmounted the second daemon's mount";
  EXPECT_EQ(now->id, second_mount->id);
  EXPECT_EQ(ReadFile(mnt_ + "/second"), "served by the second daemon\n");
  StopCleanly(*second);
}

// The daemon changes its directory to /: relative paths given on the
// command line must still be unmounted by a SIGTERM.
TEST_F(CliTest, DaemonWithRelativePathsUnmountsOnSigterm) {
  char cwd[PATH_MAX];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  // Relative, yet unique to this test: "fusekit-test.XXXXXX/mnt" from /tmp.
  std::string parent = tmp_.path().substr(0, tmp_.path().rfind('/'));
  std::string base = tmp_.path().substr(parent.size() + 1);
  std::string relative_mnt = base + "/mnt";
  ASSERT_EQ(::chdir(parent.c_str()), 0);
  auto start = ChildServer::Start({binary_, base + "/source", relative_mnt}, mnt_);
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_TRUE(start);
  ASSERT_EQ(ExitCode(start->WaitExit(kTimeout)), 0) << start->Output();
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent);
  // The fsname is the absolute source.
  auto info = fusekit::FindMount(mnt_);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->source, source_);
  EXPECT_EQ(info->fstype, "fuse.passthroughfs");
  auto daemons = FindProcesses(relative_mnt, "passthroughfs", /*exact_arg=*/true);
  ASSERT_EQ(daemons.size(), 1u);
  ::kill(daemons[0], SIGTERM);
  EXPECT_TRUE(WaitGone(daemons[0]));
  EXPECT_FALSE(IsMounted(mnt_)) << "SIGTERM left the mount behind";
}

// ---------------------------------------------------------------- bad arguments

class CliBadArgumentsTest : public CliTest {
 protected:
  // Runs passthroughfs with `args` (daemon mode, so that a wrong success
  // would return too) and expects exit 2, one line naming `named`, and
  // nothing mounted or left running.
  void ExpectRefused(std::vector<std::string> args, const std::string& named) {
    args.insert(args.begin(), binary_);
    auto result = RunCommand(args, mnt_);
    EXPECT_EQ(result.code, 2) << result.output;
    EXPECT_EQ(CountLines(result.output, ""), 1u) << result.output;
    EXPECT_NE(result.output.find(named), std::string::npos) << result.output;
    EXPECT_EQ(result.output.rfind("passthroughfs: ", 0), 0u) << result.output;
    EXPECT_FALSE(IsMounted(mnt_));
    EXPECT_TRUE(FindProcesses(tmp_.path(), "passthroughfs").empty());
  }
};

TEST_F(CliBadArgumentsTest, MissingSource) {
  ExpectRefused({tmp_.path() + "/nope", mnt_}, "SOURCE " + tmp_.path() + "/nope");
}

TEST_F(CliBadArgumentsTest, SourceNotADirectory) {
  ExpectRefused({source_ + "/hello", mnt_}, "SOURCE " + source_ + "/hello: not a directory");
}

TEST_F(CliBadArgumentsTest, MissingMountpoint) {
  ExpectRefused({source_, tmp_.path() + "/nope"}, "MOUNTPOINT " + tmp_.path() + "/nope");
}

TEST_F(CliBadArgumentsTest, MountpointInsideSource) {
  std::string inside = source_ + "/sub";
  ASSERT_EQ(::mkdir(inside.c_str(), 0755), 0);
  ExpectRefused({source_, inside}, "MOUNTPOINT " + inside + " is inside SOURCE");
}

TEST_F(CliBadArgumentsTest, UnknownOption) {
  ExpectRefused({"-o", "ro,bogus_option", source_, mnt_}, "unknown option -o bogus_option");
  ExpectRefused({"-o", "passthrough=sometimes", source_, mnt_}, "-o passthrough=sometimes");
  ExpectRefused({"-o", "writeback", source_, mnt_}, "writeback");
}

TEST_F(CliBadArgumentsTest, MountpointNotEmptyUnlessNonempty) {
  WriteFile(mnt_ + "/already-here", "x");
  ExpectRefused({source_, mnt_}, "MOUNTPOINT " + mnt_ + ": not empty (use -o nonempty");
  // With -o nonempty it mounts over it.
  auto server = StartForeground({"-o", "nonempty"});
  ASSERT_TRUE(server);
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent);
  EXPECT_NE(::access((mnt_ + "/already-here").c_str(), F_OK), 0);
  StopCleanly(*server);
  EXPECT_EQ(::access((mnt_ + "/already-here").c_str(), F_OK), 0);
}

TEST_F(CliBadArgumentsTest, MountpointBusy) {
  auto first = StartForeground({});
  ASSERT_TRUE(first);
  auto second = RunCommand({binary_, "-o", "nonempty", source_, mnt_});
  EXPECT_EQ(second.code, 2) << second.output;
  EXPECT_EQ(CountLines(second.output, ""), 1u) << second.output;
  EXPECT_NE(second.output.find("MOUNTPOINT " + mnt_ + ": busy"), std::string::npos)
      << second.output;
  // The first one is untouched.
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent);
  StopCleanly(*first);
}

// ---------------------------------------------------------------- -o options

TEST_F(CliTest, ReadOnlyRefusesWrites) {
  auto server = StartForeground({"-o", "ro"});
  ASSERT_TRUE(server);
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent);
  int fd = ::open((mnt_ + "/hello").c_str(), O_WRONLY | O_CLOEXEC);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(errno, EROFS);
  if (fd >= 0) ::close(fd);
  fd = ::open((mnt_ + "/new").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(errno, EROFS);
  if (fd >= 0) ::close(fd);
  EXPECT_EQ(::mkdir((mnt_ + "/dir").c_str(), 0755), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(::unlink((mnt_ + "/hello").c_str()), -1);
  EXPECT_EQ(errno, EROFS);
  auto info = fusekit::FindMount(mnt_);
  ASSERT_TRUE(info);
  EXPECT_TRUE(HasOption(info->mount_options, "ro")) << info->mount_options;
  StopCleanly(*server);
}

TEST_F(CliTest, AllowOtherTurnsDefaultPermissionsOn) {
  {
    auto server = StartForeground({"-o", "allow_other"});
    ASSERT_TRUE(server);
    auto info = fusekit::FindMount(mnt_);
    ASSERT_TRUE(info);
    EXPECT_TRUE(HasOption(info->super_options, "allow_other")) << info->super_options;
    EXPECT_TRUE(HasOption(info->super_options, "default_permissions")) << info->super_options;
    StopCleanly(*server);
  }
  {
    auto server = StartForeground({"-o", "allow_other,no_default_permissions"});
    ASSERT_TRUE(server);
    auto info = fusekit::FindMount(mnt_);
    ASSERT_TRUE(info);
    EXPECT_TRUE(HasOption(info->super_options, "allow_other")) << info->super_options;
    EXPECT_FALSE(HasOption(info->super_options, "default_permissions")) << info->super_options;
    StopCleanly(*server);
  }
}

TEST_F(CliTest, FsnameShowsInMountTable) {
  auto server = StartForeground({"-o", "fsname=mydata"});
  ASSERT_TRUE(server);
  auto info = fusekit::FindMount(mnt_);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->source, "mydata");
  EXPECT_EQ(info->fstype, "fuse.passthroughfs");
  StopCleanly(*server);
}

// ---------------------------------------------------------------- mount(8)

// mount(8) runs /sbin/mount.fuse3 for type fuse.passthroughfs, which runs
// `/bin/sh -c "'passthroughfs' SOURCE MOUNTPOINT -o ..."`. mount(8) drops
// PATH from the environment (util-linux's sanitize_env), so the shell
// searches its default PATH, which starts with /usr/local/sbin. The test
// enters a private mount namespace and binds a directory holding a
// `passthroughfs` symlink to the built binary over /usr/local/sbin there;
// nothing outside the namespace changes. Leaving it (setns) restores the
// test's own view; the namespace and its mounts go away with the last
// process in it, which teardown kills if need be.
class PrivateMountNamespace {
 public:
  // Fails the test and returns false if it cannot.
  bool Enter() {
    original_.reset(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    cwd_.reset(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!original_ || !cwd_) {
      ADD_FAILURE() << "open /proc/self/ns/mnt: " << std::strerror(errno);
      return false;
    }
    if (::unshare(CLONE_NEWNS) != 0) {
      ADD_FAILURE() << "unshare(CLONE_NEWNS): " << std::strerror(errno);
      return false;
    }
    entered_ = true;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      ADD_FAILURE() << "making / private: " << std::strerror(errno);
      return false;
    }
    return true;
  }
  ~PrivateMountNamespace() {
    if (!entered_) return;
    if (::setns(original_.get(), CLONE_NEWNS) != 0) {
      ADD_FAILURE() << "setns back to the original mount namespace: " << std::strerror(errno);
    }
    if (::fchdir(cwd_.get()) != 0) ADD_FAILURE() << "fchdir: " << std::strerror(errno);
  }

 private:
  UniqueFd original_;
  UniqueFd cwd_;
  bool entered_ = false;
};

class CliMountCommandTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (HasFatalFailure()) return;
    ns_reaper_.AddMountpoint(mnt_);
    std::string bin = tmp_.Sub("bin");
    ASSERT_EQ(::symlink(binary_.c_str(), (bin + "/passthroughfs").c_str()), 0);
    ASSERT_TRUE(ns_.Enter());
    ASSERT_EQ(::mount(bin.c_str(), "/usr/local/sbin", nullptr, MS_BIND, nullptr), 0)
        << std::strerror(errno);
  }

  // The mount is up and serves; `umount` ends the daemon.
  void ExpectServesThenUmount(const CommandResult& mounted) {
    ASSERT_EQ(mounted.code, 0) << mounted.output;
    EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent);
    auto info = fusekit::FindMount(mnt_);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->fstype, "fuse.passthroughfs");
    EXPECT_EQ(info->source, source_);
    EXPECT_TRUE(HasOption(info->super_options, "allow_other")) << info->super_options;
    EXPECT_TRUE(HasOption(info->super_options, "default_permissions")) << info->super_options;
    auto daemon = FindDaemon(mnt_);
    ASSERT_TRUE(daemon) << "no single passthroughfs process serving " << mnt_;
    auto umount = RunCommand({"umount", mnt_});
    EXPECT_EQ(umount.code, 0) << umount.output;
    EXPECT_TRUE(WaitGone(*daemon)) << "the daemon did not exit after umount";
    EXPECT_FALSE(IsMounted(mnt_));
  }

  // Destroyed before the Reaper (declared in CliTest): kill and detach
  // run inside the namespace first, then it is left.
  PrivateMountNamespace ns_;
  Reaper ns_reaper_{tmp_.path()};
};

TEST_F(CliMountCommandTest, MountTypeFusePassthroughfs) {
  auto mounted = RunCommand({"mount", "-t", "fuse.passthroughfs", source_, mnt_, "-o",
                      "allow_other,passthrough=auto"});
  ExpectServesThenUmount(mounted);
}

TEST_F(CliMountCommandTest, FstabLine) {
  std::string fstab = tmp_.path() + "/fstab";
  WriteFile(fstab, "# an alternative fstab (mount -T); the real /etc/fstab is never touched\n" +
                       source_ + " " + mnt_ +
                       " fuse.passthroughfs defaults,allow_other,passthrough=auto,noauto,nofail,"
                       "_netdev,x-systemd.automount 0 0\n");
  auto mounted = RunCommand({"mount", "-T", fstab, mnt_});
  ExpectServesThenUmount(mounted);
}

// `mount -o remount,ro` and back: mount(8) runs the helper with "remount";
// the same daemon keeps serving, writes fail with EROFS in between.
TEST_F(CliMountCommandTest, RemountReadOnlyAndBack) {
  auto mounted = RunCommand({"mount", "-t", "fuse.passthroughfs", source_, mnt_, "-o",
                             "allow_other,noatime"});
  ASSERT_EQ(mounted.code, 0) << mounted.output;
  auto daemon = FindDaemon(mnt_);
  ASSERT_TRUE(daemon);
  WriteFile(mnt_ + "/before", "rw\n");
  EXPECT_EQ(ReadFile(source_ + "/before"), "rw\n");

  auto ro = RunCommand({"mount", "-o", "remount,ro", mnt_});
  ASSERT_EQ(ro.code, 0) << ro.output;
  auto info = fusekit::FindMount(mnt_);
  ASSERT_TRUE(info);
  EXPECT_TRUE(HasOption(info->mount_options, "ro")) << info->mount_options;
  EXPECT_TRUE(HasOption(info->mount_options, "noatime")) << "kept: " << info->mount_options;
  errno = 0;
  EXPECT_EQ(::open((mnt_ + "/during").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(::unlink((mnt_ + "/before").c_str()), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(ReadFile(mnt_ + "/hello"), kContent) << "still serves reads";

  auto rw = RunCommand({"mount", "-o", "remount,rw,nosuid", mnt_});
  ASSERT_EQ(rw.code, 0) << rw.output;
  info = fusekit::FindMount(mnt_);
  ASSERT_TRUE(info);
  EXPECT_TRUE(HasOption(info->mount_options, "rw")) << info->mount_options;
  EXPECT_TRUE(HasOption(info->mount_options, "nosuid")) << info->mount_options;
  WriteFile(mnt_ + "/after", "rw again\n");
  EXPECT_EQ(ReadFile(source_ + "/after"), "rw again\n");
  EXPECT_EQ(FindDaemon(mnt_), daemon) << "the same daemon serves throughout";
  ExpectServesThenUmount(CommandResult{0, ""});
}

TEST_F(CliMountCommandTest, RemountRefusesWhatAMountedDaemonCannotChange) {
  auto mounted = RunCommand({"mount", "-t", "fuse.passthroughfs", source_, mnt_, "-o",
                             "allow_other"});
  ASSERT_EQ(mounted.code, 0) << mounted.output;
  auto atime = RunCommand({"mount", "-o", "remount,strictatime", mnt_});
  EXPECT_NE(atime.code, 0);
  EXPECT_NE(atime.output.find("atime options of " + mnt_ + " cannot change"), std::string::npos)
      << atime.output;
  auto info = fusekit::FindMount(mnt_);
  ASSERT_TRUE(info);
  EXPECT_TRUE(HasOption(info->mount_options, "relatime")) << info->mount_options;
  ExpectServesThenUmount(CommandResult{0, ""});
}

// Called directly, as mount.fuse3 would.
TEST_F(CliTest, RemountOptionChangesTheMountInPlace) {
  auto server = StartForeground({});
  ASSERT_TRUE(server);
  auto ro = RunCommand({binary_, "-o", "remount,ro", source_, mnt_});
  ASSERT_EQ(ro.code, 0) << ro.output;
  errno = 0;
  EXPECT_EQ(::open((mnt_ + "/new").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
  EXPECT_EQ(errno, EROFS);
  auto rw = RunCommand({binary_, "-o", "remount,rw", source_, mnt_});
  ASSERT_EQ(rw.code, 0) << rw.output;
  WriteFile(mnt_ + "/new", "x");
  EXPECT_EQ(ReadFile(source_ + "/new"), "x");
  auto elsewhere = RunCommand({binary_, "-o", "remount,ro", source_, tmp_.Sub("not-a-mount")});
  EXPECT_EQ(elsewhere.code, 2);
  EXPECT_NE(elsewhere.output.find("is not a fuse.passthroughfs mount"), std::string::npos)
      << elsewhere.output;
  StopCleanly(*server);
}

}  // namespace
