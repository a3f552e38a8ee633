// POSIX ACLs through the mount against a native directory on the same
// filesystem: default ACLs inherited by what is created, the mask after
// setfacl and chmod, setgid after setfacl by a non-member, and access
// granted by a named entry. Each case runs the same steps in both trees and
// compares what getfacl(1) and stat show (getfacl -c: no header, so the
// outputs compare directly).
//
// The mount is as users make it for other users: allow_other, the daemon
// root; with default_permissions (the kernel checks ACLs: FUSE_POSIX_ACL)
// and without (SOURCE checks them on the daemon's calls, made as the
// caller). Modes: Passthrough, PassthroughNever, DirectIo, IoUring.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "mount_fixture.h"
#include "passthrough_fs.h"
#include "served_fs.h"

namespace passthroughfs {
namespace {

using fusekit::UniqueFd;
using fusekit::testing::ChildServer;
using fusekit::testing::TempDir;
using test::ApplyIoMode;
using test::IoMode;
using test::IoModeName;
using test::Serve;
using test::ServedFs;

constexpr char kUser[] = "4321";

using Mode = IoMode;

// How the mount is made, and whether the kernel checks permissions.
using Param = std::tuple<Mode, bool>;

std::string ParamName(const testing::TestParamInfo<Param>& info) {
  return std::string(IoModeName(std::get<0>(info.param))) +
         (std::get<1>(info.param) ? "KernelChecks" : "SourceChecks");
}

struct Ran {
  int code = -1;
  std::string output;
};

// Runs a command (as root, or as uid/gid 4321 with no other groups).
Ran Command(std::vector<std::string> argv, bool as_user = false) {
  if (as_user) {
    argv.insert(argv.begin(), {"setpriv", std::string("--reuid=") + kUser,
                               std::string("--regid=") + kUser, "--clear-groups", "--"});
  }
  Ran ran;
  auto child = ChildServer::Start(argv, "");
  if (!child) return ran;
  auto status = child->WaitExit(std::chrono::seconds(20));
  ran.code = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  ran.output = child->Output();
  return ran;
}

class Acl : public testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    ::chmod(tmp_.path().c_str(), 0755);
    native_ = tmp_.Sub("native");
    source_ = tmp_.Sub("source");
    ::chmod(native_.c_str(), 0777);
    ::chmod(source_.c_str(), 0777);
    if (::getxattr(source_.c_str(), "system.posix_acl_access", nullptr, 0) < 0 &&
        errno == EOPNOTSUPP)
      GTEST_SKIP() << source_ << " has no POSIX ACLs";
    if (Command({"setfacl", "--version"}).code != 0) GTEST_SKIP() << "no setfacl (apt install acl)";
    const auto [mode, kernel_checks] = GetParam();
    if (mode == Mode::kIoUring) SKIP_UNLESS_URING_ENABLED();
    FsOptions options;
    ApplyIoMode(mode, options);
    options.default_permissions = kernel_checks;
    options.no_default_permissions = !kernel_checks;
    options.allow_other = true;
    fusekit::MountOptions mount_options;
    mount_options.allow_other = true;
    mount_options.default_permissions = kernel_checks;
    // PassthroughFs::Create sets the process's umask to 0 (the caller's
    // own is applied per thread); the native half wants a usual one.
    served_ = Serve(source_, options, mount_options);
    umask_ = ::umask(022);
    ASSERT_TRUE(served_);
    mnt_ = served_.path();
    ::chmod(mnt_.substr(0, mnt_.rfind('/')).c_str(), 0755);
  }
  void TearDown() override {
    served_.Stop();
    ::umask(umask_);
  }

  static std::string Acls(const std::string& path) {
    Ran ran = Command({"getfacl", "-c", path});
    return ran.code == 0 ? ran.output : "<getfacl " + path + " failed: " + ran.output + ">";
  }
  static mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode;
  }

  // Runs `steps` in the native tree and through the mount, then compares
  // getfacl and the mode of each of `names` (and SOURCE's, behind the
  // mount).
  void Compare(const std::function<void(const std::string& dir)>& steps,
               const std::vector<std::string>& names) {
    steps(native_);
    steps(mnt_);
    for (const std::string& name : names) {
      EXPECT_EQ(Acls(mnt_ + "/" + name), Acls(native_ + "/" + name)) << name << " (getfacl)";
      EXPECT_EQ(Acls(source_ + "/" + name), Acls(native_ + "/" + name)) << name << " in SOURCE";
      EXPECT_EQ(Mode(mnt_ + "/" + name), Mode(native_ + "/" + name))
          << name << ": mode 0" << std::oct << Mode(mnt_ + "/" + name) << " vs 0"
          << Mode(native_ + "/" + name);
    }
  }

  TempDir tmp_;
  std::string native_, source_, mnt_;
  ServedFs served_;
  mode_t umask_ = 022;
};

void Ok(const Ran& ran, const std::string& what) {
  EXPECT_EQ(ran.code, 0) << what << ": " << ran.output;
}

