// bindfs-style policy options at a real passthroughfs mount, as root and
// as other users: what stat shows, what each user may do, and that what a
// policy denies or ignores leaves SOURCE as it was. Each runs with kernel
// passthrough and with passthrough=never.
#include <fcntl.h>
#include <pwd.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mount_fixture.h"
#include "process_helpers.h"

namespace fusekit::testing {
namespace {

class PolicyMount : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (other users, allow_other)";
    ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
    source_ = tmp_.Sub("source");
    mnt_ = tmp_.Sub("mnt");
    ASSERT_EQ(::chmod(source_.c_str(), 0755), 0);
    Write(source_ + "/file", "secret\n", 0600);
    ASSERT_EQ(::mkdir((source_ + "/dir").c_str(), 0700), 0);
    Write(source_ + "/dir/inner", "inner\n", 0640);
    nobody_ = ::getpwnam("nobody")->pw_uid;
  }

  static void Write(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream(path) << text;
    ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
  }

  void Mount(const std::string& policy) {
    std::string options = "allow_other," + policy + "," + GetParam();
    child_ = ChildServer::Start({BinaryPath("passthroughfs"), "-f", "-o", options, source_, mnt_},
                                mnt_);
    ASSERT_NE(child_, nullptr);
    ASSERT_TRUE(child_->WaitMounted()) << child_->Output();
  }

  // A shell command run as `user` (a name), its exit status.
  int As(const std::string& user, const std::string& command) { return RunShellAs(user, command); }

  struct stat Stat(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
    return st;
  }

  TempDir tmp_;
  std::string source_, mnt_;
  uid_t nobody_ = 0;
  std::unique_ptr<ChildServer> child_;
};

TEST_P(PolicyMount, ForcedOwnerAndPermsAreShownAndEnforced) {
  ASSERT_NO_FATAL_FAILURE(Mount("force-user=nobody,force-group=nogroup,perms=0000:u+rD"));
  struct stat file = Stat(mnt_ + "/file"), dir = Stat(mnt_ + "/dir");
  EXPECT_EQ(file.st_uid, nobody_);
  EXPECT_EQ(dir.st_uid, nobody_);
  EXPECT_EQ(file.st_mode & 07777, 0400u);
  EXPECT_EQ(dir.st_mode & 07777, 0500u);

  // nobody owns it through the mount: reads, enters, but may not write.
  EXPECT_EQ(As("nobody", "cat '" + mnt_ + "/file' >/dev/null"), 0);
  EXPECT_EQ(As("nobody", "cat '" + mnt_ + "/dir/inner' >/dev/null"), 0);
  EXPECT_NE(As("nobody", "echo x >> '" + mnt_ + "/file'"), 0);
  // Another user gets nothing.
  EXPECT_NE(As("daemon", "cat '" + mnt_ + "/file' >/dev/null"), 0);
  EXPECT_NE(As("daemon", "ls '" + mnt_ + "/dir' >/dev/null"), 0);
  // A forced owner cannot be changed through the mount.
  EXPECT_NE(::chown((mnt_ + "/file").c_str(), 0, static_cast<gid_t>(-1)), 0);
  EXPECT_EQ(errno, EPERM);

  struct stat source = Stat(source_ + "/file");
  EXPECT_EQ(source.st_uid, 0u);
  EXPECT_EQ(source.st_mode & 07777, 0600u) << "the view changed SOURCE";
  std::ifstream in(source_ + "/file");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "secret\n");
}

