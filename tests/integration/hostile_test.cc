// Hostile input and permission tests for passthroughfs: symlinks in SOURCE
// that point outside it, a symlink swapped in for a directory while
// lookups run, awkward names, and unprivileged users with allow_other.
//
// The rule under test: the daemon (root) never opens, stats or changes
// anything outside SOURCE. Where a client's own call reaches outside
// through the kernel's client-side symlink resolution, that is the client's
// access; the daemon is proven not to have done it by running the real
// binary under `strace -f -y` and checking that none of its syscalls names
// a path outside SOURCE (neither as a path argument nor as the decoded path
// of an fd), or, in-process, by auditing /proc/self/fd during the run.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fusekit/session.h"
#include "mount_fixture.h"
#include "passthrough_fs.h"

namespace passthroughfs {
namespace {

using fusekit::UniqueFd;
using fusekit::testing::BinaryPath;
using fusekit::testing::ChildServer;
using fusekit::testing::InProcessMount;
using fusekit::testing::TempDir;
using fusekit::testing::WaitUntil;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uid_t kUser = 4321;
constexpr gid_t kGroup = 5555;

// ---------------------------------------------------------------- helpers

void WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  ASSERT_TRUE(fd) << path << ": " << std::strerror(errno);
  ASSERT_EQ(::write(fd.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ASSERT_EQ(::fchmod(fd.get(), mode), 0);
}

std::string ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return "<" + std::string(std::strerror(errno)) + ">";
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// Everything about a file the daemon could change: contents, mode, owner,
// xattrs and times (lstat: the object itself).
struct FileState {
  std::string data;
  struct stat st {};
  std::map<std::string, std::string> xattrs;

  bool operator==(const FileState& o) const {
    return data == o.data && st.st_ino == o.st.st_ino && st.st_mode == o.st.st_mode &&
           st.st_uid == o.st.st_uid && st.st_gid == o.st.st_gid && st.st_size == o.st.st_size &&
           st.st_nlink == o.st.st_nlink && st.st_mtim.tv_sec == o.st.st_mtim.tv_sec &&
           st.st_mtim.tv_nsec == o.st.st_mtim.tv_nsec && st.st_ctim.tv_sec == o.st.st_ctim.tv_sec &&
           st.st_ctim.tv_nsec == o.st.st_ctim.tv_nsec && xattrs == o.xattrs;
  }
};

std::ostream& operator<<(std::ostream& os, const FileState& s) {
  os << "{mode " << std::oct << s.st.st_mode << std::dec << " uid " << s.st.st_uid << " gid "
     << s.st.st_gid << " size " << s.st.st_size << " nlink " << s.st.st_nlink << " mtime "
     << s.st.st_mtim.tv_sec << "." << s.st.st_mtim.tv_nsec << " ctime " << s.st.st_ctim.tv_sec
     << "." << s.st.st_ctim.tv_nsec << " data \"" << s.data << "\" xattrs";
  for (auto& [k, v] : s.xattrs) os << " " << k << "=" << v;
  return os << "}";
}

FileState Snapshot(const std::string& path) {
  FileState s;
  EXPECT_EQ(::lstat(path.c_str(), &s.st), 0) << path;
  if (S_ISREG(s.st.st_mode)) s.data = ReadFile(path);
  char names[4096];
  ssize_t n = ::llistxattr(path.c_str(), names, sizeof(names));
  for (ssize_t i = 0; i < n;) {
    std::string name(names + i);
    char value[1024];
    ssize_t v = ::lgetxattr(path.c_str(), name.c_str(), value, sizeof(value));
    s.xattrs[name] = v >= 0 ? std::string(value, static_cast<size_t>(v)) : "<error>";
    i += static_cast<ssize_t>(name.size()) + 1;
  }
  return s;
}

std::set<std::string> Entries(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  EXPECT_NE(d, nullptr) << dir << ": " << std::strerror(errno);
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.insert(n);
  }
  ::closedir(d);
  return out;
}

int OpenAt2(int dirfd, const std::string& path, int flags, mode_t mode, uint64_t resolve) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof(how)));
}

// Children of `pid` (its threads' children), from /proc.
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  std::string task = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(task.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(task + "/" + e->d_name + "/children");
    pid_t c;
    while (in >> c) out.push_back(c);
  }
  ::closedir(d);
  return out;
}

std::string Cmdline(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : s)
    if (c == '\0') c = ' ';
  return s;
}

// Waits for a forked child at most `timeout`, then kills it. Returns its
// exit code, 200 when it died of a signal, 201 on timeout.
int WaitChild(pid_t pid, milliseconds timeout = seconds(30)) {
  int status = 0;
  bool done = WaitUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return 201;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

// Runs `fn` in a forked child as kUser (primary group kUser, supplementary
// groups `groups`), returning its exit code. Only async-signal-safe calls
// in the child: the parent may be serving the mount from other threads.
template <typename Fn>
int AsUser(Fn fn, std::vector<gid_t> groups = {}) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(groups.size(), groups.data()) != 0 ||
        ::setresgid(kUser, kUser, kUser) != 0 || ::setresuid(kUser, kUser, kUser) != 0)
      ::_exit(100);
    ::_exit(fn());
  }
  return WaitChild(pid);
}

// The logged syscalls that name `outside`: a path argument starting with
// it, or an fd whose decoded path (-y) starts with it. readlink(at) may
// return it and symlink(at) may create a link to it (the strings only);
// reads and writes of /dev/fuse carry it as bytes of READLINK replies
// and SYMLINK requests.
std::vector<std::string> StraceLinesNaming(const std::string& log, const std::string& outside) {
  std::vector<std::string> bad;
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(outside) == std::string::npos) continue;
    if (line.find("<" + outside) != std::string::npos) {
      bad.push_back(line);
      continue;
    }
    std::string call;
    if (auto r = line.find("<... "); r != std::string::npos) {
      call = line.substr(r + 5, line.find(' ', r + 5) - (r + 5));
    } else {
      // "PID<spaces>call(": strace pads short pids with spaces.
      size_t start = line.find_first_not_of("0123456789");
      start = start == std::string::npos ? 0 : line.find_first_not_of(' ', start);
      if (start == std::string::npos) start = 0;
      call = line.substr(start, line.find('(', start) - start);
    }
    static const std::set<std::string> kStringOnly = {
        "readlinkat", "readlink", "symlinkat", "symlink", "read",
        "write",      "readv",    "writev",    "pread64", "pwrite64"};
    if (!kStringOnly.count(call)) bad.push_back(line);
  }
  return bad;
}