// Creates, in a child whose umask is 027 (not the test's 022: an
// in-process daemon shares the test's own umask, so only another process's
// umask shows whether the daemon applies the caller's), each of: a file
// (0666), a directory (0777), a fifo and a device node (0666), a symlink,
// and an O_TMPFILE file (0640) linked in. Returns 0 or the step that
// failed. Syscalls only after fork().
int CreateAllKinds(const std::string& dir) {
  const std::string file = dir + "/file", sub = dir + "/sub", fifo = dir + "/fifo",
                    null = dir + "/null", link = dir + "/link", tmpfile = dir + "/tmpfile";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::umask(027);
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) ::_exit(1);
    ::close(fd);
    if (::mkdir(sub.c_str(), 0777) != 0) ::_exit(2);
    if (::mknod(fifo.c_str(), S_IFIFO | 0666, 0) != 0) ::_exit(3);
    if (::mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) ::_exit(4);
    if (::symlink("file", link.c_str()) != 0) ::_exit(5);
    fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0640);
    if (fd < 0) ::_exit(6);
    char proc[64];
    std::snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    if (::linkat(AT_FDCWD, proc, AT_FDCWD, tmpfile.c_str(), AT_SYMLINK_FOLLOW) != 0) ::_exit(7);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

const std::vector<std::string> kAllKinds = {"file", "sub", "fifo", "null", "link", "tmpfile"};

std::vector<std::string> In(const std::string& dir, const std::vector<std::string>& names) {
  std::vector<std::string> out = {dir};
  for (const auto& n : names) out.push_back(dir + "/" + n);
  return out;
}

TEST_P(Acl, DefaultAclIsInheritedByNewFilesDirectoriesNodesAndSymlinks) {
  Compare(
      [](const std::string& dir) {
        std::string d = dir + "/inherit";
        ASSERT_EQ(::mkdir(d.c_str(), 0755), 0) << d;
        Ok(Command({"setfacl", "-d", "-m", std::string("u:") + kUser + ":rwx,g::r-x,o::-", d}),
           "setfacl -d");
        EXPECT_EQ(CreateAllKinds(d), 0) << "step that failed";
      },
      In("inherit", kAllKinds));
}

// Without a default ACL the caller's umask applies, as always.
TEST_P(Acl, WithoutADefaultAclTheCallersUmaskApplies) {
  Compare(
      [](const std::string& dir) {
        std::string d = dir + "/plain";
        ASSERT_EQ(::mkdir(d.c_str(), 0777), 0) << d;
        EXPECT_EQ(CreateAllKinds(d), 0) << "step that failed";
      },
      In("plain", kAllKinds));
}

TEST_P(Acl, SetfaclThenChmodChangeTheMaskAsNatively) {
  Compare(
      [](const std::string& dir) {
        std::string f = dir + "/masked";
        UniqueFd fd(::open(f.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640));
        ASSERT_TRUE(fd);
        fd.reset();
        Ok(Command({"setfacl", "-m", std::string("u:") + kUser + ":rwx", f}), "setfacl -m");
        std::string g = dir + "/chmodded";
        fd.reset(::open(g.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0664));
        ASSERT_TRUE(fd);
        fd.reset();
        Ok(Command({"setfacl", "-m", std::string("u:") + kUser + ":rw,g::r", g}), "setfacl -m");
        ASSERT_EQ(::chmod(g.c_str(), 0600), 0);
        std::string h = dir + "/removed";
        fd.reset(::open(h.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0664));
        fd.reset();
        Ok(Command({"setfacl", "-m", std::string("u:") + kUser + ":rw", h}), "setfacl -m");
        Ok(Command({"setfacl", "-b", h}), "setfacl -b");
      },
      {"masked", "chmodded", "removed"});
}

// The owner, not in the file's group, sets an ACL on a setgid file: the
// kernel drops setgid, as it does for chmod.
TEST_P(Acl, SetfaclByANonMemberDropsSetgid) {
  Compare(
      [](const std::string& dir) {
        std::string f = dir + "/setgid";
        UniqueFd fd(::open(f.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        ASSERT_TRUE(fd);
        ASSERT_EQ(::fchown(fd.get(), 4321, 0), 0);
        ASSERT_EQ(::fchmod(fd.get(), 02775), 0);
        fd.reset();
        Ok(Command({"setfacl", "-m", "u::rwx,g::rx", f}, /*as_user=*/true), "setfacl as the owner");
      },
      {"setgid"});
}

// A named user entry grants what the mode bits alone would not.
TEST_P(Acl, NamedEntriesGrantAccess) {
  for (const std::string& dir : {native_, mnt_}) {
    std::string f = dir + "/granted";
    {
      UniqueFd fd(::open(f.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
      ASSERT_TRUE(fd);
      ASSERT_EQ(::write(fd.get(), "secret", 6), 6);
    }
    Ok(Command({"setfacl", "-m", std::string("u:") + kUser + ":r", f}), "setfacl");
    Ran read = Command({"cat", f}, /*as_user=*/true);
    EXPECT_EQ(read.code, 0) << dir << ": " << read.output;
    EXPECT_EQ(read.output, "secret") << dir;
    Ok(Command({"setfacl", "-m", std::string("u:") + kUser + ":-", f}), "setfacl");
    EXPECT_NE(Command({"cat", f}, /*as_user=*/true).code, 0) << dir << ": still readable";
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, Acl,
                         testing::Combine(testing::Values(Mode::kPassthrough, Mode::kNever,
                                                          Mode::kDirectIo, Mode::kIoUring),
                                          testing::Bool()),
                         ParamName);

}  // namespace
}  // namespace passthroughfs
