// The passthroughfs command line: every option, bad values, mount(8) and
// fstab leftovers, and the path checks made before mounting.
#include "options.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pwd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace passthroughfs {
namespace {

using ::testing::internal::CaptureStderr;
using ::testing::internal::CaptureStdout;
using ::testing::internal::GetCapturedStderr;
using ::testing::internal::GetCapturedStdout;

ParseOutcome Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "passthroughfs");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return ParseCommandLine(static_cast<int>(args.size()), argv.data());
}

// Parses `SOURCE MOUNTPOINT -o options`, expecting success.
CommandLine ParseOk(std::vector<std::string> args) {
  auto out = Parse(args);
  EXPECT_EQ(out.exit_code, -1) << "for " << ::testing::PrintToString(args);
  return out.command_line;
}

CommandLine WithO(const std::string& options) { return ParseOk({"src", "mnt", "-o", options}); }

// The exit code and what was printed on stderr.
std::pair<int, std::string> ParseFails(std::vector<std::string> args) {
  CaptureStderr();
  CaptureStdout();
  auto out = Parse(args);
  GetCapturedStdout();
  return {out.exit_code, GetCapturedStderr()};
}

TEST(OptionsTest, Defaults) {
  CommandLine cl = ParseOk({"src", "mnt"});
  EXPECT_EQ(cl.source, "src");
  EXPECT_EQ(cl.mountpoint, "mnt");
  EXPECT_FALSE(cl.foreground);
  EXPECT_FALSE(cl.debug);
  EXPECT_EQ(cl.fs.passthrough, PassthroughMode::kAuto);
  EXPECT_EQ(cl.fs.cache, CacheMode::kAuto);
  EXPECT_EQ(cl.fs.readdirplus, ReaddirplusMode::kAuto);
  EXPECT_FALSE(cl.fs.direct_io);
  EXPECT_FALSE(cl.fs.writeback);
  EXPECT_TRUE(cl.fs.splice);
  EXPECT_TRUE(cl.fs.clone_fd);
  EXPECT_FALSE(cl.fs.io_uring);
  EXPECT_FALSE(cl.fs.single_threaded);
  EXPECT_EQ(cl.fs.threads, 0u);
  EXPECT_FALSE(cl.fs.entry_timeout);
  EXPECT_FALSE(cl.fs.attr_timeout);
  EXPECT_FALSE(cl.fs.negative_timeout);
  EXPECT_FALSE(cl.fs.max_stack_depth);
  EXPECT_FALSE(cl.mount.allow_other);
  EXPECT_FALSE(cl.mount.default_permissions);
  EXPECT_FALSE(cl.mount.read_only);
  EXPECT_FALSE(cl.mount.nonempty);
  EXPECT_EQ(cl.mount.fsname, "src");
  EXPECT_FALSE(cl.fsname_given);
  EXPECT_EQ(cl.mount.subtype, "passthroughfs");
}

TEST(OptionsTest, Passthrough) {
  EXPECT_EQ(WithO("passthrough=auto").fs.passthrough, PassthroughMode::kAuto);
  EXPECT_EQ(WithO("passthrough=always").fs.passthrough, PassthroughMode::kAlways);
  EXPECT_EQ(WithO("passthrough=never").fs.passthrough, PassthroughMode::kNever);
}

TEST(OptionsTest, Cache) {
  EXPECT_EQ(WithO("cache=auto").fs.cache, CacheMode::kAuto);
  EXPECT_EQ(WithO("cache=always").fs.cache, CacheMode::kAlways);
  EXPECT_EQ(WithO("cache=never").fs.cache, CacheMode::kNever);
}

TEST(OptionsTest, Readdirplus) {
  EXPECT_EQ(WithO("readdirplus=yes").fs.readdirplus, ReaddirplusMode::kYes);
  EXPECT_EQ(WithO("readdirplus=no").fs.readdirplus, ReaddirplusMode::kNo);
  EXPECT_EQ(WithO("readdirplus=auto").fs.readdirplus, ReaddirplusMode::kAuto);
}

