// passthroughfs run by an unprivileged user, as users without root run it:
// mounted through fusermount3, with passthrough refused by the kernel (no
// CAP_SYS_ADMIN) and the per-file fallback said in the startup line;
// `fusermount3 -u`; auto_unmount after SIGKILL; and a scripted workload
// that must leave SOURCE as the same workload leaves a native directory.
// ctest runs it through unprivileged_ns.sh (a 0666 /dev/fuse in a private
// mount namespace).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fusekit/mountinfo.h"
#include "mount_fixture.h"
#include "process_helpers.h"

namespace fusekit::testing {
namespace {

using std::chrono::seconds;

class PassthroughfsAsUser : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    auto user = UnprivilegedUser::Nobody(&why);
    if (!user) GTEST_SKIP() << why;
    user_ = *user;
    ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0) << std::strerror(errno);
    source_ = tmp_.Sub("source");
    mnt_ = tmp_.Sub("mnt");
    native_ = tmp_.Sub("native");
    for (const auto& dir : {source_, mnt_, native_})
      ASSERT_EQ(::chown(dir.c_str(), user_.uid(), user_.gid()), 0) << std::strerror(errno);
    std::string built = BinaryPath("passthroughfs");
    ASSERT_FALSE(built.empty());
    binary_ = UnprivilegedUser::CopyExecutable(built, tmp_.path());
    ASSERT_FALSE(binary_.empty()) << "cannot copy " << built;
  }

  void Start(const std::string& options = "") {
    std::vector<std::string> argv = {binary_, "-f"};
    if (!options.empty()) argv.insert(argv.end(), {"-o", options});
    argv.insert(argv.end(), {source_, mnt_});
    child_ = ChildServer::Start(user_.AsUser(argv), mnt_);
    ASSERT_NE(child_, nullptr);
    ASSERT_TRUE(child_->WaitMounted()) << "passthroughfs as uid " << user_.uid()
                                       << " did not mount: " << child_->Output();
  }

  CommandResult AsUser(const std::string& script) {
    return RunCommand(user_.AsUser({"sh", "-ec", script}));
  }

  TempDir tmp_;
  UnprivilegedUser user_;
  std::string source_, mnt_, native_, binary_;
  std::unique_ptr<ChildServer> child_;
};

TEST_F(PassthroughfsAsUser, MountsThroughFusermountAndSaysWhyPassthroughIsOff) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto mount = FindMount(mnt_);
  ASSERT_TRUE(mount);
  EXPECT_EQ(mount->fstype, "fuse.passthroughfs");
  EXPECT_NE(("," + mount->super_options + ",").find(",user_id=" + std::to_string(user_.uid()) + ","),
            std::string::npos)
      << "not mounted by the user: " << mount->super_options;
  // The startup line follows INIT, which the mount may show before.
  WaitUntil([&] { return child_->Output().find("kernel passthrough") != std::string::npos; },
            seconds(5));
  std::string line = child_->Output();
  EXPECT_NE(line.find("kernel passthrough off"), std::string::npos) << line;
  EXPECT_NE(line.find("CAP_SYS_ADMIN"), std::string::npos) << "the reason is not named: " << line;

  auto write = AsUser("echo through the mount > '" + mnt_ + "/file'; cat '" + mnt_ + "/file'");
  EXPECT_TRUE(ExitedWith(write.status, 0)) << DescribeStatus(write.status) << ": " << write.output;
  EXPECT_EQ(write.output, "through the mount\n");
  struct stat st;
  ASSERT_EQ(::stat((source_ + "/file").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_uid, user_.uid()) << "SOURCE's file is not the user's";
  EXPECT_EQ(st.st_size, 18);
}

TEST_F(PassthroughfsAsUser, FusermountDashUEndsTheDaemonWithStatusZero) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto unmount = RunCommand(user_.AsUser({"fusermount3", "-u", mnt_}));
  EXPECT_TRUE(ExitedWith(unmount.status, 0)) << unmount.output;
  auto status = child_->WaitExit(seconds(10));
  EXPECT_TRUE(ExitedWith(status, 0)) << DescribeStatus(status) << ": " << child_->Output();
  EXPECT_FALSE(IsMounted(mnt_));
}

TEST_F(PassthroughfsAsUser, AutoUnmountRemovesTheMountOfAKilledDaemon) {
  // allow_other: fusermount3 before 3.15 checks, as root, that the dead
  // mount answers ENOTCONN (libfuse #586); unprivileged_ns.sh allows it.
  ASSERT_TRUE(UserAllowOther()) << "run through unprivileged_ns.sh (user_allow_other)";
  ASSERT_NO_FATAL_FAILURE(Start("auto_unmount,allow_other"));
  ASSERT_GT(FindAutoUnmountHelper(mnt_), 0) << "no fusermount3 watching " << mnt_;
  child_->Signal(SIGKILL);
  auto status = child_->WaitExit(seconds(10));
  ASSERT_TRUE(status && WIFSIGNALED(*status)) << DescribeStatus(status);
  EXPECT_TRUE(WaitUntil([&] { return !IsMounted(mnt_); }, seconds(10)))
      << "still mounted 10 s after the daemon was killed";
}

// The same shell script, run by the user in a native directory and at the
// mount, prints the same and leaves SOURCE as it leaves the native one.
TEST_F(PassthroughfsAsUser, AWorkloadDoesWhatItDoesNatively) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::string script = R"(
    cd "$1"
    mkdir -p a/b/c; echo one > a/f; echo two >> a/f; cat a/f
    dd if=/dev/zero of=big bs=64k count=16 2>/dev/null; truncate -s 100000 big
    ln -s f a/link; ln a/f a/hard; mv a/b/c a/c2; mv big a/big
    chmod 640 a/f; chmod 700 a/c2; touch -d @1000000000 a/f
    echo x > gone; rm gone; rmdir a/b
    if mkdir a 2>/dev/null; then echo mkdir-existing-ok; else echo mkdir-existing-fails; fi
    if cat missing 2>/dev/null; then echo cat-ok; else echo cat-fails; fi
    readlink a/link; stat -c '%Y' a/f
    find . -printf '%p %y %s %m %n\n' | grep -v '^\. ' | sort
  )";
  auto native = RunCommand(user_.AsUser({"sh", "-ec", script, "sh", native_}));
  ASSERT_TRUE(ExitedWith(native.status, 0)) << native.output;
  auto mounted = RunCommand(user_.AsUser({"sh", "-ec", script, "sh", mnt_}));
  ASSERT_TRUE(ExitedWith(mounted.status, 0)) << mounted.output;
  EXPECT_EQ(mounted.output, native.output);
  // What the mount left in SOURCE, read beside it.
  auto list = [&](const std::string& dir) {
    return RunCommand({"sh", "-c",
                       "cd '" + dir + "' && find . -printf '%p %y %s %m %n %U\\n' | "
                       "grep -v '^\\. ' | sort"})
        .output;
  };
  EXPECT_EQ(list(source_), list(native_));
}

}  // namespace
}  // namespace fusekit::testing
