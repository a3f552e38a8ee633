#include "mount_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "fusekit/mountinfo.h"

extern char** environ;

namespace fusekit::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// How long a lazy unmount may take before we assume the path walk is stuck
// on a hung server and abort its connection.
constexpr milliseconds kDetachTimeout = seconds(5);
// How long Run may take to return after Stop() before the connection is
// aborted.
constexpr milliseconds kStopTimeout = seconds(10);

// The path as mountinfo shows it. Only the parent is resolved: resolving
// the mount point itself would stat the mount, which fails on a dead
// server and blocks on a hung one.
std::string Canonical(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return Canonical("./" + path);
  std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  char resolved[PATH_MAX];
  if (::realpath(parent.c_str(), resolved) == nullptr) return path;
  std::string out = resolved;
  if (out != "/") out += '/';
  return out + path.substr(slash + 1);
}

bool IsFuse(const MountInfoEntry& m) {
  return m.fstype == "fuse" || m.fstype == "fuseblk" || m.fstype.rfind("fuse.", 0) == 0 ||
         m.fstype.rfind("fuseblk.", 0) == 0;
}

// Detaches the topmost mount at `path` (canonical). umount2(MNT_DETACH)
// does not wait for the server, but the path walk could still block on a
// hung FUSE mount; it runs on a helper thread and, if it does not finish
// in time, the connection is aborted so that it can.
void DetachMount(const std::string& path) {
  std::optional<MountInfoEntry> top;
  for (auto& m : ReadMountInfo()) {
    if (m.point == path) top = m;
  }
  if (!top) return;
  std::promise<int> promise;
  auto future = promise.get_future();
  std::thread detacher([&path, promise = std::move(promise)]() mutable {
    promise.set_value(::umount2(path.c_str(), MNT_DETACH) == 0 ? 0 : errno);
  });
  if (future.wait_for(kDetachTimeout) != std::future_status::ready && IsFuse(*top)) {
    std::cerr << "fixture: unmounting " << path << " hangs; aborting FUSE connection "
              << top->minor << "\n";
    auto status = AbortConnection(top->minor);
    if (!status) std::cerr << "fixture: abort failed: " << status.error().message() << "\n";
  }
  detacher.join();
  if (int e = future.get(); e != 0 && e != EINVAL && e != ENOENT) {
    std::cerr << "fixture: umount2(" << path << "): " << std::strerror(e) << "\n";
  }
}

// Detaches every mount at `path` (they may be stacked), a bounded number
// of times so that a mount that cannot go away cannot loop forever.
void DetachAll(const std::string& path) {
  for (int i = 0; i < 8 && IsMounted(path); ++i) DetachMount(Canonical(path));
}

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  if (::remove(path) != 0) {
    std::cerr << "fixture: remove " << path << ": " << std::strerror(errno) << "\n";
  }
  return 0;  // keep going: remove as much as possible
}

}  // namespace

// ---------------------------------------------------------------- TempDir