TEST(OptionsTest, Timeouts) {
  CommandLine cl = WithO("entry_timeout=2.5,attr_timeout=0,negative_timeout=10");
  EXPECT_EQ(cl.fs.entry_timeout, 2.5);
  EXPECT_EQ(cl.fs.attr_timeout, 0.0);
  EXPECT_EQ(cl.fs.negative_timeout, 10.0);
  EXPECT_EQ(WithO("entry_timeout=86400").fs.entry_timeout, 86400.0);
  EXPECT_EQ(WithO("attr_timeout=0.001").fs.attr_timeout, 0.001);
}

TEST(OptionsTest, Flags) {
  EXPECT_TRUE(WithO("direct_io").fs.direct_io);
  CommandLine wb = WithO("writeback,passthrough=never");
  EXPECT_TRUE(wb.fs.writeback);
  EXPECT_EQ(wb.fs.passthrough, PassthroughMode::kNever);
  EXPECT_FALSE(WithO("nosplice").fs.splice);
  EXPECT_TRUE(WithO("clone_fd").fs.clone_fd);
  EXPECT_FALSE(WithO("noclone_fd").fs.clone_fd);
  EXPECT_TRUE(WithO("noclone_fd,clone_fd").fs.clone_fd);
  EXPECT_TRUE(WithO("io_uring").fs.io_uring);
}

TEST(OptionsTest, Threads) {
  EXPECT_EQ(WithO("threads=1").fs.threads, 1u);
  EXPECT_EQ(WithO("threads=16").fs.threads, 16u);
  EXPECT_EQ(WithO("threads=256").fs.threads, 256u);
  EXPECT_TRUE(ParseOk({"-s", "src", "mnt"}).fs.single_threaded);
}

TEST(OptionsTest, RequestPath) {
  EXPECT_EQ(ParseOk({"src", "mnt"}).fs.busy_poll_us, kDefaultBusyPollUs);
  EXPECT_EQ(WithO("busy_poll=0").fs.busy_poll_us, 0u);
  EXPECT_EQ(WithO("busy_poll=200").fs.busy_poll_us, 200u);
  EXPECT_EQ(ParseOk({"src", "mnt"}).fs.keep_backing, kDefaultKeptBackings);
  EXPECT_EQ(WithO("keep_backing=0").fs.keep_backing, 0u);
  EXPECT_EQ(WithO("keep_backing=10").fs.keep_backing, 10u);
  EXPECT_TRUE(ParseOk({"src", "mnt"}).fs.xattrs);
  EXPECT_FALSE(WithO("xattr=off").fs.xattrs);
  EXPECT_TRUE(WithO("xattr=off,xattr=on").fs.xattrs);
}

TEST(OptionsTest, MaxStackDepth) {
  EXPECT_EQ(WithO("max_stack_depth=1").fs.max_stack_depth, 1u);
  EXPECT_EQ(WithO("max_stack_depth=2").fs.max_stack_depth, 2u);
}

TEST(OptionsTest, MountOptions) {
  CommandLine cl = WithO("allow_other,ro,fsname=data,nonempty,nosuid,nodev,noexec,noatime");
  EXPECT_TRUE(cl.mount.allow_other);
  EXPECT_TRUE(cl.fs.allow_other);
  EXPECT_TRUE(cl.mount.read_only);
  EXPECT_TRUE(cl.fs.read_only);
  EXPECT_EQ(cl.mount.fsname, "data");
  EXPECT_TRUE(cl.fsname_given);
  EXPECT_TRUE(cl.mount.nonempty);
  EXPECT_TRUE(cl.mount.nosuid);
  EXPECT_TRUE(cl.mount.nodev);
  EXPECT_TRUE(cl.mount.noexec);
  EXPECT_EQ(cl.mount.atime, fusekit::Atime::kNoatime);
  CommandLine dp = WithO("default_permissions");
  EXPECT_TRUE(dp.mount.default_permissions);
  EXPECT_TRUE(dp.fs.default_permissions);
  EXPECT_FALSE(dp.mount.allow_other);
}

