// passthroughfs semantics that the behaviour suite does not reach: inodes
// forgotten under memory pressure, attributes after mmap writes, and
// O_DIRECT opens.
#include <fcntl.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
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

constexpr uid_t kUser = 4321;

enum class Mode { kNative, kPassthrough, kNever, kDirectIo };

std::string Name(const testing::TestParamInfo<Mode>& info) {
  switch (info.param) {
    case Mode::kNative: return "Native";
    case Mode::kPassthrough: return "Passthrough";
    case Mode::kNever: return "PassthroughNever";
    case Mode::kDirectIo: return "DirectIo";
  }
  return "?";
}

class Semantics : public testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    // mkdtemp makes 0700 directories: let the unprivileged user through.
    ::chmod(tmp_.path().c_str(), 0755);
    source_ = tmp_.Sub("source");
    ::chmod(source_.c_str(), 0777);
    if (GetParam() == Mode::kNative) {
      root_ = source_;
      return;
    }
    FsOptions options;
    options.passthrough = GetParam() == Mode::kNever ? PassthroughMode::kNever : PassthroughMode::kAuto;
    options.direct_io = GetParam() == Mode::kDirectIo;
    options.default_permissions = true;
    auto fs = PassthroughFs::Create(UniqueFd(::open(source_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)),
                                    options);
    ASSERT_TRUE(fs) << fs.error().message();
    fs_ = std::move(*fs);
    fusekit::MountOptions mount_options;
    mount_options.allow_other = true;
    mount_options.default_permissions = true;
    mount_ = InProcessMount::Start(*fs_, fs_->SessionConfig(), mount_options);
    ASSERT_NE(mount_, nullptr);
    root_ = mount_->path();
    ::chmod(root_.substr(0, root_.rfind('/')).c_str(), 0755);
  }
  void TearDown() override {
    if (mount_) {
      EXPECT_TRUE(mount_->Stop());
    }
  }

  // Runs `fn` in a child process as an unprivileged user; returns its exit
  // status. Only async-signal-safe calls in the child: the parent serves
  // the mount from other threads.
  template <typename Fn>
  int AsUser(Fn fn) {
    pid_t pid = ::fork();
    if (pid == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(kUser, kUser, kUser) != 0 ||
          ::setresuid(kUser, kUser, kUser) != 0)
        ::_exit(100);
      ::_exit(fn());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
  }

  std::string Path(const std::string& name) const { return root_ + "/" + name; }

  TempDir tmp_;
  std::string source_;
  std::string root_;
  std::unique_ptr<PassthroughFs> fs_;
  std::unique_ptr<InProcessMount> mount_;
};

// setuid/setgid under writes, truncation and the rest: setid_test.cc.

TEST_P(Semantics, MmapWritesShowInMtimeAfterFsync) {
  std::string path = Path("mapped");
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::ftruncate(fd.get(), 8192), 0);
  struct stat before;
  ASSERT_EQ(::fstat(fd.get(), &before), 0);
  ::usleep(20000);  // let the clock move past `before` (not a timing assertion)
  void* map = ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  ASSERT_NE(map, MAP_FAILED);
  std::memcpy(map, "mmap", 4);
  ASSERT_EQ(::msync(map, 8192, MS_SYNC), 0);
  ::munmap(map, 8192);
  ASSERT_EQ(::fsync(fd.get()), 0);
  struct stat through, in_source;
  ASSERT_EQ(::stat(path.c_str(), &through), 0);
  ASSERT_EQ(::stat((source_ + "/mapped").c_str(), &in_source), 0);
  EXPECT_EQ(through.st_mtim.tv_sec, in_source.st_mtim.tv_sec);
  EXPECT_EQ(through.st_mtim.tv_nsec, in_source.st_mtim.tv_nsec);
  EXPECT_NE(in_source.st_mtim.tv_nsec + in_source.st_mtim.tv_sec * 1000000000L,
            before.st_mtim.tv_nsec + before.st_mtim.tv_sec * 1000000000L)
      << "the mmap write changed mtime";
}

TEST_P(Semantics, ODirectReadsAndWritesAlignedBlocks) {
  std::string path = Path("direct");
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0644));
  if (!fd && errno == EINVAL) GTEST_SKIP() << "the source filesystem refuses O_DIRECT";
  ASSERT_TRUE(fd) << std::strerror(errno);
  void* buf = nullptr;
  ASSERT_EQ(::posix_memalign(&buf, 4096, 8192), 0);
  std::memset(buf, 'd', 8192);
  EXPECT_EQ(::pwrite(fd.get(), buf, 8192, 0), 8192);
  std::memset(buf, 0, 8192);
  EXPECT_EQ(::pread(fd.get(), buf, 8192, 0), 8192);
  EXPECT_EQ(static_cast<char*>(buf)[8191], 'd');
  std::free(buf);
}

TEST_P(Semantics, DroppedCachesForgetInodes) {
  if (GetParam() == Mode::kNative) GTEST_SKIP() << "inode table only through the mount";
  for (int i = 0; i < 2000; ++i) {
    UniqueFd fd(::open(Path("f" + std::to_string(i)).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd);
  }
  EXPECT_GE(fs_->inode_count(), 2000u);
  // Dentries and inodes go; the kernel sends FORGET for each.
  std::ofstream("/proc/sys/vm/drop_caches") << "2" << std::endl;
  EXPECT_TRUE(WaitUntil([&] { return fs_->inode_count() < 100; }, seconds(20)))
      << fs_->inode_count() << " inodes left after drop_caches";
  EXPECT_GT(mount_->session().stats().count(Opcode::FORGET) +
                mount_->session().stats().count(Opcode::BATCH_FORGET),
            0u);
}

INSTANTIATE_TEST_SUITE_P(Modes, Semantics,
                         testing::Values(Mode::kNative, Mode::kPassthrough, Mode::kNever,
                                         Mode::kDirectIo),
                         Name);

}  // namespace
}  // namespace passthroughfs
