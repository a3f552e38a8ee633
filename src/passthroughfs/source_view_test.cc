#include "source_view.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace passthroughfs {
namespace {

using fusekit::Atime;
using fusekit::UniqueFd;

class SourceViewTest : public testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    char tmpl[] = "/tmp/source-view.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    UniqueFd f(::open((dir_ + "/f").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_EQ(::write(f.get(), "data", 4), 4);
    source_.reset(::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(source_);
  }
  void TearDown() override {
    if (!dir_.empty()) (void)!::system(("rm -rf '" + dir_ + "'").c_str());
  }

  // Whether reading f through `view` moved its atime (set long ago first).
  bool ReadMovesAtime(int view) {
    timespec times[2] = {{1'000'000'000, 0}, {0, UTIME_OMIT}};
    EXPECT_EQ(::utimensat(AT_FDCWD, (dir_ + "/f").c_str(), times, 0), 0);
    UniqueFd f(::openat(view, "f", O_RDONLY | O_CLOEXEC));
    EXPECT_TRUE(f);
    char buf[4];
    EXPECT_EQ(::read(f.get(), buf, 4), 4);
    struct stat st {};
    EXPECT_EQ(::stat((dir_ + "/f").c_str(), &st), 0);
    return st.st_atim.tv_sec != 1'000'000'000;
  }

  // What SOURCE's own mount does, as mount(8) would say it.
  AtimePolicy MountedPolicy() const {
    struct statvfs st {};
    EXPECT_EQ(::fstatvfs(source_.get(), &st), 0);
    return {(st.f_flag & ST_NOATIME)    ? Atime::kNoatime
            : (st.f_flag & ST_RELATIME) ? Atime::kRelatime
                                        : Atime::kStrictatime,
            (st.f_flag & ST_NODIRATIME) != 0};
  }

  std::string dir_;
  UniqueFd source_;
};

TEST_F(SourceViewTest, AsRootAPrivateCopyWithTheAskedAtimeOptions) {
  std::string refusal;
  auto noatime = OpenSourceView(source_.get(), {Atime::kNoatime, false}, refusal);
  ASSERT_TRUE(noatime) << noatime.error().message() << " " << refusal;
  EXPECT_TRUE(noatime->private_copy);
  EXPECT_FALSE(ReadMovesAtime(noatime->root.get()));
  auto relatime = OpenSourceView(source_.get(), {Atime::kRelatime, false}, refusal);
  ASSERT_TRUE(relatime);
  EXPECT_TRUE(ReadMovesAtime(relatime->root.get())) << "relatime moves an atime older than mtime";
  // The copy is of SOURCE itself: ".." of its root is its root.
  struct stat root, up;
  ASSERT_EQ(::fstatat(noatime->root.get(), "", &root, AT_EMPTY_PATH), 0);
  ASSERT_EQ(::fstatat(noatime->root.get(), "..", &up, 0), 0);
  EXPECT_EQ(root.st_ino, up.st_ino);
}

// Without CAP_SYS_ADMIN (a child that dropped it): SOURCE as it is mounted,
// and options it cannot honour refused with a message.
TEST_F(SourceViewTest, WithoutCapSysAdminOnlySourcesOwnOptions) {
  pid_t pid = ::fork();
  if (pid == 0) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2];
    if (::syscall(SYS_capget, &header, data) != 0) ::_exit(10);
    data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
    if (::syscall(SYS_capset, &header, data) != 0) ::_exit(11);
    std::string refusal;
    AtimePolicy mounted = MountedPolicy();
    auto own = OpenSourceView(source_.get(), mounted, refusal);
    if (!own || own->private_copy) ::_exit(12);
    AtimePolicy other{mounted.atime == Atime::kNoatime ? Atime::kStrictatime : Atime::kNoatime,
                      mounted.nodiratime};
    auto refused = OpenSourceView(source_.get(), other, refusal);
    if (refused || refused.error() != fusekit::Errno(EPERM)) ::_exit(13);
    if (refusal.find("-o " + Describe(other) + " cannot be honoured: SOURCE is mounted " +
                     Describe(mounted)) == std::string::npos)
      ::_exit(14);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "step that failed: " << WEXITSTATUS(status);
}

}  // namespace
}  // namespace passthroughfs