TEST(OptionsTest, AllowOtherTurnsDefaultPermissionsOn) {
  CommandLine cl = WithO("allow_other");
  EXPECT_TRUE(cl.mount.default_permissions);
  EXPECT_TRUE(cl.fs.default_permissions);
  CommandLine off = WithO("allow_other,no_default_permissions");
  EXPECT_TRUE(off.mount.allow_other);
  EXPECT_FALSE(off.mount.default_permissions);
  EXPECT_FALSE(off.fs.default_permissions);
  // Also when they come in separate -o lists, in either order.
  CommandLine split = ParseOk({"-o", "no_default_permissions", "src", "mnt", "-o", "allow_other"});
  EXPECT_FALSE(split.mount.default_permissions);
}

// As bindfs: its options imply allow_other (as root here), unless
// no-allow-other; and with it, default_permissions.
TEST(OptionsTest, BindfsOptionsBringAllowOtherAsBindfsDoes) {
  ASSERT_EQ(::geteuid(), 0u) << "the unit tests run as root";
  EXPECT_FALSE(WithO("rw").mount.allow_other);
  CommandLine bindfs = WithO("perms=0644,force-user=0");
  EXPECT_TRUE(bindfs.mount.allow_other);
  EXPECT_TRUE(bindfs.mount.default_permissions);
  EXPECT_TRUE(WithO("delete-deny").mount.allow_other);
  CommandLine own = WithO("delete-deny,no-allow-other");
  EXPECT_FALSE(own.mount.allow_other);
  EXPECT_FALSE(own.mount.default_permissions);
  EXPECT_FALSE(WithO("no-allow-other,allow_other").mount.allow_other) << "no-allow-other wins";
}

TEST(OptionsTest, SeveralListsAccumulateLaterWins) {
  CommandLine cl =
      ParseOk({"-o", "passthrough=always,ro", "src", "mnt", "-o", "passthrough=never,rw"});
  EXPECT_EQ(cl.fs.passthrough, PassthroughMode::kNever);
  EXPECT_FALSE(cl.mount.read_only);
  EXPECT_TRUE(ParseOk({"-oro", "src", "mnt"}).mount.read_only);
  EXPECT_TRUE(WithO("ro,,direct_io,").fs.direct_io);  // empty items are skipped
}

TEST(OptionsTest, ForegroundAndDebug) {
  EXPECT_TRUE(ParseOk({"-f", "src", "mnt"}).foreground);
  EXPECT_TRUE(ParseOk({"src", "mnt", "--foreground"}).foreground);
  CommandLine d = ParseOk({"-d", "src", "mnt"});
  EXPECT_TRUE(d.debug);
  EXPECT_TRUE(d.foreground);  // -d implies -f
  EXPECT_TRUE(ParseOk({"src", "mnt", "--debug"}).foreground);
}

TEST(OptionsTest, WritebackNeedsPassthroughNever) {
  for (const char* o : {"writeback", "writeback,passthrough=auto", "writeback,passthrough=always",
                        "passthrough=never,writeback,passthrough=auto"}) {
    auto [code, err] = ParseFails({"src", "mnt", "-o", o});
    EXPECT_EQ(code, 2) << o;
    EXPECT_NE(err.find("writeback"), std::string::npos) << err;
  }
  EXPECT_TRUE(ParseOk({"-o", "writeback", "src", "mnt", "-o", "passthrough=never"}).fs.writeback);
}

// What mount(8), mount.fuse3 and fstab lines hand over besides our own.
TEST(OptionsTest, MountAndFstabLeftoversAreAccepted) {
  CommandLine cl = WithO(
      "defaults,auto,noauto,user,nouser,users,owner,group,_netdev,nofail,x-systemd.automount,"
      "x-systemd.device-timeout=10,x-gvfs-show,comment=backup,user=root,rw,suid,dev,exec,"
      "lazytime,async,passthrough=auto");
  EXPECT_FALSE(cl.mount.read_only);
  EXPECT_FALSE(cl.mount.nosuid);
  EXPECT_FALSE(cl.mount.nodev);
  EXPECT_FALSE(cl.mount.noexec);
  EXPECT_EQ(cl.mount.atime, fusekit::Atime::kRelatime);
  // What mount.fuse3 really passed for `mount -t fuse.passthroughfs ... -o allow_other`
  // and for an fstab line with `defaults,allow_other,noauto,users,noexec`.
  EXPECT_TRUE(WithO("rw,allow_other,passthrough=auto,dev,suid").mount.allow_other);
  CommandLine users = WithO("rw,noexec,nosuid,nodev,allow_other,passthrough=auto");
  EXPECT_TRUE(users.mount.noexec);
  EXPECT_TRUE(users.mount.nosuid);
  EXPECT_TRUE(users.mount.nodev);
  EXPECT_FALSE(WithO("nosuid,suid").mount.nosuid);
  EXPECT_FALSE(WithO("nodev,dev").mount.nodev);
}