TEST_P(PolicyMount, IgnoredAndDeniedChangesLeaveSourceAlone) {
  ASSERT_NO_FATAL_FAILURE(Mount("chmod-ignore,chown-deny,delete-deny,rename-deny"));
  EXPECT_EQ(::chmod((mnt_ + "/file").c_str(), 0777), 0) << "chmod-ignore succeeds";
  EXPECT_EQ(Stat(source_ + "/file").st_mode & 07777, 0600u);
  EXPECT_NE(::chown((mnt_ + "/file").c_str(), nobody_, static_cast<gid_t>(-1)), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(Stat(source_ + "/file").st_uid, 0u);
  EXPECT_NE(::unlink((mnt_ + "/file").c_str()), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(::rmdir((mnt_ + "/dir").c_str()), 0);
  EXPECT_NE(::rename((mnt_ + "/file").c_str(), (mnt_ + "/moved").c_str()), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::access((source_ + "/file").c_str(), F_OK), 0);
  EXPECT_NE(::access((source_ + "/moved").c_str(), F_OK), 0);
  // What is not denied still works.
  std::ofstream(mnt_ + "/new") << "new\n";
  EXPECT_EQ(::access((source_ + "/new").c_str(), F_OK), 0);
}

TEST_P(PolicyMount, MappedOwnersShowAndChownMapsBack) {
  uid_t daemon = ::getpwnam("daemon")->pw_uid;
  ASSERT_EQ(::chown((source_ + "/file").c_str(), nobody_, static_cast<gid_t>(-1)), 0);
  ASSERT_NO_FATAL_FAILURE(Mount("map=nobody/daemon,gid-offset=1000"));
  EXPECT_EQ(Stat(mnt_ + "/file").st_uid, daemon);
  EXPECT_EQ(Stat(mnt_ + "/file").st_gid, 1000u) << "root's group plus the offset";
  EXPECT_EQ(Stat(mnt_ + "/dir").st_uid, 0u) << "an unmapped owner shows as it is";
  // daemon sees nobody's 0600 file as its own.
  EXPECT_EQ(As("daemon", "cat '" + mnt_ + "/file' >/dev/null"), 0);
  EXPECT_NE(As("nobody", "cat '" + mnt_ + "/file' >/dev/null"), 0);
  // A chown to what the mount shows lands on what SOURCE means by it.
  ASSERT_EQ(::chown((mnt_ + "/dir/inner").c_str(), daemon, 1005), 0) << std::strerror(errno);
  struct stat inner = Stat(source_ + "/dir/inner");
  EXPECT_EQ(inner.st_uid, nobody_);
  EXPECT_EQ(inner.st_gid, 5u);
  EXPECT_EQ(Stat(mnt_ + "/dir/inner").st_uid, daemon);
  // What daemon makes is nobody's in SOURCE, so that it shows as daemon's.
  ASSERT_EQ(::mkdir((source_ + "/shared").c_str(), 0777), 0);
  ASSERT_EQ(::chmod((source_ + "/shared").c_str(), 0777), 0);
  EXPECT_EQ(As("daemon", "echo x > '" + mnt_ + "/shared/new' && mkdir '" + mnt_ + "/shared/sub'"),
            0);
  EXPECT_EQ(Stat(source_ + "/shared/new").st_uid, nobody_);
  EXPECT_EQ(Stat(source_ + "/shared/sub").st_uid, nobody_);
  EXPECT_EQ(Stat(mnt_ + "/shared/new").st_uid, daemon);
}

TEST_P(PolicyMount, ChmodFilterAndReadOnlyXattrs) {
  ASSERT_EQ(::setxattr((source_ + "/file").c_str(), "user.kept", "1", 1, 0), 0);
  ASSERT_NO_FATAL_FAILURE(Mount("chmod-filter=g-w:o-rwx,xattr-ro"));
  ASSERT_EQ(::chmod((mnt_ + "/file").c_str(), 0777), 0) << std::strerror(errno);
  EXPECT_EQ(Stat(source_ + "/file").st_mode & 07777, 0750u);
  char value[8];
  EXPECT_EQ(::getxattr((mnt_ + "/file").c_str(), "user.kept", value, sizeof(value)), 1);
  EXPECT_NE(::setxattr((mnt_ + "/file").c_str(), "user.new", "1", 1, 0), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(::removexattr((mnt_ + "/file").c_str(), "user.kept"), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::getxattr((source_ + "/file").c_str(), "user.kept", value, sizeof(value)), 1);
  EXPECT_LT(::getxattr((source_ + "/file").c_str(), "user.new", value, sizeof(value)), 0);
}

TEST_P(PolicyMount, CreatedFilesGetTheOwnerAndBitsOfTheCreationPolicy) {
  ASSERT_NO_FATAL_FAILURE(
      Mount("create-for-user=nobody,create-for-group=nogroup,create-with-perms=0600:u+X"));
  gid_t nogroup = ::getpwnam("nobody")->pw_gid;
  std::ofstream(mnt_ + "/created") << "x\n";
  ASSERT_EQ(::mkdir((mnt_ + "/made").c_str(), 0777), 0) << std::strerror(errno);
  ASSERT_EQ(::symlink("created", (mnt_ + "/sym").c_str()), 0);
  ASSERT_EQ(::link((mnt_ + "/file").c_str(), (mnt_ + "/hard").c_str()), 0);
  struct stat created = Stat(source_ + "/created"), made = Stat(source_ + "/made");
  EXPECT_EQ(created.st_uid, nobody_);
  EXPECT_EQ(created.st_gid, nogroup);
  EXPECT_EQ(created.st_mode & 07777, 0600u);
  EXPECT_EQ(made.st_uid, nobody_);
  EXPECT_EQ(made.st_mode & 07777, 0700u);
  EXPECT_EQ(Stat(source_ + "/sym").st_uid, nobody_);
  // A hard link makes no new file: the one it names keeps its owner.
  EXPECT_EQ(Stat(source_ + "/file").st_uid, 0u);
  EXPECT_EQ(Stat(source_ + "/file").st_mode & 07777, 0600u);
  // And the mount shows what SOURCE has.
  EXPECT_EQ(Stat(mnt_ + "/created").st_uid, nobody_);
  // An O_TMPFILE file, named later with linkat, gets it too.
  int fd = ::open(mnt_.c_str(), O_TMPFILE | O_WRONLY, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::linkat(fd, "", AT_FDCWD, (mnt_ + "/named").c_str(), AT_EMPTY_PATH), 0)
      << std::strerror(errno);
  ::close(fd);
  struct stat named = Stat(source_ + "/named");
  EXPECT_EQ(named.st_uid, nobody_);
  EXPECT_EQ(named.st_mode & 07777, 0600u);
}

// The set users write together for a shared folder: everything shown as
// nobody's, world-readable, and new files really nobody's in SOURCE.
TEST_P(PolicyMount, SharedFolderCombination) {
  ASSERT_NO_FATAL_FAILURE(
      Mount("force-user=nobody,force-group=nogroup,perms=0644:a+X,create-for-user=nobody"));
  gid_t nogroup = ::getpwnam("nobody")->pw_gid;
  struct stat file = Stat(mnt_ + "/file"), dir = Stat(mnt_ + "/dir");
  EXPECT_EQ(file.st_uid, nobody_);
  EXPECT_EQ(file.st_gid, nogroup);
  EXPECT_EQ(file.st_mode & 07777, 0644u);
  EXPECT_EQ(dir.st_mode & 07777, 0755u);

  // Anyone reads; only the shown owner writes; others make nothing.
  EXPECT_EQ(As("daemon", "cat '" + mnt_ + "/dir/inner' >/dev/null"), 0);
  EXPECT_NE(As("daemon", "echo y >> '" + mnt_ + "/file'"), 0);
  EXPECT_NE(As("daemon", "touch '" + mnt_ + "/dir/by-daemon'"), 0);
  EXPECT_NE(::access((source_ + "/dir/by-daemon").c_str(), F_OK), 0);
  EXPECT_EQ(As("nobody", "echo x >> '" + mnt_ + "/file'"), 0);
  std::ifstream in(source_ + "/file");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "secret\nx\n");

  // New files belong to nobody in SOURCE, whoever made them.
  std::ofstream(mnt_ + "/by-root") << "r\n";
  EXPECT_EQ(As("nobody", "echo n > '" + mnt_ + "/dir/by-nobody'"), 0);
  EXPECT_EQ(Stat(source_ + "/by-root").st_uid, nobody_);
  EXPECT_EQ(Stat(source_ + "/dir/by-nobody").st_uid, nobody_);
  EXPECT_EQ(Stat(mnt_ + "/by-root").st_mode & 07777, 0644u);
  // SOURCE's own bits and owner are untouched by the view.
  EXPECT_EQ(Stat(source_ + "/file").st_uid, 0u);
  EXPECT_EQ(Stat(source_ + "/file").st_mode & 07777, 0600u);
}

TEST_P(PolicyMount, TheShownOwnerCannotMakeSourceSetuid) {
  ASSERT_EQ(::chmod((source_ + "/file").c_str(), 0755), 0);
  ASSERT_NO_FATAL_FAILURE(Mount("force-user=nobody"));
  // The kernel lets the owner it sees set setuid; SOURCE's owner is root.
  EXPECT_EQ(As("nobody", "chmod 4755 '" + mnt_ + "/file'"), 0);
  EXPECT_EQ(Stat(source_ + "/file").st_mode & 07777, 0755u) << "a setuid-root file in SOURCE";
}

TEST_P(PolicyMount, DeleteDenyAlsoStopsARenameOverAName) {
  Write(source_ + "/other", "other\n", 0644);
  ASSERT_NO_FATAL_FAILURE(Mount("delete-deny"));
  EXPECT_NE(::rename((mnt_ + "/file").c_str(), (mnt_ + "/other").c_str()), 0);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(::access((source_ + "/other").c_str(), F_OK), 0);
  EXPECT_EQ(::rename((mnt_ + "/file").c_str(), (mnt_ + "/renamed").c_str()), 0);
  EXPECT_EQ(::access((source_ + "/renamed").c_str(), F_OK), 0);
}

TEST_P(PolicyMount, HiddenHardLinksAndCtimeFromMtime) {
  ASSERT_EQ(::link((source_ + "/file").c_str(), (source_ + "/link").c_str()), 0);
  struct timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (source_ + "/file").c_str(), times, 0), 0);
  ASSERT_NO_FATAL_FAILURE(Mount("hide-hard-links,ctime-from-mtime"));
  struct stat st = Stat(mnt_ + "/file");
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(st.st_ctim.tv_sec, 1000000000);
  EXPECT_EQ(Stat(source_ + "/file").st_nlink, 2u);
}

