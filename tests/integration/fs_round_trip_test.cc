// Round trips passthroughfs spares the kernel, each checked together with
// the correctness it must not cost: daemon-served files keep their page
// cache only while SOURCE shows them unchanged; passthrough opens on a
// local source skip FLUSH, and attributes changed by mmap writes are still
// invalidated (at RELEASE); directory listings are cached by the kernel
// while SOURCE shows the directory unchanged; a hard link's second name is
// the same node without a second O_PATH fd.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "fusekit/session.h"
#include "mount_fixture.h"
#include "passthrough_fs.h"

namespace passthroughfs {
namespace {

using fusekit::Opcode;
using fusekit::UniqueFd;
using fusekit::testing::InProcessMount;
using fusekit::testing::TempDir;
using fusekit::testing::WaitUntil;
using std::chrono::seconds;

class RoundTrips : public testing::Test {
 protected:
  // Over `source`, or a fresh directory. Not watched unless asked: these
  // cases test what spares round trips without a watcher, and count the
  // daemon's own notifications.
  void Mount(FsOptions options, std::string source = "", bool watched = false) {
    if (!watched) options.watch = WatchMode::kOff;
    source_ = source.empty() ? tmp_.Sub("source") : source;
    auto fs = PassthroughFs::Create(
        UniqueFd(::open(source_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), options);
    ASSERT_TRUE(fs) << fs.error().message();
    fs_ = std::move(*fs);
    mount_ = InProcessMount::Start(*fs_, fs_->SessionConfig());
    ASSERT_NE(mount_, nullptr);
  }
  void TearDown() override {
    if (mount_) {
      EXPECT_TRUE(mount_->Stop());
    }
  }

  uint64_t count(Opcode op) const { return mount_->session().stats().count(op); }
  uint64_t attr_invalidations() const {
    return mount_->session().stats().notifications(fusekit::NotifyCode::kInvalInode);
  }
  std::string M(const std::string& name) const { return mount_->path() + "/" + name; }
  std::string S(const std::string& name) const { return source_ + "/" + name; }

  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void WriteAll(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  }

  TempDir tmp_;
  std::string source_;
  std::unique_ptr<PassthroughFs> fs_;
  std::unique_ptr<InProcessMount> mount_;
};

TEST_F(RoundTrips, DaemonServedFileKeepsItsPageCacheWhileUnchangedInSource) {
  FsOptions options;
  options.passthrough = PassthroughMode::kNever;
  ASSERT_NO_FATAL_FAILURE(Mount(options));
  WriteAll(S("f"), std::string(64 * 1024, 'a'));

  EXPECT_EQ(ReadAll(M("f")), std::string(64 * 1024, 'a'));
  uint64_t after_first = count(Opcode::READ);
  EXPECT_GT(after_first, 0u) << "the first read comes from the daemon";
  EXPECT_EQ(ReadAll(M("f")), std::string(64 * 1024, 'a'));
  EXPECT_EQ(count(Opcode::READ), after_first) << "a second open reads the kept page cache";

  // Changed behind the mount, same size: the next open must not serve the
  // old pages.
  ::usleep(10000);  // a new mtime even on a coarse clock (not a timing assertion)
  WriteAll(S("f"), std::string(64 * 1024, 'b'));
  EXPECT_EQ(ReadAll(M("f")), std::string(64 * 1024, 'b'));
  EXPECT_GT(count(Opcode::READ), after_first);
}

TEST_F(RoundTrips, WritesThroughTheMountAreReadBackAfterReopen) {
  FsOptions options;
  options.passthrough = PassthroughMode::kNever;
  ASSERT_NO_FATAL_FAILURE(Mount(options));
  WriteAll(S("f"), "old contents");
  EXPECT_EQ(ReadAll(M("f")), "old contents");
  WriteAll(M("f"), "new");
  EXPECT_EQ(ReadAll(M("f")), "new");
  EXPECT_EQ(ReadAll(S("f")), "new");
}

TEST_F(RoundTrips, PassthroughOpensOnALocalSourceSkipFlushButNotAttributes) {
  FsOptions options;
  options.attr_timeout = 600;  // only an invalidation can refresh them
  options.entry_timeout = 600;
  ASSERT_NO_FATAL_FAILURE(Mount(options));
  if (!fs_->passthrough_active()) GTEST_SKIP() << fs_->PassthroughStatus();
  if (fs_->flush_reports_errors()) GTEST_SKIP() << source_ << " is not on a local filesystem";
  WriteAll(S("mapped"), std::string(8192, '\0'));

  struct stat before;
  {
    UniqueFd fd(::open(M("mapped").c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(fd);
    void* map = ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    ASSERT_NE(map, MAP_FAILED);
    // mmap() itself invalidates the kernel's atime, so this stat refreshes
    // every attribute; after it only passthroughfs can tell the kernel.
    ASSERT_EQ(::stat(M("mapped").c_str(), &before), 0);
    ::usleep(20000);  // let the clock move past `before` (not a timing assertion)
    std::memcpy(map, "mmap", 4);
    ASSERT_EQ(::msync(map, 8192, MS_SYNC), 0);
    ::munmap(map, 8192);
  }
  EXPECT_EQ(count(Opcode::FLUSH), 0u) << "a passthrough open on a local source needs no FLUSH";
  struct stat in_source;
  ASSERT_EQ(::stat(S("mapped").c_str(), &in_source), 0);
  ASSERT_NE(in_source.st_mtim.tv_nsec, before.st_mtim.tv_nsec) << "the mmap write moved mtime";
  // RELEASE, which invalidates the attributes, is asynchronous to close().
  EXPECT_TRUE(WaitUntil(
      [&] {
        struct stat through;
        return ::stat(M("mapped").c_str(), &through) == 0 &&
               through.st_mtim.tv_sec == in_source.st_mtim.tv_sec &&
               through.st_mtim.tv_nsec == in_source.st_mtim.tv_nsec;
      },
      seconds(10)))
      << "the mount shows SOURCE's mtime after the last close";
  EXPECT_EQ(ReadAll(M("mapped")).substr(0, 4), "mmap");
}

// Kernel 6.18 sends GETATTR after FSYNC by itself, so what the mount shows
// cannot tell whether the daemon invalidated: its notifications can.
TEST_F(RoundTrips, FsyncOfAPassthroughWriteInvalidatesAttributes) {
  ASSERT_NO_FATAL_FAILURE(Mount(FsOptions{}));
  if (!fs_->passthrough_active()) GTEST_SKIP() << fs_->PassthroughStatus();
  UniqueFd fd(::open(M("f").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::pwrite(fd.get(), "data", 4, 0), 4);
  uint64_t before = attr_invalidations();
  ASSERT_EQ(::fsync(fd.get()), 0);
  EXPECT_EQ(attr_invalidations(), before + 1) << "FSYNC of a passthrough-written file";
  ASSERT_EQ(::fdatasync(fd.get()), 0);
  EXPECT_EQ(attr_invalidations(), before + 2) << "FSYNC with datasync";
}

TEST_F(RoundTrips, FsyncOfAReadOnlyPassthroughOpenSendsNoInvalidation) {
  ASSERT_NO_FATAL_FAILURE(Mount(FsOptions{}));
  if (!fs_->passthrough_active()) GTEST_SKIP() << fs_->PassthroughStatus();
  WriteAll(S("f"), "data");
  UniqueFd fd(::open(M("f").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  uint64_t before = attr_invalidations();
  ASSERT_EQ(::fsync(fd.get()), 0);
  EXPECT_EQ(attr_invalidations(), before);
}

// Over a source whose close() may report errors (overlayfs here) FLUSH is
// kept, and it is FLUSH that invalidates, synchronously inside close().
TEST_F(RoundTrips, FlushOfAPassthroughWriteInvalidatesAttributes) {
  std::string lower = tmp_.Sub("lower"), upper = tmp_.Sub("upper"), work = tmp_.Sub("work");
  std::string merged = tmp_.Sub("merged");
  std::string opts = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
  if (::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) != 0)
    GTEST_SKIP() << "cannot mount overlayfs: " << std::strerror(errno);
  ASSERT_NO_FATAL_FAILURE(Mount(FsOptions{}, merged));
  if (!fs_->passthrough_active()) GTEST_SKIP() << fs_->PassthroughStatus();
  ASSERT_TRUE(fs_->flush_reports_errors());
  UniqueFd fd(::open(M("f").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::pwrite(fd.get(), "data", 4, 0), 4);
  ASSERT_GT(fs_->counters().passthrough_opens.load(), 0u);
  uint64_t flushes = count(Opcode::FLUSH);
  uint64_t before = attr_invalidations();
  fd.reset();  // FLUSH, synchronously
  EXPECT_EQ(count(Opcode::FLUSH), flushes + 1);
  EXPECT_EQ(attr_invalidations(), before + 1) << "FLUSH of a passthrough-written file";
}

// FUSE_NOTIFY_PRUNE: the kernel drops the inodes it does not use and sends
// their FORGETs, which is how inodes held by fd give their fds back.
TEST_F(RoundTrips, PruneMakesTheKernelForgetUnusedInodes) {
  FsOptions options;
  options.inode_handles = InodeHandles::kNever;
  options.fd_cache = 64;
  ASSERT_NO_FATAL_FAILURE(Mount(options));
  for (int i = 0; i < 100; ++i) WriteAll(S("f" + std::to_string(i)), "x");
  UniqueFd held(::open(M("f0").c_str(), O_RDONLY | O_CLOEXEC));  // in use: stays
  ASSERT_TRUE(held);
  for (int i = 0; i < 100; ++i) {
    struct stat st;
    ASSERT_EQ(::stat(M("f" + std::to_string(i)).c_str(), &st), 0);
  }
  // Past the budget's high-water mark, lookups themselves prune.
  EXPECT_LE(fs_->inodes().fd_count(), 64u) << "fd-held inodes beyond the budget";
  uint64_t forgets = count(Opcode::FORGET) + count(Opcode::BATCH_FORGET);
  EXPECT_GT(forgets, 0u) << "no FORGET came back from the pruning";
  EXPECT_GT(mount_->session().stats().notifications(fusekit::NotifyCode::kPrune), 0u);
  struct stat st;
  EXPECT_EQ(::fstat(held.get(), &st), 0);
  EXPECT_EQ(ReadAll(M("f0")), "x");
}

TEST_F(RoundTrips, DirectoryListingIsCachedWhileUnchangedInSource) {
  ASSERT_NO_FATAL_FAILURE(Mount(FsOptions{}));
  for (int i = 0; i < 50; ++i) WriteAll(S("f" + std::to_string(i)), "x");
  auto listed = [&] {
    std::set<std::string> names;
    DIR* dir = ::opendir(mount_->path().c_str());
    if (dir == nullptr) return names;
    while (dirent* e = ::readdir(dir)) names.insert(e->d_name);
    ::closedir(dir);
    return names;
  };
  auto readdirs = [&] { return count(Opcode::READDIR) + count(Opcode::READDIRPLUS); };
  EXPECT_EQ(listed().size(), 52u);
  uint64_t after_first = readdirs();
  EXPECT_GT(after_first, 0u);
  EXPECT_EQ(listed().size(), 52u);
  EXPECT_EQ(readdirs(), after_first) << "the second listing comes from the kernel's cache";

  // Behind the mount: the next opendir sees the directory changed.
  WriteAll(S("new"), "y");
  auto names = listed();
  EXPECT_EQ(names.size(), 53u);
  EXPECT_TRUE(names.count("new"));
  // Through the mount: the kernel drops its cache itself.
  ASSERT_EQ(::unlink(M("f0").c_str()), 0);
  names = listed();
  EXPECT_EQ(names.size(), 52u);
  EXPECT_FALSE(names.count("f0"));
}

TEST_F(RoundTrips, NoDirectoryCacheWithCacheNever) {
  FsOptions options;
  options.cache = CacheMode::kNever;
  ASSERT_NO_FATAL_FAILURE(Mount(options));
  WriteAll(S("a"), "x");
  for (int round = 0; round < 2; ++round) {
    uint64_t before = count(Opcode::READDIR) + count(Opcode::READDIRPLUS);
    DIR* dir = ::opendir(mount_->path().c_str());
    ASSERT_NE(dir, nullptr);
    while (::readdir(dir) != nullptr) {
    }
    ::closedir(dir);
    EXPECT_GT(count(Opcode::READDIR) + count(Opcode::READDIRPLUS), before) << "round " << round;
  }
}

TEST_F(RoundTrips, SecondNameOfAKnownInodeIsTheSameNode) {
  ASSERT_NO_FATAL_FAILURE(Mount(FsOptions{}));
  WriteAll(S("a"), "x");
  ASSERT_EQ(::link(S("a").c_str(), S("b").c_str()), 0);
  struct stat a, b;
  ASSERT_EQ(::stat(M("a").c_str(), &a), 0);
  size_t inodes = fs_->inode_count();
  ASSERT_EQ(::stat(M("b").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_nlink, 2u);
  EXPECT_EQ(fs_->inode_count(), inodes) << "no second inode for a hard link";
}

}  // namespace
}  // namespace passthroughfs