TempDir::TempDir() {
  char tmpl[] = "/tmp/fusekit-test.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    // Nothing sensible can follow without a directory; gtest reports the
    // exception as a failure of the current test.
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  // Canonical, so that it compares equal to the mount points in mountinfo
  // (/tmp may be a symlink).
  char resolved[PATH_MAX];
  path_ = ::realpath(tmpl, resolved) ? resolved : tmpl;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  // Deepest mounts first: a mount below another cannot be reached once its
  // parent is detached.
  std::vector<std::string> below;
  for (auto& m : ReadMountInfo()) {
    if (m.point == path_ || m.point.rfind(path_ + "/", 0) == 0) below.push_back(m.point);
  }
  std::sort(below.begin(), below.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  below.erase(std::unique(below.begin(), below.end()), below.end());
  for (auto& point : below) DetachAll(point);
  // FTW_MOUNT: never descend into a mount that survived the above, so that
  // removing the tree can never delete anything outside it.
  ::nftw(path_.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

std::string TempDir::Sub(const std::string& name) const {
  std::string sub = path_ + "/" + name;
  if (::mkdir(sub.c_str(), 0755) != 0 && errno != EEXIST) {
    ADD_FAILURE() << "mkdir " << sub << ": " << std::strerror(errno);
  }
  return sub;
}

// ---------------------------------------------------------------- helpers

bool IsMounted(const std::string& path) {
  std::string canonical = Canonical(path);
  for (auto& m : ReadMountInfo()) {
    if (m.point == canonical) return true;
  }
  return false;
}

bool WaitUntil(const std::function<bool()>& pred, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

std::string BinaryPath(const std::string& name) {
  const std::string root = FUSEKIT_BINARY_DIR;
  for (const char* dir : {"/examples/", "/src/passthroughfs/", "/"}) {
    std::string candidate = root + dir + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  ADD_FAILURE() << "no built binary '" << name << "' under " << root
                << "/{examples,src/passthroughfs}; is it built?";
  return "";
}

namespace {

// Entries of a /proc directory, not counting the fd used to read it.
size_t CountEntries(const char* dir_path) {
  DIR* dir = ::opendir(dir_path);
  if (dir == nullptr) return 0;
  size_t n = 0;
  while (dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    ++n;
  }
  ::closedir(dir);
  return n;
}

}  // namespace

size_t CountOpenFds() { return CountEntries("/proc/self/fd") - 1; }
size_t CountThreads() { return CountEntries("/proc/self/task"); }

// ---------------------------------------------------------------- InProcessMount

struct InProcessMount::RunState {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  Status status;

  bool Done() {
    std::lock_guard lock(mutex);
    return done;
  }
  bool WaitFor(milliseconds timeout) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, [&] { return done; });
  }
};

std::unique_ptr<InProcessMount> InProcessMount::Start(Operations& ops, Config config,
                                                      MountOptions options) {
  std::unique_ptr<InProcessMount> m(new InProcessMount());
  m->path_ = m->tmp_.Sub("mnt");
  auto mount = Mount::Create(m->path_, options);
  if (!mount) {
    ADD_FAILURE() << "cannot mount FUSE at " << m->path_ << ": " << mount.error().message()
                  << " (needs /dev/fuse and root, or fusermount3)";
    return nullptr;
  }
  m->mount_ = std::make_unique<Mount>(std::move(*mount));
  auto session = Session::Create(ops, *m->mount_, config);
  if (!session) {
    ADD_FAILURE() << "cannot create a session on " << m->path_ << ": "
                  << session.error().message();
    return nullptr;  // the destructor unmounts
  }
  m->session_ = std::move(*session);
  m->run_ = std::make_shared<RunState>();
  m->thread_ = std::thread([run = m->run_, session = m->session_.get(),
                            mount = m->mount_.get()] {
    Status status = session->Run();
    if (!status) {
      ADD_FAILURE() << "Session::Run on " << mount->mountpoint()
                    << " failed: " << status.error().message();
      // Nobody serves the mount any more: abort the connection so that
      // whatever the test does on it fails with ENOTCONN instead of
      // blocking forever.
      (void)AbortConnection(mount->connection_id());
    }
    std::lock_guard lock(run->mutex);
    run->done = true;
    run->status = status;
    run->cv.notify_all();
  });
  // Until INIT is answered the mount would block the test's first access,
  // and what Operations::Init recorded would not be safe to read yet.
  WaitUntil([&] { return m->session_->ready() || m->run_->Done(); }, kStopTimeout);
  if (!m->session_->ready()) {
    ADD_FAILURE() << "the session on " << m->path_ << " did not answer INIT"
                  << (m->run_->Done() ? "" : " within 10 s");
    return nullptr;  // the destructor stops it
  }
  return m;
}

bool InProcessMount::Stop() {
  if (stopped_) return clean_;
  stopped_ = true;
  if (session_) {
    session_->Stop();  // unmounts through the Mount's Unmounter and wakes the workers
    if (!run_->WaitFor(kStopTimeout)) {
      std::cerr << "fixture: Session::Run on " << path_
                << " did not return 10 s after Stop(); aborting FUSE connection "
                << mount_->connection_id() << "\n";
      auto status = AbortConnection(mount_->connection_id());
      if (!status) std::cerr << "fixture: abort failed: " << status.error().message() << "\n";
      clean_ = false;
    }
    thread_.join();
    if (!run_->status) clean_ = false;
  }
  if (mount_) (void)mount_->Unmount();
  DetachAll(path_);  // in case anything else got mounted there meanwhile
  return clean_;
}

InProcessMount::~InProcessMount() {
  if (!stopped_ && !Stop()) {
    ADD_FAILURE() << "the session on " << path_ << " did not stop cleanly";
  }
}

// ---------------------------------------------------------------- ChildServer

std::unique_ptr<ChildServer> ChildServer::Start(std::vector<std::string> argv,
                                                const std::string& mountpoint) {
  std::unique_ptr<ChildServer> c(new ChildServer());
  c->mountpoint_ = mountpoint;
  for (auto& a : argv) c->command_ += (c->command_.empty() ? "" : " ") + a;
  if (argv.empty() || argv[0].empty()) {
    ADD_FAILURE() << "ChildServer: no program to run";
    return nullptr;
  }
  c->output_.reset(::memfd_create("fusekit-child-output", MFD_CLOEXEC));
  if (!c->output_) {
    ADD_FAILURE() << "memfd_create: " << std::strerror(errno);
    return nullptr;
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  // dup2 clears CLOEXEC on the copies; both share one offset, so stdout
  // and stderr interleave without overwriting each other.
  posix_spawn_file_actions_adddup2(&actions, c->output_.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, c->output_.get(), 2);

  // The child starts with no blocked signals and default dispositions,
  // whatever the test runner did to its own.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int r = ::posix_spawnp(&c->pid_, args[0], &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (r != 0) {
    c->pid_ = -1;
    ADD_FAILURE() << "cannot run " << c->command_ << ": " << std::strerror(r);
    return nullptr;
  }
  return c;
}

bool ChildServer::Reap(bool block) {
  if (status_) return true;
  if (pid_ <= 0) return false;
  int wstatus = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &wstatus, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  status_ = wstatus;
  return true;
}

bool ChildServer::WaitMounted(milliseconds timeout) {
  if (mountpoint_.empty()) return false;
  WaitUntil([&] { return IsMounted(mountpoint_) || Reap(false); }, timeout);
  return IsMounted(mountpoint_);
}

void ChildServer::Signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<int> ChildServer::WaitExit(milliseconds timeout) {
  WaitUntil([&] { return Reap(false); }, timeout);
  return status_;
}

std::string ChildServer::Output() const {
  std::string out;
  char buf[4096];
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(output_.get(), buf, sizeof(buf), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    offset += n;
  }
  return out;
}

ChildServer::~ChildServer() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    Reap(/*block=*/true);
  }
  if (!mountpoint_.empty()) DetachAll(mountpoint_);
  // A failed test is easier to read with what the server said.
  if (::testing::Test::HasFailure() && output_) {
    std::string out = Output();
    constexpr size_t kMax = 16 << 10;
    if (out.size() > kMax) out = "[...]\n" + out.substr(out.size() - kMax);
    std::cerr << "--- output of " << command_ << " ---\n" << out << "--- end of output ---\n";
  }
}

}  // namespace fusekit::testing