// mirror=: each mirrored user sees itself as the owner of every file (and
// gets the owner's bits), everyone else SOURCE's owner. The view depends
// on who asks, so the kernel may cache no attributes: asked one after the
// other, each sees its own.
TEST_P(PolicyMount, MirroredUsersSeeThemselvesAsOwners) {
  ASSERT_NO_FATAL_FAILURE(Mount("mirror=nobody"));
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(As("nobody", "test \"$(stat -c %u '" + mnt_ + "/file')\" = " +
                               std::to_string(nobody_)),
              0);
    EXPECT_EQ(As("daemon", "test \"$(stat -c %u '" + mnt_ + "/file')\" = 0"), 0);
  }
  EXPECT_EQ(As("nobody", "cat '" + mnt_ + "/file' >/dev/null && ls '" + mnt_ + "/dir' >/dev/null"),
            0);
  EXPECT_NE(As("daemon", "cat '" + mnt_ + "/file' >/dev/null"), 0);
  EXPECT_EQ(Stat(source_ + "/file").st_uid, 0u);
}

// mirror-only=: anyone else but root sees no permission bits and is
// refused, even for what the kernel cached while a mirrored user looked.
TEST_P(PolicyMount, MirrorOnlyShutsOutEveryoneElse) {
  Write(source_ + "/open", "open\n", 0644);
  ASSERT_NO_FATAL_FAILURE(Mount("mirror-only=nobody"));
  EXPECT_EQ(As("nobody", "cat '" + mnt_ + "/open' '" + mnt_ + "/file' >/dev/null"), 0);
  EXPECT_EQ(As("daemon", "test \"$(stat -c %a '" + mnt_ + "')\" = 0"), 0);
  EXPECT_NE(As("daemon", "stat '" + mnt_ + "/open' >/dev/null 2>&1"), 0);
  EXPECT_NE(As("daemon", "cat '" + mnt_ + "/open' >/dev/null 2>&1"), 0);
  EXPECT_NE(As("daemon", "ls '" + mnt_ + "' >/dev/null 2>&1"), 0);
  EXPECT_NE(As("daemon", "touch '" + mnt_ + "/dropped' 2>/dev/null"), 0);
  EXPECT_NE(::access((source_ + "/dropped").c_str(), F_OK), 0);
  // Root is not shut out, and sees SOURCE's bits.
  EXPECT_EQ(Stat(mnt_ + "/open").st_mode & 07777, 0644u);
  EXPECT_EQ(RunCommand({"cat", mnt_ + "/open"}).output, "open\n");
}

// realistic-permissions: the bits the mounter (here root) cannot use are
// not shown. root may read and write anything, but execute only what has
// an execute bit.
TEST_P(PolicyMount, RealisticPermissionsHideWhatTheMounterCannotDo) {
  ASSERT_NO_FATAL_FAILURE(Mount("perms=0755,realistic-permissions"));
  EXPECT_EQ(Stat(mnt_ + "/file").st_mode & 07777, 0644u);  // 0600 in SOURCE: no x for root
  EXPECT_EQ(Stat(mnt_ + "/dir").st_mode & 07777, 0755u);
  EXPECT_NE(As("nobody", "'" + mnt_ + "/file'"), 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, PolicyMount,
                         ::testing::Values("passthrough=auto", "passthrough=never"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param) == "passthrough=never" ? "PassthroughNever"
                                                                                 : "Passthrough";
                         });

}  // namespace
}  // namespace fusekit::testing