// The passthroughfs binary in the foreground under `strace -f -y`, its
// syscalls logged to `log`.
class TracedDaemon {
 public:
  static std::unique_ptr<TracedDaemon> Start(const std::string& source, const std::string& mnt,
                                             const std::string& log, const std::string& opts) {
    std::string bin = BinaryPath("passthroughfs");
    if (bin.empty()) return nullptr;
    auto d = std::unique_ptr<TracedDaemon>(new TracedDaemon);
    d->mnt_ = mnt;
    d->log_ = log;
    // LeakSanitizer cannot run under ptrace: off for an ASan-built daemon.
    d->server_ = ChildServer::Start({"strace", "-f", "-qq", "-y", "-e", "trace=%file,%desc", "-o",
                                     log, "-E", "ASAN_OPTIONS=detect_leaks=0", bin, "-f", "-o",
                                     opts, source, mnt},
                                    mnt);
    if (!d->server_) return nullptr;
    if (!d->server_->WaitMounted(seconds(20))) {
      ADD_FAILURE() << "the traced daemon did not mount\n" << d->server_->Output();
      return nullptr;
    }
    auto kids = ChildrenOf(d->server_->pid());
    if (kids.size() == 1) d->daemon_ = kids[0];
    EXPECT_NE(d->daemon_, -1) << "cannot find the daemon below strace";
    return d;
  }
  ~TracedDaemon() {
    Stop();
    server_.reset();  // kills strace, detaches the mount
    // strace killed detaches its tracee: make sure the daemon goes too.
    if (daemon_ > 0 && Cmdline(daemon_).find("passthroughfs") != std::string::npos)
      ::kill(daemon_, SIGKILL);
    EXPECT_TRUE(WaitUntil([&] { return !fusekit::testing::IsMounted(mnt_); }, seconds(10)))
        << mnt_ << " still mounted";
  }
  // Unmounts; the daemon sees the mount go and exits 0, and strace with it.
  bool Stop() {
    if (stopped_) return clean_;
    stopped_ = true;
    ::umount2(mnt_.c_str(), 0);
    auto status = server_->WaitExit(seconds(20));
    clean_ = status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
    EXPECT_TRUE(clean_) << server_->Output();
    return clean_;
  }
  pid_t daemon_pid() const { return daemon_; }

