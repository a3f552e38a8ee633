// FUSE-over-io_uring on real mounts: passthroughfs (every byte through the
// daemon) and an asynchronous HelloFs served with Config::io_uring, checking
// that requests really came over the rings, that file operations work, that
// unmount and Stop() end Run() promptly, and that without the kernel's
// enable_uring the same config still serves over /dev/fuse.
//
// The tests set /sys/module/fuse/parameters/enable_uring (a global switch,
// read by the kernel at INIT) and restore it; they skip when it cannot be
// written (not root, or a kernel without CONFIG_FUSE_IO_URING).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fusekit/capabilities.h"
#include "hello_fs.h"
#include "mount_fixture.h"
#include "passthrough_fs.h"

namespace fusekit::testing {
namespace {

using namespace std::chrono_literals;
using passthroughfs::CacheMode;
using passthroughfs::FsOptions;
using passthroughfs::PassthroughFs;
using passthroughfs::PassthroughMode;

constexpr const char* kEnableUring = "/sys/module/fuse/parameters/enable_uring";

// Sets enable_uring for the test's lifetime, then puts back what was there.
class EnableUring {
 public:
  explicit EnableUring(bool on) {
    std::ifstream in(kEnableUring);
    if (!(in >> previous_)) return;
    ok_ = Write(on ? "Y" : "N");
  }
  ~EnableUring() {
    if (ok_) Write(previous_);
  }
  bool ok() const { return ok_; }