// The atime options, as mount(8) reads them: the last one wins; "atime",
// "norelatime" and "nostrictatime" leave it to the kernel's relatime.
TEST(OptionsTest, AtimeOptions) {
  using fusekit::Atime;
  EXPECT_EQ(WithO("rw").fs.atime, Atime::kRelatime);
  EXPECT_EQ(WithO("noatime").fs.atime, Atime::kNoatime);
  EXPECT_EQ(WithO("strictatime").fs.atime, Atime::kStrictatime);
  EXPECT_EQ(WithO("noatime,relatime").fs.atime, Atime::kRelatime);
  EXPECT_EQ(WithO("strictatime,atime").fs.atime, Atime::kRelatime);
  EXPECT_EQ(WithO("noatime,norelatime").fs.atime, Atime::kRelatime);
  EXPECT_EQ(WithO("strictatime,nostrictatime").fs.atime, Atime::kRelatime);
  EXPECT_TRUE(WithO("nodiratime").fs.nodiratime);
  EXPECT_FALSE(WithO("nodiratime,diratime").fs.nodiratime);
  EXPECT_EQ(WithO("strictatime").mount.atime, Atime::kStrictatime);
}

// `mount -o remount,...`: mount(8) runs the helper again with "remount" and
// what it knows of the mount (its fstab line or its mountinfo options).
TEST(OptionsTest, Remount) {
  CommandLine cl = WithO("ro,noatime,remount,user_id=0,group_id=0,default_permissions,"
                         "allow_other,dev,suid");
  EXPECT_TRUE(cl.remount);
  EXPECT_TRUE(cl.mount.read_only);
  EXPECT_FALSE(WithO("rw").remount);
}

TEST(OptionsTest, BadValuesExitTwo) {
  for (const char* o :
       {"passthrough", "passthrough=", "passthrough=yes", "cache=", "cache=sometimes",
        "readdirplus=maybe", "readdirplus", "entry_timeout=", "entry_timeout=-1",
        "entry_timeout=abc", "entry_timeout=1s", "entry_timeout=inf", "entry_timeout=nan",
        "attr_timeout=1e20", "negative_timeout= 1", "attr_timeout=0x10", "threads=0",
        "threads=-1", "threads=257", "threads=2x", "threads=", "threads", "max_stack_depth=0",
        "max_stack_depth=3", "max_stack_depth=", "direct_io=1", "writeback=yes", "nosplice=0",
        "clone_fd=1", "io_uring=1", "fsname=", "ro=1", "allow_other=yes", "max_read=0", "max_read=x",
        "busy_poll=-1", "busy_poll=10001", "busy_poll=", "keep_backing=x", "keep_backing=1000001",
        "xattr=", "xattr=nosys", "xattr", "force-user=", "force-user=no-such-user-here",
        "force-group=no-such-group-here", "perms=", "perms=0644:u+q", "perms=rw", "chown-deny=1",
        "chmod-maybe", "delete-deny=yes", "map=", "map=root", "map=root/no-such-user-here",
        "map=@root/nobody", "uid-offset=", "uid-offset=1.5", "gid-offset=99999999999", "chmod-filter=",
        "chmod-filter=u+q", "chmod-allow-x=1", "xattr-ro=yes", "xattr-none=1", "create-for-user=",
        "create-for-group=no-such-group-here", "create-with-perms=", "create-as-user=1", "audit=",
        "audit-required=1", "audit-required", "mirror=", "mirror=no-such-user-here",
        "mirror-only=@no-such-group-here", "realistic-permissions=1", "lock-forwarding=yes"}) {
    auto [code, err] = ParseFails({"src", "mnt", "-o", o});
    EXPECT_EQ(code, 2) << o;
    // One line, naming the option.
    EXPECT_NE(err.find(o), std::string::npos) << o << ": " << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << o << ": " << err;
  }
}