  std::vector<std::string> LinesNaming(const std::string& outside) const {
    if (const char* keep = ::getenv("HOSTILE_KEEP_STRACE")) {
      std::ifstream in(log_);
      std::ofstream(keep, std::ios::app) << in.rdbuf();
    }
    return StraceLinesNaming(log_, outside);
  }
  std::string Log() const {
    std::ifstream in(log_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

 private:
  TracedDaemon() = default;
  std::string mnt_, log_;
  std::unique_ptr<ChildServer> server_;
  pid_t daemon_ = -1;
  bool stopped_ = false;
  bool clean_ = false;
};

// fds of this process whose target starts with `prefix`.
std::vector<std::string> OwnFdsUnder(const std::string& prefix) {
  std::vector<std::string> out;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char target[PATH_MAX];
    std::string p = std::string("/proc/self/fd/") + e->d_name;
    ssize_t n = ::readlink(p.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    std::string t(target, static_cast<size_t>(n));
    if (t.rfind(prefix, 0) == 0) out.push_back(std::string(e->d_name) + " -> " + t);
  }
  ::closedir(d);
  return out;
}

std::unique_ptr<PassthroughFs> MakeFs(const std::string& source, FsOptions options) {
  auto fs = PassthroughFs::Create(
      UniqueFd(::open(source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), options);
  EXPECT_TRUE(fs) << fs.error().message();
  return fs ? std::move(*fs) : nullptr;
}

// ------------------------------------------- 1. symlinks pointing outside

// The strace check itself flags what it must (an fd or a path naming the
// outside) and passes what it must (READLINK answers, SYMLINK targets).
TEST(HostileStraceCheck, FlagsOnlyAccessesOutside) {
  TempDir tmp;
  const std::string log = tmp.path() + "/log";
  std::ofstream(log) << "1 openat(AT_FDCWD</w>, \"/x/outside/s\", O_RDONLY) = 5</x/outside/s>\n"
                        "1 newfstatat(9</x/outside>, \"\", {}, AT_EMPTY_PATH) = 0\n"
                        "2 <... openat resumed>) = 7</x/outside/t>\n"
                        "2 fchownat(AT_FDCWD</w>, \"/x/outside\", 0, 0, 0) = 0\n"
                        "3 readlinkat(7</x/source/l>, \"\", \"/x/outside\", 4097) = 10\n"
                        "858   readlinkat(8</x/source/l>, \"\", \"/x/outside\", 4097) = 10\n"
                        "77    openat(AT_FDCWD</w>, \"/x/outside/u\", O_RDONLY) = -1 ENOENT\n"
                        "3 <... readlinkat resumed>\"/x/outside/s\", 4097) = 12\n"
                        "3 symlinkat(\"/x/outside/s\", 4</x/source>, \"n\") = 0\n"
                        "3 writev(6</dev/fuse>, [{iov_base=\"/x/outside\"}], 2) = 26\n"
                        "4 openat(5</x/source>, \"outsider\", O_RDONLY) = 8</x/source/outsider>\n";
  auto bad = StraceLinesNaming(log, "/x/outside");
  ASSERT_EQ(bad.size(), 5u);
  EXPECT_NE(bad[0].find("openat"), std::string::npos);
  EXPECT_NE(bad[1].find("newfstatat"), std::string::npos);
  EXPECT_NE(bad[2].find("resumed"), std::string::npos);
  EXPECT_NE(bad[3].find("fchownat"), std::string::npos);
  EXPECT_NE(bad[4].find("77    openat"), std::string::npos);
}

TEST(HostileSymlinks, DaemonNeverFollowsLinksOutOfSource) {
  TempDir tmp;
  const std::string outside = tmp.Sub("outside");
  const std::string source = tmp.Sub("source");
  const std::string mnt = tmp.Sub("mnt");
  tmp.Sub("source/sub");
  const std::string sentinel = outside + "/sentinel";
  const std::string trunc_target = outside + "/trunc_target";
  WriteFile(sentinel, "secret sentinel\n", 0640);
  ASSERT_EQ(::lsetxattr(sentinel.c_str(), "user.hostile", "orig", 4, 0), 0) << std::strerror(errno);
  WriteFile(trunc_target, "0123456789", 0644);
  // Absolute and relative targets, to a directory and to a file.
  const std::map<std::string, std::string> links = {
      {"abs_dir", outside},
      {"abs_file", sentinel},
      {"sub/rel_dir", "../../outside"},
      {"sub/rel_file", "../../outside/sentinel"},
      {"abs_trunc", trunc_target},
  };
  for (auto& [name, target] : links)
    ASSERT_EQ(::symlink(target.c_str(), (source + "/" + name).c_str()), 0) << name;
  const FileState sentinel_before = Snapshot(sentinel);
  const FileState outside_dir_before = Snapshot(outside);
  const std::set<std::string> outside_before = Entries(outside);

  auto daemon = TracedDaemon::Start(source, mnt, tmp.path() + "/strace.log", "cache=never");
  ASSERT_NE(daemon, nullptr);

  for (auto& [name, target] : links) {
    SCOPED_TRACE(name);
    const std::string m = mnt + "/" + name;
    const std::string s = source + "/" + name;
    // lookup/stat: the link itself.
    struct stat st, sst;
    ASSERT_EQ(::lstat(m.c_str(), &st), 0) << std::strerror(errno);
    ASSERT_EQ(::lstat(s.c_str(), &sst), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(st.st_ino, sst.st_ino);
    EXPECT_EQ(st.st_size, static_cast<off_t>(target.size()));
    // readlink: the target string.
    char buf[PATH_MAX];
    ssize_t n = ::readlink(m.c_str(), buf, sizeof(buf));
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), target);
    EXPECT_EQ(::open(m.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC), -1);
    EXPECT_EQ(errno, ELOOP);
    // xattrs on the link itself. user.* is refused on symlinks by the
    // client's VFS; trusted.* reaches the daemon and must land on the link.
    EXPECT_EQ(::lsetxattr(m.c_str(), "user.hostile", "x", 1, 0), -1);
    EXPECT_EQ(errno, EPERM);
    ASSERT_EQ(::lsetxattr(m.c_str(), "trusted.hostile", "link", 4, 0), 0) << std::strerror(errno);
    n = ::lgetxattr(m.c_str(), "trusted.hostile", buf, sizeof(buf));
    EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))), "link");
    n = ::lgetxattr(s.c_str(), "trusted.hostile", buf, sizeof(buf));
    EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))), "link")
        << "set on the link in SOURCE";
    n = ::llistxattr(m.c_str(), buf, sizeof(buf));
    EXPECT_NE(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))).find("trusted.hostile"),
              std::string::npos);
    n = ::lgetxattr(m.c_str(), "user.hostile", buf, sizeof(buf));
    EXPECT_EQ(n, -1) << "the sentinel's xattr must not show through the link";
    EXPECT_EQ(::lremovexattr(m.c_str(), "trusted.hostile"), 0) << std::strerror(errno);
    EXPECT_EQ(::lgetxattr(s.c_str(), "trusted.hostile", buf, sizeof(buf)), -1);
    // chmod without following: glibc refuses symlinks (EOPNOTSUPP); the
    // fchmodat2 syscall reaches the kernel, which refuses or changes the
    // link itself, never the target.
    EXPECT_EQ(::fchmodat(AT_FDCWD, m.c_str(), 0600, AT_SYMLINK_NOFOLLOW), -1);
    long rc = ::syscall(452 /* fchmodat2 */, AT_FDCWD, m.c_str(), 0600, AT_SYMLINK_NOFOLLOW);
    EXPECT_TRUE(rc == 0 || errno == EOPNOTSUPP || errno == ENOSYS) << std::strerror(errno);
    // chown without following: the link's owner in SOURCE changes.
    ASSERT_EQ(::fchownat(AT_FDCWD, m.c_str(), kUser, kGroup, AT_SYMLINK_NOFOLLOW), 0)
        << std::strerror(errno);
    ASSERT_EQ(::lstat(s.c_str(), &sst), 0);
    EXPECT_EQ(sst.st_uid, kUser);
    EXPECT_EQ(sst.st_gid, kGroup);
    EXPECT_EQ(::fchownat(AT_FDCWD, m.c_str(), 0, 0, AT_SYMLINK_NOFOLLOW), 0);
    // times without following: the link's times in SOURCE change.
    timespec times[2] = {{1000000, 0}, {2000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, m.c_str(), times, AT_SYMLINK_NOFOLLOW), 0)
        << std::strerror(errno);
    ASSERT_EQ(::lstat(s.c_str(), &sst), 0);
    EXPECT_EQ(sst.st_mtim.tv_sec, 2000000);
    EXPECT_EQ(sst.st_atim.tv_sec, 1000000);
  }

  // The daemon's path-based calls go through /proc/self/fd/N, which strace
  // does not decode: the outside directory itself must be untouched too.
  EXPECT_EQ(Snapshot(outside), outside_dir_before);
  EXPECT_EQ(Snapshot(sentinel), sentinel_before);

  // truncate follows the link, and the client's kernel does the following:
  // `abs_trunc` resolves to the host's outside/trunc_target, which is
  // truncated by the client's own access (not through the mount, so the
  // daemon is not asked; the strace check below proves it did not touch
  // it). The directory links give EISDIR from the target directory.
  EXPECT_EQ(::truncate((mnt + "/abs_trunc").c_str(), 3), 0) << std::strerror(errno);
  EXPECT_EQ(ReadFile(trunc_target), "012") << "the client's own truncate through its kernel";
  EXPECT_EQ(::truncate((mnt + "/abs_dir").c_str(), 0), -1);
  EXPECT_EQ(errno, EISDIR);
  EXPECT_EQ(::truncate((mnt + "/sub/rel_dir").c_str(), 0), -1);
  EXPECT_EQ(errno, EISDIR);

  // Creating below a symlinked directory name: the client's kernel
  // resolves the link, so these create on the host, outside SOURCE, as the
  // client's own access (mnt/sub/../../outside is tmp/outside too).
  EXPECT_EQ(::mkdir((mnt + "/abs_dir/made_dir").c_str(), 0755), 0) << std::strerror(errno);
  EXPECT_EQ(::mknod((mnt + "/sub/rel_dir/made_fifo").c_str(), S_IFIFO | 0644, 0), 0)
      << std::strerror(errno);
  {
    UniqueFd fd(::open((mnt + "/abs_dir/made_file").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                       0644));
    EXPECT_TRUE(fd) << std::strerror(errno);
  }
  std::set<std::string> expected = outside_before;
  expected.insert({"made_dir", "made_fifo", "made_file"});
  EXPECT_EQ(Entries(outside), expected);
  ::rmdir((outside + "/made_dir").c_str());
  ::unlink((outside + "/made_fifo").c_str());
  ::unlink((outside + "/made_file").c_str());
  // A client that refuses symlinks in its walk stays inside the mount.
  {
    UniqueFd root(::open(mnt.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root);
    EXPECT_EQ(OpenAt2(root.get(), "abs_dir/x", O_WRONLY | O_CREAT, 0644, RESOLVE_NO_SYMLINKS), -1);
    EXPECT_EQ(errno, ELOOP);
    EXPECT_EQ(OpenAt2(root.get(), "sub/rel_dir/x", O_WRONLY | O_CREAT, 0644, RESOLVE_BENEATH), -1);
    EXPECT_EQ(errno, EXDEV);
  }
  EXPECT_EQ(Entries(outside), outside_before);

  // rename, link (not following) and unlink of the links themselves.
  ASSERT_EQ(::rename((mnt + "/abs_file").c_str(), (mnt + "/renamed").c_str()), 0)
      << std::strerror(errno);
  ASSERT_EQ(::linkat(AT_FDCWD, (mnt + "/renamed").c_str(), AT_FDCWD, (mnt + "/hard").c_str(), 0),
            0)
      << std::strerror(errno);
  struct stat st;
  ASSERT_EQ(::lstat((source + "/hard").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "a hard link to the symlink, not to its target";
  EXPECT_EQ(st.st_nlink, 2u);
  ASSERT_EQ(::rename((mnt + "/sub/rel_file").c_str(), (mnt + "/rel_moved").c_str()), 0);
  EXPECT_EQ(::unlink((mnt + "/renamed").c_str()), 0);
  EXPECT_EQ(::unlink((mnt + "/hard").c_str()), 0);
  EXPECT_EQ(::unlink((mnt + "/rel_moved").c_str()), 0);
  EXPECT_EQ(::rmdir((mnt + "/abs_dir").c_str()), -1);
  EXPECT_EQ(errno, ENOTDIR);
  EXPECT_EQ(::unlink((mnt + "/sub/rel_dir").c_str()), 0);
  // A new link to the outside through the mount: created, never followed.
  ASSERT_EQ(::symlink(sentinel.c_str(), (mnt + "/new_link").c_str()), 0);
  char buf[PATH_MAX];
  ssize_t n = ::readlink((mnt + "/new_link").c_str(), buf, sizeof(buf));
  EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))), sentinel);
  EXPECT_EQ(::unlink((mnt + "/new_link").c_str()), 0);
  EXPECT_EQ(Entries(source), (std::set<std::string>{"abs_dir", "abs_trunc", "sub"}));

  ASSERT_TRUE(daemon->Stop());
  EXPECT_EQ(Snapshot(sentinel), sentinel_before);
  FileState outside_dir_after = Snapshot(outside);
  EXPECT_EQ(outside_dir_after.st.st_mode, outside_dir_before.st.st_mode);
  EXPECT_EQ(outside_dir_after.st.st_uid, outside_dir_before.st.st_uid);
  EXPECT_EQ(outside_dir_after.xattrs, outside_dir_before.xattrs);
  EXPECT_EQ(Entries(outside), outside_before);
  const std::string log = daemon->Log();
  EXPECT_NE(log.find("readlinkat("), std::string::npos) << "strace logged the daemon's calls";
  EXPECT_NE(log.find("fchownat("), std::string::npos);
  auto bad = daemon->LinesNaming(outside);
  EXPECT_TRUE(bad.empty()) << bad.size() << " daemon syscalls name " << outside << ", first: "
                           << bad.front();
}