 private:
  static bool Write(const std::string& value) {
    std::ofstream out(kEnableUring);
    out << value << '\n';
    out.flush();
    return static_cast<bool>(out);
  }
  std::string previous_;
  bool ok_ = false;
};

#define SKIP_UNLESS_URING(guard)                                                        \
  if (!(guard).ok())                                                                    \
  GTEST_SKIP() << "cannot write " << kEnableUring                                       \
               << " (needs root and a kernel with CONFIG_FUSE_IO_URING)"

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs `f` on another thread; false if it did not finish within `timeout`.
bool FinishesWithin(std::chrono::milliseconds timeout, std::function<void()> f) {
  auto done = std::async(std::launch::async, std::move(f));
  return done.wait_for(timeout) == std::future_status::ready;
}

struct PassthroughMount {
  TempDir tmp;
  std::string source = tmp.Sub("source");
  std::unique_ptr<PassthroughFs> fs;
  std::unique_ptr<InProcessMount> mount;
};

// passthroughfs with every read and write through the daemon.
std::unique_ptr<PassthroughMount> StartPassthrough() {
  auto p = std::make_unique<PassthroughMount>();
  FsOptions options;
  options.passthrough = PassthroughMode::kNever;
  options.cache = CacheMode::kNever;
  options.io_uring = true;
  UniqueFd source_fd(::open(p->source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  EXPECT_TRUE(source_fd) << std::strerror(errno);
  auto fs = PassthroughFs::Create(std::move(source_fd), options);
  EXPECT_TRUE(fs) << fs.error().message();
  if (!fs) return nullptr;
  ::umask(022);
  p->fs = std::move(*fs);
  Config config = p->fs->SessionConfig();
  EXPECT_TRUE(config.io_uring);
  p->mount = InProcessMount::Start(*p->fs, config);
  if (!p->mount) return nullptr;
  return p;
}

TEST(IoUring, FileOperationsAreServedOverTheRing) {
  EnableUring guard(true);
  SKIP_UNLESS_URING(guard);
  auto p = StartPassthrough();
  ASSERT_NE(p, nullptr);
  const std::string root = p->mount->path();
  Session& session = p->mount->session();
  ASSERT_TRUE(session.connection().io_uring());

  // create, write (> 128 KiB in one WRITE), read back through the daemon
  std::string data(300 * 1024, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i * 7 % 26);
  {
    UniqueFd fd(::open((root + "/big").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd) << std::strerror(errno);
    ASSERT_EQ(::write(fd.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
    std::string back(data.size(), '\0');
    ASSERT_EQ(::pread(fd.get(), back.data(), back.size(), 0), static_cast<ssize_t>(back.size()));
    EXPECT_TRUE(back == data);
  }
  EXPECT_TRUE(ReadAll(p->source + "/big") == data);
  EXPECT_TRUE(ReadAll(root + "/big") == data);

  // stat, mkdir, small files, readdir, rename, unlink, rmdir
  struct stat st;
  ASSERT_EQ(::stat((root + "/big").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, static_cast<off_t>(data.size()));
  ASSERT_EQ(::mkdir((root + "/dir").c_str(), 0755), 0) << std::strerror(errno);
  for (int i = 0; i < 20; ++i) {
    std::ofstream((root + "/dir/f" + std::to_string(i))) << "file " << i;
  }
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(root + "/dir"))
    names.push_back(e.path().filename().string());
  EXPECT_EQ(names.size(), 20u);
  EXPECT_EQ(ReadAll(root + "/dir/f7"), "file 7");
  ASSERT_EQ(::rename((root + "/dir/f7").c_str(), (root + "/dir/g7").c_str()), 0);
  EXPECT_EQ(ReadAll(p->source + "/dir/g7"), "file 7");
  for (const auto& e : std::filesystem::directory_iterator(root + "/dir"))
    ASSERT_EQ(::unlink(e.path().c_str()), 0) << e.path() << ": " << std::strerror(errno);
  ASSERT_EQ(::rmdir((root + "/dir").c_str()), 0) << std::strerror(errno);
  ASSERT_EQ(::unlink((root + "/big").c_str()), 0);
  EXPECT_NE(::stat((root + "/big").c_str(), &st), 0);
  EXPECT_EQ(errno, ENOENT);

  // Every one of these requests came over a ring: the kernel holds requests
  // until the rings are ready, and afterwards sends only FORGET and
  // INTERRUPT through /dev/fuse.
  const Stats& stats = session.stats();
  for (Opcode op : {Opcode::LOOKUP, Opcode::GETATTR, Opcode::CREATE, Opcode::WRITE, Opcode::READ,
                    Opcode::MKDIR, Opcode::OPENDIR, Opcode::RENAME, Opcode::UNLINK,
                    Opcode::RMDIR, Opcode::RELEASE}) {
    SCOPED_TRACE(OpcodeName(op));
    EXPECT_GT(stats.count(op), 0u);
    EXPECT_EQ(stats.io_uring_count(op), stats.count(op));
  }
  uint64_t readdirs = stats.io_uring_count(Opcode::READDIR) +
                      stats.io_uring_count(Opcode::READDIRPLUS);
  EXPECT_GT(readdirs, 0u);
  EXPECT_EQ(stats.io_uring_count(Opcode::INIT), 0u);

  // Stop() unmounts and must end Run promptly (the fixture aborts the
  // connection and reports failure after 10 s).
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(p->mount->Stop());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

// The names of this process's threads, for a failure message.
std::string ThreadNames() {
  std::string names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task"))
    names += " " + ReadAll(task.path().string() + "/comm");
  return names;
}

// Rings, eventfds, cloned device fds and pinned threads all go with the
// session.
TEST(IoUring, NoThreadOrFdLeftBehind) {
  EnableUring guard(true);
  SKIP_UNLESS_URING(guard);
  examples::HelloFs fs;
  Config config;
  config.io_uring = true;
  {
    // The first mount creates what lives for the whole process (the
    // logger, sanitizer threads).
    auto warm_up = InProcessMount::Start(fs, config);
    ASSERT_NE(warm_up, nullptr);
    ASSERT_TRUE(warm_up->Stop());
  }
  // The kernel's io_uring workers of the warm-up's rings (iou-wrk-*, tasks
  // of this process) end a moment after their ring: not in the baseline.
  WaitUntil([] { return ThreadNames().find(" iou-") == std::string::npos; }, 15s);
  const size_t fds = CountOpenFds();
  const size_t threads = CountThreads();
  for (int i = 0; i < 5; ++i) {
    auto m = InProcessMount::Start(fs, config);
    ASSERT_NE(m, nullptr) << "round " << i;
    ASSERT_TRUE(m->session().connection().io_uring());
    EXPECT_EQ(ReadAll(m->path() + "/" + std::string(examples::HelloFs::kName)),
              std::string(examples::HelloFs::kContent));
    ASSERT_TRUE(m->Stop()) << "round " << i;
  }
  // Joined threads leave /proc/self/task a moment after join returns; under
  // load (a full `make test` on 2 CPUs) that moment was once over 5 s.
  WaitUntil([&] { return CountOpenFds() == fds && CountThreads() == threads; }, 15s);
  EXPECT_EQ(CountOpenFds(), fds);
  EXPECT_EQ(CountThreads(), threads) << "threads now:" << ThreadNames();
}

// HelloFs answering LOOKUP and GETATTR later, from a thread of its own: the
// reply must be handed to the ring's thread.
class AsyncHello : public examples::HelloFs {
 public:
  AsyncHello() : worker_([this] { Loop(); }) {}
  ~AsyncHello() override {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  void Init(const ConnectionInfo& info) override { io_uring = info.io_uring(); }
  void Lookup(const Context& ctx, const req::Lookup& in, ReplyEntry reply) override {
    auto r = std::make_shared<ReplyEntry>(std::move(reply));
    Defer([this, ctx, in = std::string(in.name), r] {
      HelloFs::Lookup(ctx, req::Lookup{in}, std::move(*r));
    });
  }
  void GetAttr(const Context& ctx, const req::GetAttr& in, ReplyAttr reply) override {
    auto r = std::make_shared<ReplyAttr>(std::move(reply));
    Defer([this, ctx, in, r] { HelloFs::GetAttr(ctx, in, std::move(*r)); });
  }

  std::atomic<bool> io_uring{false};

 private:
  void Defer(std::function<void()> f) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(f));
    }
    cv_.notify_one();
  }
  void Loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return done_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool done_ = false;
  std::thread worker_;
};

TEST(IoUring, AsynchronousRepliesFromAnotherThread) {
  EnableUring guard(true);
  SKIP_UNLESS_URING(guard);
  AsyncHello fs;
  Config config;
  config.io_uring = true;
  auto mount = InProcessMount::Start(fs, config);
  ASSERT_NE(mount, nullptr);
  EXPECT_TRUE(fs.io_uring);
  const std::string file = mount->path() + "/" + std::string(examples::HelloFs::kName);
  // Callers on every CPU, so that every queue gets requests.
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned c = 0; c < cpus; ++c) {
    callers.emplace_back([&, c] {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(c, &set);
      pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
      for (int i = 0; i < 200; ++i) {
        struct stat st;
        if (::stat(file.c_str(), &st) != 0 ||
            st.st_size != static_cast<off_t>(examples::HelloFs::kContent.size()))
          ++failures;
      }
    });
  }
  ASSERT_TRUE(FinishesWithin(20s, [&] {
    for (auto& t : callers) t.join();
  })) << "stat hangs";
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ReadAll(file), std::string(examples::HelloFs::kContent));
  const Stats& stats = mount->session().stats();
  EXPECT_GT(stats.io_uring_count(Opcode::GETATTR) + stats.io_uring_count(Opcode::LOOKUP), 0u);
  EXPECT_EQ(stats.io_uring_count(Opcode::GETATTR), stats.count(Opcode::GETATTR));
  EXPECT_EQ(stats.io_uring_count(Opcode::READ), stats.count(Opcode::READ));
  EXPECT_TRUE(mount->Stop());
}

// A plain umount (no Session::Stop) ends Run: the kernel completes the
// rings' commands with ENOTCONN.
TEST(IoUring, UnmountEndsRun) {
  EnableUring guard(true);
  SKIP_UNLESS_URING(guard);
  TempDir tmp;
  std::string path = tmp.Sub("mnt");
  examples::HelloFs fs;
  auto mount = Mount::Create(path, {});
  ASSERT_TRUE(mount) << mount.error().message();
  Config config;
  config.io_uring = true;
  auto session = Session::Create(fs, *mount, config);
  ASSERT_TRUE(session) << session.error().message();
  std::promise<Status> ran;
  auto result = ran.get_future();
  std::thread runner([&] { ran.set_value((*session)->Run()); });
  ASSERT_TRUE(WaitUntil([&] { return (*session)->ready(); }, 10s));
  EXPECT_EQ(ReadAll(path + "/" + std::string(examples::HelloFs::kName)),
            std::string(examples::HelloFs::kContent));
  EXPECT_TRUE((*session)->connection().io_uring());
  EXPECT_GT((*session)->stats().io_uring_count(Opcode::READ), 0u);
  ASSERT_EQ(::umount2(path.c_str(), 0), 0) << std::strerror(errno);
  bool returned = result.wait_for(5s) == std::future_status::ready;
  if (!returned) {
    ADD_FAILURE() << "Run did not return 5 s after umount";
    (void)AbortConnection(mount->connection_id());
  }
  runner.join();
  EXPECT_TRUE(result.get());
}

// io_uring asked for, but the kernel does not offer it: /dev/fuse as before.
TEST(IoUring, FallsBackToDevFuseWhenTheKernelDoesNotOfferIt) {
  EnableUring guard(false);
  SKIP_UNLESS_URING(guard);
  examples::HelloFs fs;
  Config config;
  config.io_uring = true;
  auto mount = InProcessMount::Start(fs, config);
  ASSERT_NE(mount, nullptr);
  EXPECT_FALSE(mount->session().connection().io_uring());
  EXPECT_FALSE(mount->session().connection().kernel_flags & cap::kOverIoUring);
  const std::string file = mount->path() + "/" + std::string(examples::HelloFs::kName);
  EXPECT_EQ(ReadAll(file), std::string(examples::HelloFs::kContent));
  const Stats& stats = mount->session().stats();
  EXPECT_GT(stats.count(Opcode::READ), 0u);
  EXPECT_EQ(stats.io_uring_count(Opcode::READ), 0u);
  EXPECT_EQ(stats.io_uring_count(Opcode::LOOKUP), 0u);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(mount->Stop());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

}  // namespace
}  // namespace fusekit::testing