TEST(OptionsTest, PolicyOptionsAsBindfsSpellsThem) {
  auto cl = WithO("force-user=root,force-group=0,perms=0644:a+X,chown-ignore,chgrp-deny,"
                  "chmod-ignore,delete-deny,rename-deny,hide-hard-links,ctime-from-mtime");
  const PolicyOptions& p = cl.fs.policy;
  EXPECT_EQ(p.force_user, 0u);
  EXPECT_EQ(p.force_group, 0u);
  EXPECT_EQ(p.perms.Apply(S_IFREG | 0700), static_cast<mode_t>(S_IFREG | 0755));
  EXPECT_EQ(p.chown, ChangeRule::kIgnore);
  EXPECT_EQ(p.chgrp, ChangeRule::kDeny);
  EXPECT_EQ(p.chmod, ChangeRule::kIgnore);
  EXPECT_TRUE(p.delete_deny && p.rename_deny && p.hide_hard_links && p.ctime_from_mtime);
  // The kernel enforces the view.
  EXPECT_TRUE(cl.mount.default_permissions);
  // A rule that shows no other owner or bits asks for none of itself (the
  // allow_other bindfs's options bring turns it on).
  EXPECT_FALSE(WithO("hide-hard-links,no-allow-other").mount.default_permissions);
  EXPECT_EQ(WithO("force-user=4242").fs.policy.force_user, 4242u);
  auto mapped = WithO("map=root/1000:@0/@100:7/8,uid-offset=-5,gid-offset=100000");
  using UidPair = std::pair<uid_t, uid_t>;
  EXPECT_EQ(mapped.fs.policy.user_map, (std::vector<UidPair>{{0, 1000}, {7, 8}}));
  EXPECT_EQ(mapped.fs.policy.group_map, (std::vector<std::pair<gid_t, gid_t>>{{0, 100}}));
  EXPECT_EQ(mapped.fs.policy.uid_offset, -5);
  EXPECT_EQ(mapped.fs.policy.gid_offset, 100000);
  EXPECT_TRUE(mapped.mount.default_permissions);
  auto rules = WithO("chmod-filter=g-w:o-rwx,chmod-allow-x,xattr-ro");
  EXPECT_EQ(rules.fs.policy.chmod_filter.Apply(S_IFREG | 0777), static_cast<mode_t>(S_IFREG | 0750));
  EXPECT_TRUE(rules.fs.policy.chmod_allow_x && rules.fs.policy.xattr_read_only);
  EXPECT_FALSE(WithO("xattr-ro,xattr-rw").fs.policy.xattr_read_only);
  EXPECT_FALSE(WithO("xattr-none").fs.xattrs);
  auto creation = WithO("create-for-user=4,create-for-group=5,create-with-perms=0640");
  EXPECT_EQ(creation.fs.policy.create_for_user, 4u);
  EXPECT_EQ(creation.fs.policy.create_for_group, 5u);
  EXPECT_EQ(creation.fs.policy.create_with_perms.Apply(S_IFREG | 0777), static_cast<mode_t>(S_IFREG | 0640));
  EXPECT_FALSE(WithO("create-for-user=4,create-as-user").fs.policy.create_for_user);
  EXPECT_EQ(WithO("create-as-mounter").fs.policy.create_for_user, ::geteuid());
  auto mirror = WithO("mirror=0:nobody");
  EXPECT_EQ(mirror.fs.policy.mirror_users, (std::vector<uid_t>{0, ::getpwnam("nobody")->pw_uid}));
  EXPECT_FALSE(mirror.fs.policy.mirror_only);
  EXPECT_TRUE(mirror.mount.default_permissions);
  // @group: its members, by the group database (root's primary group).
  auto only = WithO("mirror-only=@root");
  EXPECT_TRUE(only.fs.policy.mirror_only);
  EXPECT_NE(std::find(only.fs.policy.mirror_users.begin(), only.fs.policy.mirror_users.end(), 0u),
            only.fs.policy.mirror_users.end());
  EXPECT_TRUE(WithO("realistic-permissions").fs.policy.realistic_permissions);
  EXPECT_FALSE(WithO("rw").fs.lock_forwarding);
  EXPECT_TRUE(WithO("lock-forwarding").fs.lock_forwarding);
  EXPECT_TRUE(WithO("enable-lock-forwarding").fs.lock_forwarding);
  EXPECT_FALSE(WithO("lock-forwarding,disable-lock-forwarding").fs.lock_forwarding);
  auto [code, err] = ParseFails({"src", "mnt", "-o", "lock-forwarding,io_uring"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("-o lock-forwarding cannot go with -o io_uring"), std::string::npos) << err;
}

TEST(OptionsTest, AViewCannotGoWithoutKernelChecks) {
  auto [code, err] = ParseFails({"src", "mnt", "-o", "perms=0644,no_default_permissions"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("no_default_permissions"), std::string::npos) << err;
}

TEST(OptionsTest, UnknownOptionsExitTwo) {
  for (const char* o : {"bogus", "allow_root", "nosymfollow", "user_id=0", "auto_cache=1"}) {
    auto [code, err] = ParseFails({"src", "mnt", "-o", o});
    EXPECT_EQ(code, 2) << o;
    EXPECT_NE(err.find("unknown option -o " + std::string(o)), std::string::npos) << err;
  }
  EXPECT_EQ(ParseFails({"-x", "src", "mnt"}).first, 2);
  EXPECT_EQ(ParseFails({"--bogus", "src", "mnt"}).first, 2);
  EXPECT_EQ(ParseFails({"src", "mnt", "extra"}).first, 2);
  EXPECT_EQ(ParseFails({"src", "mnt", "-o"}).first, 2);
}

TEST(OptionsTest, MissingArgumentsExitTwo) {
  EXPECT_EQ(ParseFails({}).first, 2);
  auto [code, err] = ParseFails({"src"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("MOUNTPOINT"), std::string::npos) << err;
}

TEST(OptionsTest, HelpAndVersionExitZero) {
  for (const char* flag : {"--help", "-h"}) {
    CaptureStdout();
    auto out = Parse({flag});
    std::string text = GetCapturedStdout();
    EXPECT_EQ(out.exit_code, 0) << flag;
    EXPECT_NE(text.find("SOURCE"), std::string::npos) << text;
    EXPECT_NE(text.find("passthrough=auto|always|never"), std::string::npos) << text;
  }
  for (const char* flag : {"--version", "-V"}) {
    CaptureStdout();
    auto out = Parse({flag});
    std::string text = GetCapturedStdout();
    EXPECT_EQ(out.exit_code, 0) << flag;
    EXPECT_NE(text.find("passthroughfs 0.1.0"), std::string::npos) << text;
  }
  // Even with other arguments around.
  CaptureStdout();
  EXPECT_EQ(Parse({"src", "mnt", "-o", "bogus", "--version"}).exit_code, 0);
  GetCapturedStdout();
}

// ------------------------------------------------------------- CheckPaths

class CheckPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/passthroughfs-options-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    char resolved[PATH_MAX];
    ASSERT_NE(::realpath(tmpl, resolved), nullptr);
    dir_ = resolved;
    ASSERT_EQ(::mkdir((dir_ + "/src").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((dir_ + "/mnt").c_str(), 0755), 0);
    std::ofstream(dir_ + "/file") << "x";
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  std::string Check(const std::string& source, const std::string& mountpoint,
                    const std::string& options = "") {
    std::vector<std::string> args = {source, mountpoint};
    if (!options.empty()) args.insert(args.end(), {"-o", options});
    cl_ = ParseOk(args);
    return CheckPaths(cl_);
  }
  std::string dir_;
  CommandLine cl_;
};

TEST_F(CheckPathsTest, GoodPathsBecomeCanonical) {
  ASSERT_EQ(::chdir(dir_.c_str()), 0);
  EXPECT_EQ(Check("src/", "./mnt/../mnt"), "");
  EXPECT_EQ(cl_.source, dir_ + "/src");
  EXPECT_EQ(cl_.mountpoint, dir_ + "/mnt");
  EXPECT_EQ(cl_.mount.fsname, dir_ + "/src");  // the default fsname follows
  EXPECT_EQ(Check("src", "mnt", "fsname=mine"), "");
  EXPECT_EQ(cl_.mount.fsname, "mine");
  ASSERT_EQ(::symlink("src", (dir_ + "/link").c_str()), 0);
  EXPECT_EQ(Check("link", "mnt"), "");
  EXPECT_EQ(cl_.source, dir_ + "/src");
  ASSERT_EQ(::chdir("/"), 0);
}

TEST_F(CheckPathsTest, MissingSource) {
  std::string e = Check(dir_ + "/nope", dir_ + "/mnt");
  EXPECT_NE(e.find("SOURCE " + dir_ + "/nope: No such file or directory"), std::string::npos) << e;
}

TEST_F(CheckPathsTest, SourceNotADirectory) {
  std::string e = Check(dir_ + "/file", dir_ + "/mnt");
  EXPECT_NE(e.find("SOURCE " + dir_ + "/file: not a directory"), std::string::npos) << e;
}

TEST_F(CheckPathsTest, MissingMountpoint) {
  std::string e = Check(dir_ + "/src", dir_ + "/nope");
  EXPECT_NE(e.find("MOUNTPOINT " + dir_ + "/nope: No such file or directory"), std::string::npos)
      << e;
  e = Check(dir_ + "/src", dir_ + "/file");
  EXPECT_NE(e.find("MOUNTPOINT " + dir_ + "/file: not a directory"), std::string::npos) << e;
}

TEST_F(CheckPathsTest, MountpointNotEmptyUnlessNonempty) {
  std::ofstream(dir_ + "/mnt/x") << "x";
  std::string e = Check(dir_ + "/src", dir_ + "/mnt");
  EXPECT_NE(e.find("MOUNTPOINT " + dir_ + "/mnt: not empty"), std::string::npos) << e;
  EXPECT_NE(e.find("-o nonempty"), std::string::npos) << e;
  EXPECT_EQ(Check(dir_ + "/src", dir_ + "/mnt", "nonempty"), "");
}

TEST_F(CheckPathsTest, MountpointBusy) {
  std::string e = Check(dir_ + "/src", "/proc", "nonempty");
  EXPECT_NE(e.find("MOUNTPOINT /proc: busy"), std::string::npos) << e;
}

TEST_F(CheckPathsTest, MountpointInsideSource) {
  ASSERT_EQ(::mkdir((dir_ + "/src/sub").c_str(), 0755), 0);
  std::string e = Check(dir_ + "/src", dir_ + "/src/sub");
  EXPECT_NE(e.find("inside SOURCE"), std::string::npos) << e;
  // The source itself, or a sibling with the same prefix, is fine.
  EXPECT_EQ(Check(dir_ + "/src", dir_ + "/src", "nonempty"), "");
  ASSERT_EQ(::mkdir((dir_ + "/src2").c_str(), 0755), 0);
  EXPECT_EQ(Check(dir_ + "/src", dir_ + "/src2"), "");
}

TEST_F(CheckPathsTest, AuditPathBecomesAbsoluteAndStaysOutOfTheMount) {
  ASSERT_EQ(::chdir(dir_.c_str()), 0);
  EXPECT_EQ(Check("src", "mnt", "audit=trail.log,audit-required"), "");
  EXPECT_EQ(cl_.fs.audit_path, dir_ + "/trail.log");
  EXPECT_TRUE(cl_.fs.audit_required);
  ASSERT_EQ(::chdir("/"), 0);
  std::string e = Check(dir_ + "/src", dir_ + "/mnt", "audit=" + dir_ + "/mnt/log");
  EXPECT_NE(e.find("is inside MOUNTPOINT"), std::string::npos) << e;
  e = Check(dir_ + "/src", dir_ + "/mnt", "audit=" + dir_ + "/nope/log");
  EXPECT_NE(e.find("-o audit=" + dir_ + "/nope/log: No such file or directory"), std::string::npos)
      << e;
}

}  // namespace
}  // namespace passthroughfs