// ------------------------- 2. a symlink swapped in for a directory, racing

enum class Server { kInProcess, kTraced };

class SwapRace : public testing::TestWithParam<Server> {};

TEST_P(SwapRace, DaemonStaysInsideWhileDirectoryBecomesALink) {
  TempDir tmp;
  const std::string outside = tmp.Sub("outside");
  const std::string source = tmp.Sub("source");
  const std::string sentinel = outside + "/sentinel";
  WriteFile(sentinel, "secret\n", 0600);
  WriteFile(outside + "/x", "outside x\n", 0600);  // what d/x names when d is the link
  tmp.Sub("source/d");
  WriteFile(source + "/d/inner", "inner\n", 0644);
  ASSERT_EQ(::symlink(outside.c_str(), (source + "/dlink").c_str()), 0);
  const FileState sentinel_before = Snapshot(sentinel);
  const FileState x_before = Snapshot(outside + "/x");
  const std::set<std::string> outside_before = Entries(outside);

  std::unique_ptr<PassthroughFs> fs;
  std::unique_ptr<InProcessMount> mount;
  std::unique_ptr<TracedDaemon> daemon;
  std::string mnt;
  if (GetParam() == Server::kInProcess) {
    FsOptions options;
    options.cache = CacheMode::kNever;  // every access looks `d` up again
    fs = MakeFs(source, options);
    ASSERT_NE(fs, nullptr);
    mount = InProcessMount::Start(*fs, fs->SessionConfig());
    ASSERT_NE(mount, nullptr);
    mnt = mount->path();
  } else {
    mnt = tmp.Sub("mnt");
    daemon = TracedDaemon::Start(source, mnt, tmp.path() + "/strace.log", "cache=never");
    ASSERT_NE(daemon, nullptr);
  }

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> swaps{0}, ops{0}, created{0}, refused{0};
  std::vector<std::string> audit_hits;
  std::thread swapper([&] {
    const std::string d = source + "/d", away = source + "/d.away", link = source + "/dlink";
    bool exchange = false;
    while (!stop) {
      if (exchange) {
        // Atomic: d becomes the link and back.
        ::renameat2(AT_FDCWD, d.c_str(), AT_FDCWD, link.c_str(), RENAME_EXCHANGE);
        ::renameat2(AT_FDCWD, d.c_str(), AT_FDCWD, link.c_str(), RENAME_EXCHANGE);
      } else {
        ::rename(d.c_str(), away.c_str());
        ::rename(link.c_str(), d.c_str());
        std::this_thread::yield();
        ::rename(d.c_str(), link.c_str());
        ::rename(away.c_str(), d.c_str());
      }
      exchange = !exchange;
      swaps++;
    }
  });
  std::thread auditor([&] {
    if (GetParam() != Server::kInProcess) return;
    while (!stop) {
      for (auto& hit : OwnFdsUnder(outside)) audit_hits.push_back(hit);
      std::this_thread::sleep_for(milliseconds(1));
    }
  });
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      UniqueFd root(::open(mnt.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!root) return;
      const std::string name = "x" + std::to_string(t);
      const std::string dx = mnt + "/d/" + name;
      char buf[64];
      while (!stop) {
        struct stat st;
        // stat follows `d` in the client's kernel when it is the link: the
        // client's own read-only access.
        ::stat(dx.c_str(), &st);
        ::lstat((mnt + "/d").c_str(), &st);
        ::fstatat(root.get(), "d/inner", &st, AT_SYMLINK_NOFOLLOW);
        // Opens and creates refuse symlinks in the client's walk, so a file
        // can only appear outside if the daemon put it there.
        int fd = OpenAt2(root.get(), "d/" + name, O_WRONLY | O_CREAT, 0644, RESOLVE_NO_SYMLINKS);
        if (fd >= 0) {
          created++;
          (void)::write(fd, "in", 2);
          ::close(fd);
        } else {
          refused++;
        }
        fd = OpenAt2(root.get(), "d", O_RDONLY | O_DIRECTORY, 0, RESOLVE_NO_SYMLINKS);
        if (fd >= 0) {
          while (::syscall(SYS_getdents64, fd, buf, sizeof(buf)) > 0) {
          }
          ::mkdirat(fd, (name + "_dir").c_str(), 0755);
          ::mknodat(fd, (name + "_fifo").c_str(), S_IFIFO | 0644, 0);
          ::unlinkat(fd, (name + "_fifo").c_str(), 0);
          ::unlinkat(fd, (name + "_dir").c_str(), AT_REMOVEDIR);
          ::close(fd);
        }
        fd = OpenAt2(root.get(), "d/inner", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
        if (fd >= 0) {
          (void)::read(fd, buf, sizeof(buf));
          ::close(fd);
        }
        ops++;
      }
    });
  }
  std::this_thread::sleep_for(seconds(4));
  stop = true;
  swapper.join();
  auditor.join();
  for (auto& c : clients) c.join();
  // Leave `d` a directory again.
  struct stat st;
  if (::lstat((source + "/d").c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    ::renameat2(AT_FDCWD, (source + "/d").c_str(), AT_FDCWD, (source + "/dlink").c_str(),
                RENAME_EXCHANGE);
  if (::lstat((source + "/d.away").c_str(), &st) == 0) {
    ::rename((source + "/d").c_str(), (source + "/dlink").c_str());
    ::rename((source + "/d.away").c_str(), (source + "/d").c_str());
  }

  if (mount) {
    EXPECT_TRUE(mount->Stop());
  } else {
    EXPECT_TRUE(daemon->Stop());
    auto bad = daemon->LinesNaming(outside);
    EXPECT_TRUE(bad.empty()) << bad.size() << " daemon syscalls name " << outside
                             << ", first: " << bad.front();
  }
  std::cerr << "swaps " << swaps << ", client rounds " << ops << ", creates " << created
            << ", refused " << refused << "\n";
  EXPECT_GT(swaps.load(), 100u);
  EXPECT_GT(ops.load(), 10u);
  EXPECT_GT(created.load(), 0u) << "some creates met the real directory";
  EXPECT_TRUE(audit_hits.empty()) << audit_hits.size() << " fds outside, first: "
                                  << audit_hits.front();
  EXPECT_EQ(Snapshot(sentinel), sentinel_before);
  EXPECT_EQ(Snapshot(outside + "/x"), x_before);
  EXPECT_EQ(Entries(outside), outside_before);
  // What the clients created is in SOURCE's real directory.
  std::set<std::string> inside = Entries(source + "/d");
  EXPECT_TRUE(inside.count("inner"));
  for (auto& n : inside) EXPECT_TRUE(n == "inner" || n[0] == 'x') << n;
}

INSTANTIATE_TEST_SUITE_P(Servers, SwapRace, testing::Values(Server::kInProcess, Server::kTraced),
                         [](const testing::TestParamInfo<Server>& i) {
                           return i.param == Server::kInProcess ? "InProcess" : "Traced";
                         });

// ------------------------------------------------------------- 3. names

TEST(HostileNames, AwkwardNamesRoundTripExactly) {
  TempDir tmp;
  const std::string source = tmp.Sub("source");
  auto fs = MakeFs(source, FsOptions{});
  ASSERT_NE(fs, nullptr);
  auto mount = InProcessMount::Start(*fs, fs->SessionConfig());
  ASSERT_NE(mount, nullptr);
  const std::string mnt = mount->path();

  const std::vector<std::string> names = {
      std::string(255, 'n'),
      std::string(254, 'a') + "\xff",
      "new\nline",
      "tab\there",
      "back\\slash",
      "\xff\xfe",
      "bad\xc3\x28utf8",
      "-leading-dash",
      "--",
      " leading space",
      "trailing space ",
      "...",
      ".hidden",
      "*?[glob]",
      "quote\"'",
  };
  for (auto& name : names) {
    SCOPED_TRACE(testing::PrintToString(name));
    const std::string m = mnt + "/" + name;
    UniqueFd fd(::open(m.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd) << std::strerror(errno);
    ASSERT_EQ(::write(fd.get(), name.data(), name.size()), static_cast<ssize_t>(name.size()));
    fd.reset();
    struct stat st, sst;
    ASSERT_EQ(::stat(m.c_str(), &st), 0);
    ASSERT_EQ(::stat((source + "/" + name).c_str(), &sst), 0) << "the same name in SOURCE";
    EXPECT_EQ(st.st_ino, sst.st_ino);
    EXPECT_EQ(ReadFile(m), name);
  }
  const std::set<std::string> all(names.begin(), names.end());
  EXPECT_EQ(Entries(mnt), all) << "readdir returns every name exactly";
  EXPECT_EQ(Entries(source), all);
  // Directories with awkward names, and readdir below them.
  ASSERT_EQ(::mkdir((mnt + "/dir\nwith\tnl").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((mnt + "/dir\nwith\tnl/-\xff").c_str(), 0755), 0);
  EXPECT_EQ(Entries(mnt + "/dir\nwith\tnl"), (std::set<std::string>{"-\xff"}));

  // rename each to another awkward name, then unlink.
  for (auto& name : names) {
    SCOPED_TRACE(testing::PrintToString(name));
    std::string to = name.size() >= 255 ? name.substr(0, 254) + "\n" : name + "\x01\n";
    ASSERT_EQ(::rename((mnt + "/" + name).c_str(), (mnt + "/" + to).c_str()), 0)
        << std::strerror(errno);
    struct stat st;
    EXPECT_EQ(::lstat((mnt + "/" + name).c_str(), &st), -1);
    EXPECT_EQ(::lstat((source + "/" + to).c_str(), &st), 0);
    EXPECT_EQ(ReadFile(mnt + "/" + to), name);
    EXPECT_EQ(::unlink((mnt + "/" + to).c_str()), 0) << std::strerror(errno);
  }
  EXPECT_EQ(Entries(source), (std::set<std::string>{"dir\nwith\tnl"}));

  // 256 bytes: ENAMETOOLONG for every operation, nothing created.
  const std::string too_long = std::string(256, 'L');
  const std::string tl = mnt + "/" + too_long;
  struct stat st;
  EXPECT_EQ(::lstat(tl.c_str(), &st), -1);
  EXPECT_EQ(errno, ENAMETOOLONG);
  EXPECT_EQ(::open(tl.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
  EXPECT_EQ(errno, ENAMETOOLONG);
  EXPECT_EQ(::mkdir(tl.c_str(), 0755), -1);
  EXPECT_EQ(errno, ENAMETOOLONG);
  EXPECT_EQ(::mknod(tl.c_str(), S_IFIFO | 0644, 0), -1);
  EXPECT_EQ(errno, ENAMETOOLONG);
  EXPECT_EQ(::symlink("x", tl.c_str()), -1);
  EXPECT_EQ(errno, ENAMETOOLONG);
  WriteFile(source + "/short", "s", 0644);
  EXPECT_EQ(::rename((mnt + "/short").c_str(), tl.c_str()), -1);
  EXPECT_EQ(errno, ENAMETOOLONG);
  EXPECT_EQ(::link((mnt + "/short").c_str(), tl.c_str()), -1);
  EXPECT_EQ(errno, ENAMETOOLONG);
  EXPECT_EQ(Entries(source), (std::set<std::string>{"dir\nwith\tnl", "short"}));

  // "." and "..": the kernel resolves them; ".." of the mount root is the
  // mount point's parent, never SOURCE's parent.
  struct stat root, dot, parent, up;
  ASSERT_EQ(::stat(mnt.c_str(), &root), 0);
  ASSERT_EQ(::stat((mnt + "/.").c_str(), &dot), 0);
  EXPECT_EQ(dot.st_ino, root.st_ino);
  EXPECT_EQ(dot.st_dev, root.st_dev);
  ASSERT_EQ(::stat((mnt + "/..").c_str(), &up), 0);
  ASSERT_EQ(::stat(mnt.substr(0, mnt.rfind('/')).c_str(), &parent), 0);
  EXPECT_EQ(up.st_ino, parent.st_ino);
  EXPECT_EQ(up.st_dev, parent.st_dev);
  ASSERT_EQ(::stat((mnt + "/dir\nwith\tnl/..").c_str(), &up), 0);
  EXPECT_EQ(up.st_ino, root.st_ino);
  ASSERT_EQ(::stat((mnt + "/dir\nwith\tnl/-\xff/../../..").c_str(), &up), 0);
  EXPECT_EQ(up.st_ino, parent.st_ino);
  EXPECT_EQ(::mkdir((mnt + "/.").c_str(), 0755), -1);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(::rmdir((mnt + "/dir\nwith\tnl/.").c_str()), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(::rename((mnt + "/short").c_str(), (mnt + "/..").c_str()), -1);
  EXPECT_TRUE(mount->Stop());
}

// The daemon is never asked to look ".." up on ordinary paths (-d logs
// every request), and SOURCE's parent is never reached.
TEST(HostileNames, DotDotNeverReachesTheDaemon) {
  TempDir tmp;
  // SOURCE is tmp/src/source, MOUNTPOINT tmp/mnt: SOURCE/../above exists,
  // MOUNTPOINT/../above does not.
  tmp.Sub("src");
  const std::string source = tmp.Sub("src/source");
  const std::string mnt = tmp.Sub("mnt");
  tmp.Sub("src/source/a");
  tmp.Sub("src/source/a/b");
  WriteFile(tmp.path() + "/src/above", "above\n", 0644);
  auto server = ChildServer::Start(
      {BinaryPath("passthroughfs"), "-d", "-o", "cache=never", source, mnt}, mnt);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->WaitMounted());
  struct stat st, a;
  ASSERT_EQ(::stat((mnt + "/a").c_str(), &a), 0);
  ASSERT_EQ(::stat((mnt + "/a/b/..").c_str(), &st), 0);
  EXPECT_EQ(st.st_ino, a.st_ino);
  ASSERT_EQ(::stat((mnt + "/a/b/../../..").c_str(), &st), 0);
  EXPECT_EQ(::stat((mnt + "/../above").c_str(), &st), -1) << "mnt/.. is tmp, which has no mnt/above";
  EXPECT_EQ(::stat((mnt + "/a/../../source").c_str(), &st), -1);
  UniqueFd b(::open((mnt + "/a/b").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(b);
  EXPECT_EQ(::fstatat(b.get(), "../../../above", &st, 0), -1);
  b.reset();
  EXPECT_EQ(::umount2(mnt.c_str(), 0), 0) << std::strerror(errno);
  ASSERT_TRUE(server->WaitExit(seconds(20)));
  std::string out = server->Output();
  EXPECT_NE(out.find("LOOKUP"), std::string::npos) << "-d logged the requests";
  EXPECT_EQ(out.find("name=\"..\""), std::string::npos) << out;
  EXPECT_EQ(out.find("name=\"above\""), std::string::npos);
}

// LOOKUP of ".." (which the kernel sends only to reconnect an exported
// handle) is tested directly, without relying on a race, in
// src/passthroughfs/passthrough_fs_test.cc.

// ------------------------------------------- 3b. file handles

// The handle syscalls reach anything on SOURCE's filesystem, so the daemon
// must only ever open handles its own lookups below SOURCE gave it. Under
// strace, with an fd cache of 8 (reopens all the time) and file handles
// used on the mount after the kernel forgot (the daemon revives nodes),
// and one forged for a node id never issued: every handle handed to
// open_by_handle_at came out of an earlier name_to_handle_at.
TEST(HostileHandles, OnlyHandlesFromLookupsAreOpened) {
  TempDir tmp;
  const std::string source = tmp.Sub("source");
  const std::string mnt = tmp.Sub("mnt");
  tmp.Sub("source/a");
  for (int i = 0; i < 40; ++i) WriteFile(source + "/a/f" + std::to_string(i), "x", 0644);
  WriteFile(tmp.path() + "/outside", "secret\n", 0644);
  auto daemon = TracedDaemon::Start(source, mnt, tmp.path() + "/strace.log",
                                    "inode_handles=always,fd_cache=8");
  ASSERT_NE(daemon, nullptr);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 40; ++i) {
      std::ifstream in(mnt + "/a/f" + std::to_string(i));
      std::string text((std::istreambuf_iterator<char>(in)), {});
      EXPECT_EQ(text, "x");
    }
  }
  union {
    file_handle fh;
    char room[sizeof(file_handle) + MAX_HANDLE_SZ];
  } h{}, forged{};
  h.fh.handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  ASSERT_EQ(::name_to_handle_at(AT_FDCWD, (mnt + "/a/f7").c_str(), &h.fh, &mount_id, 0), 0)
      << std::strerror(errno);
  std::ofstream("/proc/sys/vm/drop_caches") << "2" << std::endl;
  ::usleep(200000);  // FORGETs on their way (the opens below work either way)
  UniqueFd mount_fd(::open(mnt.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  UniqueFd reopened(::open_by_handle_at(mount_fd.get(), &h.fh, O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(reopened) << std::strerror(errno);
  // A FUSE handle for a node id the daemon never issued.
  forged = h;
  std::memset(forged.fh.f_handle, 0x7f, forged.fh.handle_bytes / 2);
  UniqueFd nothing(::open_by_handle_at(mount_fd.get(), &forged.fh, O_RDONLY | O_CLOEXEC));
  EXPECT_FALSE(nothing) << "a forged handle opened something";
  mount_fd.reset();
  reopened.reset();
  ASSERT_TRUE(daemon->Stop());

  std::set<std::string> given, opened;
  std::istringstream log(daemon->Log());
  std::string line;
  auto handle_of = [](const std::string& l) {
    auto at = l.find("handle_type=");
    auto end = l.find("\"}", at);
    return at == std::string::npos || end == std::string::npos ? std::string()
                                                               : l.substr(at, end - at);
  };
  while (std::getline(log, line)) {
    // With several threads, strace splits calls: "name_to_handle_at(...
    // <unfinished ...>" then "<... name_to_handle_at resumed>{...} = 0",
    // the handle (an output) on the second line.
    if (line.find("name_to_handle_at") != std::string::npos &&
        line.find("f_handle=") != std::string::npos && line.find(") = 0") != std::string::npos)
      given.insert(handle_of(line));
    if (line.find("open_by_handle_at(") != std::string::npos) opened.insert(handle_of(line));
  }
  EXPECT_GE(opened.size(), 10u) << "the daemon reopened few inodes by handle: nothing was tested";
  for (const auto& o : opened) {
    EXPECT_FALSE(o.empty()) << "an open_by_handle_at the test could not read";
    EXPECT_TRUE(given.count(o)) << "opened a handle no lookup gave: " << o;
  }
}

// ----------------------------------- 4. unprivileged users, allow_other

enum class Variant { kInProcess, kBinary };

class AllowOther : public testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    // mkdtemp makes 0700 directories: let the unprivileged user through.
    ::chmod(tmp_.path().c_str(), 0755);
    source_ = tmp_.Sub("source");
    ASSERT_EQ(::chmod(source_.c_str(), 0755), 0);
    WriteFile(source_ + "/secret", "secret", 0600);
    WriteFile(source_ + "/public", "public", 0644);
    WriteFile(source_ + "/group", "group", 0640);
    ASSERT_EQ(::chown((source_ + "/group").c_str(), 0, kGroup), 0);
    tmp_.Sub("source/rootdir");
    ASSERT_EQ(::chmod((source_ + "/rootdir").c_str(), 0755), 0);
    tmp_.Sub("source/sticky");
    ASSERT_EQ(::chmod((source_ + "/sticky").c_str(), 01777), 0);
    WriteFile(source_ + "/sticky/rootfile", "r", 0666);
    tmp_.Sub("source/userdir");
    ASSERT_EQ(::chmod((source_ + "/userdir").c_str(), 0700), 0);
    ASSERT_EQ(::chown((source_ + "/userdir").c_str(), kUser, kUser), 0);
    if (GetParam() == Variant::kInProcess) {
      FsOptions options;
      options.default_permissions = true;
      options.allow_other = true;
      fs_ = MakeFs(source_, options);
      ASSERT_NE(fs_, nullptr);
      fusekit::MountOptions mount_options;
      mount_options.allow_other = true;
      mount_options.default_permissions = true;
      mount_ = InProcessMount::Start(*fs_, fs_->SessionConfig(), mount_options);
      ASSERT_NE(mount_, nullptr);
      mnt_ = mount_->path();
      ::chmod(mnt_.substr(0, mnt_.rfind('/')).c_str(), 0755);
    } else {
      mnt_ = tmp_.Sub("mnt");
      server_ = ChildServer::Start(
          {BinaryPath("passthroughfs"), "-f", "-o", "allow_other", source_, mnt_}, mnt_);
      ASSERT_NE(server_, nullptr);
      ASSERT_TRUE(server_->WaitMounted());
    }
  }
  void TearDown() override {
    if (mount_) {
      EXPECT_TRUE(mount_->Stop());
    }
    if (server_) {
      ::umount2(mnt_.c_str(), 0);
      auto status = server_->WaitExit(seconds(20));
      EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
    }
  }
  std::string M(const std::string& name) const { return mnt_ + "/" + name; }

  TempDir tmp_;
  std::string source_, mnt_;
  std::unique_ptr<PassthroughFs> fs_;
  std::unique_ptr<InProcessMount> mount_;
  std::unique_ptr<ChildServer> server_;
};

// Each returns 0 when the call failed with `err`, else a distinct code.
#define FAIL_UNLESS_ERRNO(call, err, code) \
  do {                                \
    if ((call) != -1) return code;    \
    if (errno != (err)) return code + 1; \
  } while (0)

TEST_P(AllowOther, UnprivilegedUserGetsNativePermissions) {
  const std::string pub = M("public"), secret = M("secret"), rootdir_new = M("rootdir/new"),
                    rootdir_dir = M("rootdir/newdir"), rootfile = M("sticky/rootfile"),
                    mine = M("userdir/mine"), mydir = M("userdir/mydir"), group = M("group");
  const char *p_pub = pub.c_str(), *p_secret = secret.c_str(), *p_new = rootdir_new.c_str(),
             *p_newdir = rootdir_dir.c_str(), *p_rootfile = rootfile.c_str(),
             *p_mine = mine.c_str(), *p_mydir = mydir.c_str(), *p_group = group.c_str();

  // The mount is usable at all: a public file reads.
  EXPECT_EQ(AsUser([=] {
              char buf[16];
              int fd = ::open(p_pub, O_RDONLY);
              if (fd < 0) return 1;
              ssize_t n = ::read(fd, buf, sizeof(buf));
              ::close(fd);
              return n == 6 ? 0 : 2;
            }),
            0);
  EXPECT_EQ(AsUser([=] {
              FAIL_UNLESS_ERRNO(::open(p_secret, O_RDONLY), EACCES, 10);
              FAIL_UNLESS_ERRNO(::open(p_secret, O_WRONLY | O_TRUNC), EACCES, 12);
              FAIL_UNLESS_ERRNO(::truncate(p_secret, 0), EACCES, 14);
              FAIL_UNLESS_ERRNO(::chmod(p_secret, 0777), EPERM, 16);
              FAIL_UNLESS_ERRNO(::chown(p_secret, kUser, kUser), EPERM, 18);
              FAIL_UNLESS_ERRNO(::chown(p_pub, kUser, static_cast<gid_t>(-1)), EPERM, 20);
              FAIL_UNLESS_ERRNO(::setxattr(p_pub, "user.x", "1", 1, 0), EACCES, 22);
              FAIL_UNLESS_ERRNO(::open(p_new, O_WRONLY | O_CREAT, 0644), EACCES, 24);
              FAIL_UNLESS_ERRNO(::mkdir(p_newdir, 0755), EACCES, 26);
              FAIL_UNLESS_ERRNO(::unlink(p_rootfile), EPERM, 28);
              FAIL_UNLESS_ERRNO(::open(p_group, O_RDONLY), EACCES, 30);
              return 0;
            }),
            0);
  EXPECT_EQ(AsUser([=] {
              int fd = ::open(p_mine, O_WRONLY | O_CREAT | O_EXCL, 0600);
              if (fd < 0) return 1;
              if (::write(fd, "mine", 4) != 4) return 2;
              ::close(fd);
              if (::mkdir(p_mydir, 0700) != 0) return 3;
              return 0;
            }),
            0);
  EXPECT_EQ(AsUser(
                [=] {
                  char buf[16];
                  int fd = ::open(p_group, O_RDONLY);
                  if (fd < 0) return 1;
                  ssize_t n = ::read(fd, buf, sizeof(buf));
                  ::close(fd);
                  return n == 5 ? 0 : 2;
                },
                {kGroup}),
            0)
      << "a supplementary group reads a 0640 file of that group";

  struct stat st;
  ASSERT_EQ(::stat((source_ + "/userdir/mine").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kUser);
  EXPECT_EQ(st.st_gid, kUser);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat((source_ + "/userdir/mydir").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kUser);
  ASSERT_EQ(::stat((source_ + "/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(ReadFile(source_ + "/secret"), "secret");
  ASSERT_EQ(::stat((source_ + "/public").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(::access((source_ + "/sticky/rootfile").c_str(), F_OK), 0);
  EXPECT_EQ(::access((source_ + "/rootdir/new").c_str(), F_OK), -1);
  EXPECT_EQ(Entries(source_ + "/rootdir"), std::set<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Variants, AllowOther,
                         testing::Values(Variant::kInProcess, Variant::kBinary),
                         [](const testing::TestParamInfo<Variant>& i) {
                           return i.param == Variant::kInProcess ? "InProcess" : "Binary";
                         });

}  // namespace
}  // namespace passthroughfs
