#include "policy.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace passthroughfs {
namespace {

PolicyOptions WithPerms(const char* spec) {
  PolicyOptions o;
  std::string error;
  EXPECT_TRUE(PermSpec::Parse(spec, o.perms, error)) << error;
  return o;
}

struct stat FileStat(mode_t mode, uid_t uid, gid_t gid, nlink_t nlink = 1) {
  struct stat st {};
  st.st_mode = mode;
  st.st_uid = uid;
  st.st_gid = gid;
  st.st_nlink = nlink;
  st.st_mtim = {100, 5};
  st.st_ctim = {200, 7};
  return st;
}

TEST(PolicyShow, NoOptionsShowsSourceAsItIs) {
  Policy policy;
  struct stat st = FileStat(S_IFREG | 0640, 1000, 100, 3);
  policy.Show(st, {});
  EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFREG | 0640));
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 100u);
  EXPECT_EQ(st.st_nlink, 3u);
  EXPECT_EQ(st.st_ctim.tv_sec, 200);
  EXPECT_FALSE(policy.options().ChangesView());
}

TEST(PolicyShow, ForcedOwnerGroupAndPerms) {
  PolicyOptions o = WithPerms("0000:u+rD");
  o.force_user = 33;
  o.force_group = 65534;
  Policy policy(o);
  struct stat file = FileStat(S_IFREG | 0755, 1000, 100);
  struct stat dir = FileStat(S_IFDIR | 0700, 0, 0, 2);
  policy.Show(file, {});
  policy.Show(dir, {});
  EXPECT_EQ(file.st_mode, static_cast<mode_t>(S_IFREG | 0400));
  EXPECT_EQ(dir.st_mode, static_cast<mode_t>(S_IFDIR | 0500));
  EXPECT_EQ(file.st_uid, 33u);
  EXPECT_EQ(dir.st_gid, 65534u);
  EXPECT_TRUE(policy.options().ChangesView());
}

TEST(PolicyShow, MirroredCallersSeeThemselvesAsOwners) {
  PolicyOptions o = WithPerms("0600:u+D");
  o.mirror_users = {1000, 1001};
  Policy policy(o);
  EXPECT_TRUE(o.ShowsPerCaller());
  EXPECT_TRUE(o.ChangesPermissions());
  for (uid_t viewer : {1000u, 1001u}) {
    struct stat st = FileStat(S_IFDIR | 0755, 0, 100);
    policy.Show(st, {.uid = viewer});
    EXPECT_EQ(st.st_uid, viewer);
    EXPECT_EQ(st.st_gid, 100u);  // the group is not mirrored
    EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFDIR | 0700));
  }
  // Anyone else sees SOURCE's owner; everyone may use the mount.
  struct stat other = FileStat(S_IFREG | 0644, 0, 100);
  policy.Show(other, {.uid = 1002});
  EXPECT_EQ(other.st_uid, 0u);
  EXPECT_EQ(other.st_mode, static_cast<mode_t>(S_IFREG | 0600));
  EXPECT_TRUE(policy.Admits(1002));
}

TEST(PolicyShow, MirrorOnlyShowsOthersNoBitsAndAdmitsRootAndTheMirrored) {
  PolicyOptions o;
  o.mirror_users = {1000};
  o.mirror_only = true;
  Policy policy(o);
  struct stat other = FileStat(S_IFREG | 0777, 1000, 7, 3);
  other.st_size = 4096;
  policy.Show(other, {.uid = 1002});
  EXPECT_EQ(other.st_mode, static_cast<mode_t>(S_IFREG));
  EXPECT_EQ(other.st_uid, 0u);
  EXPECT_EQ(other.st_gid, 0u);
  EXPECT_EQ(other.st_size, 0);
  EXPECT_EQ(other.st_mtim.tv_sec, 0);
  EXPECT_EQ(other.st_nlink, 1u);
  struct stat root = FileStat(S_IFREG | 0755, 5, 5);
  policy.Show(root, {.uid = 0});
  EXPECT_EQ(root.st_mode, static_cast<mode_t>(S_IFREG | 0755));
  EXPECT_EQ(root.st_uid, 5u);
  EXPECT_TRUE(policy.Admits(0));
  EXPECT_TRUE(policy.Admits(1000));
  EXPECT_FALSE(policy.Admits(1002));
}

TEST(PolicyShow, RealisticPermissionsHideWhatTheMounterCannotDo) {
  PolicyOptions o;
  o.realistic_permissions = true;
  Policy policy(o);
  EXPECT_TRUE(policy.NeedsMounterAccess());
  struct stat st = FileStat(S_IFREG | 0777, 0, 0);
  policy.Show(st, {.uid = 1000, .mounter_access = R_OK});
  EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFREG | 0444));
  st = FileStat(S_IFREG | 0640, 0, 0);
  policy.Show(st, {.uid = 1000, .mounter_access = R_OK | W_OK | X_OK});
  EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFREG | 0640));
}

TEST(PolicyShow, HiddenHardLinksAndCtimeFromMtime) {
  PolicyOptions o;
  o.hide_hard_links = true;
  o.ctime_from_mtime = true;
  Policy policy(o);
  struct stat file = FileStat(S_IFREG | 0644, 0, 0, 4);
  struct stat dir = FileStat(S_IFDIR | 0755, 0, 0, 5);
  policy.Show(file, {});
  policy.Show(dir, {});
  EXPECT_EQ(file.st_nlink, 1u);
  EXPECT_EQ(dir.st_nlink, 5u) << "a directory's count says how many subdirectories it has";
  EXPECT_EQ(file.st_ctim.tv_sec, 100);
  EXPECT_EQ(file.st_ctim.tv_nsec, 5);
}

TEST(PolicyShow, StatxShowsTheSame) {
  PolicyOptions o = WithPerms("og-rwx");
  o.force_user = 7;
  o.hide_hard_links = true;
  Policy policy(o);
  struct statx stx {};
  stx.stx_mode = S_IFREG | 0666;
  stx.stx_uid = 1;
  stx.stx_nlink = 2;
  policy.Show(stx, {});
  EXPECT_EQ(stx.stx_mode, S_IFREG | 0600);
  EXPECT_EQ(stx.stx_uid, 7u);
  EXPECT_EQ(stx.stx_nlink, 1u);
}

TEST(PolicyShow, MapsAndOffsetsOwnersBothWays) {
  PolicyOptions o;
  o.user_map = {{1000, 2000}, {1001, 0}};
  o.group_map = {{100, 200}};
  Policy mapped(o);
  struct stat st = FileStat(S_IFREG | 0644, 1000, 100);
  mapped.Show(st, {});
  EXPECT_EQ(st.st_uid, 2000u);
  EXPECT_EQ(st.st_gid, 200u);
  EXPECT_EQ(mapped.SourceUid(2000), 1000u);
  PolicyOptions shifted_up;
  shifted_up.uid_offset = 10;
  EXPECT_FALSE(Policy(shifted_up).SourceUid(5)) << "below 0 after the offset";
  EXPECT_EQ(mapped.SourceUid(0), 1001u);
  EXPECT_EQ(mapped.SourceUid(5), 5u) << "an unmapped owner is left as it is";
  EXPECT_EQ(mapped.SourceGid(200), 100u);
  EXPECT_TRUE(o.ChangesPermissions());

  PolicyOptions offsets;
  offsets.uid_offset = 100000;
  offsets.gid_offset = -10;
  Policy shifted(offsets);
  struct stat other = FileStat(S_IFREG | 0644, 1000, 100);
  shifted.Show(other, {});
  EXPECT_EQ(other.st_uid, 101000u);
  EXPECT_EQ(other.st_gid, 90u);
  EXPECT_EQ(shifted.SourceUid(101000), 1000u);
  EXPECT_EQ(shifted.SourceGid(90), 100u);
}

struct SetattrCase {
  ChangeRule chown, chgrp, chmod;
  bool force_user;
  bool allow_x;
  const char* filter;
  Policy::SetattrAsked asked;
  int error;  // 0: allowed
  Policy::SetattrPlan plan;
};

class PolicySetattr : public ::testing::TestWithParam<SetattrCase> {};

TEST_P(PolicySetattr, LetsThroughWhatTheRulesSay) {
  const SetattrCase& c = GetParam();
  PolicyOptions o;
  o.chown = c.chown;
  o.chgrp = c.chgrp;
  o.chmod = c.chmod;
  o.chmod_allow_x = c.allow_x;
  std::string error;
  ASSERT_TRUE(PermSpec::Parse(c.filter, o.chmod_filter, error)) << error;
  if (c.force_user) o.force_user = 5;
  auto got = Policy(o).Setattr(c.asked);
  if (c.error) {
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), fusekit::Errno(c.error));
    return;
  }
  ASSERT_TRUE(got);
  EXPECT_EQ(got->uid, c.plan.uid);
  EXPECT_EQ(got->gid, c.plan.gid);
  EXPECT_EQ(got->mode, c.plan.mode);
}

using R = ChangeRule;
constexpr mode_t kReg = S_IFREG;
INSTANTIATE_TEST_SUITE_P(
    Table, PolicySetattr,
    ::testing::Values(
        // chown and chgrp
        SetattrCase{R::kNormal, R::kNormal, R::kNormal, false, false, "", {true, true, 0644, kReg | 0600}, 0, {true, true, 0644}},
        SetattrCase{R::kIgnore, R::kNormal, R::kNormal, false, false, "", {true, true, std::nullopt, 0}, 0, {false, true, std::nullopt}},
        SetattrCase{R::kNormal, R::kDeny, R::kNormal, false, false, "", {false, true, std::nullopt, 0}, EPERM, {}},
        SetattrCase{R::kNormal, R::kDeny, R::kNormal, false, false, "", {true, false, std::nullopt, 0}, 0, {true, false, std::nullopt}},
        SetattrCase{R::kIgnore, R::kNormal, R::kNormal, true, false, "", {true, false, std::nullopt, 0}, EPERM, {}},
        // chmod: ignored, denied, filtered, execute bits allowed
        SetattrCase{R::kNormal, R::kNormal, R::kIgnore, false, false, "", {false, false, 0777, 0}, 0, {}},
        SetattrCase{R::kNormal, R::kNormal, R::kDeny, false, false, "", {false, false, 0644, 0}, EPERM, {}},
        SetattrCase{R::kNormal, R::kNormal, R::kNormal, false, false, "g-w:o-rwx", {false, false, 0777, kReg | 0600}, 0, {false, false, 0750}},
        SetattrCase{R::kNormal, R::kNormal, R::kNormal, false, false, "o-w", {false, false, 04777, kReg | 0600}, 0, {false, false, 04775}},
        SetattrCase{R::kNormal, R::kNormal, R::kIgnore, false, true, "", {false, false, 0777, kReg | 0644}, 0, {false, false, 0755}},
        SetattrCase{R::kNormal, R::kNormal, R::kIgnore, false, true, "", {false, false, 0600, kReg | 0644}, 0, {}},
        SetattrCase{R::kNormal, R::kNormal, R::kDeny, false, true, "", {false, false, 0755, kReg | 0644}, 0, {false, false, 0755}},
        SetattrCase{R::kNormal, R::kNormal, R::kDeny, false, true, "", {false, false, 0777, kReg | 0644}, EPERM, {}},
        SetattrCase{R::kNormal, R::kNormal, R::kIgnore, false, true, "", {false, false, 0755, S_IFDIR | 0644}, 0, {}}));

TEST(PolicyRules, CreatedFilesGetTheirOwnerAndBits) {
  EXPECT_FALSE(Policy().ChangesCreation());
  auto none = Policy().Created(S_IFREG | 0644, 0, 0);
  EXPECT_FALSE(none.uid || none.gid || none.mode);
  PolicyOptions o = WithPerms("");
  o.create_for_user = 33;
  o.create_for_group = 44;
  std::string error;
  ASSERT_TRUE(PermSpec::Parse("0600:u+X", o.create_with_perms, error));
  Policy policy(o);
  EXPECT_TRUE(policy.ChangesCreation());
  auto file = policy.Created(S_IFREG | 0644, 0, 0);
  EXPECT_EQ(file.uid, 33u);
  EXPECT_EQ(file.gid, 44u);
  EXPECT_EQ(file.mode, 0600u);
  PolicyOptions setid = o;
  ASSERT_TRUE(PermSpec::Parse("u+s", setid.create_with_perms, error));
  EXPECT_EQ(Policy(setid).Created(S_IFREG | 0755, 0, 0).mode, std::nullopt)
      << "no setuid put back after the chown to create-for-user";
  EXPECT_EQ(policy.Created(S_IFDIR | 0755, 0, 0).mode, 0700u);
  EXPECT_FALSE(policy.Created(S_IFLNK | 0777, 0, 0).mode) << "a symlink has no bits to set";
  EXPECT_FALSE(policy.Created(S_IFREG | 0600, 0, 0).mode) << "nothing to change";
}

// map= and the offsets: what the caller makes belongs in SOURCE to the ids
// that show as the caller's; a group from a setgid directory stays.
TEST(PolicyRules, CreatedFilesAreMappedBackToWhatShowsAsTheCaller) {
  PolicyOptions o;
  o.user_map = {{1000, 2000}};
  o.gid_offset = 100;
  Policy policy(o);
  EXPECT_TRUE(policy.ChangesCreation());
  auto made = policy.Created(S_IFREG | 0644, 2000, 150);
  EXPECT_EQ(made.uid, 1000u);
  EXPECT_EQ(made.gid, 50u);
  auto unmapped = policy.Created(S_IFREG | 0644, 3000, std::nullopt);
  EXPECT_EQ(unmapped.uid, std::nullopt);
  EXPECT_EQ(unmapped.gid, std::nullopt) << "a setgid directory's group is kept";
  EXPECT_EQ(policy.Created(S_IFREG | 0644, 0, 50).gid, std::nullopt) << "no gid below 0";
  o.create_for_user = 7;
  EXPECT_EQ(Policy(o).Created(S_IFREG | 0644, 2000, 150).uid, 7u) << "create-for-user wins";
  // A daemon that may not chown (not root) leaves new files as made.
  PolicyOptions unprivileged;
  unprivileged.uid_offset = -1000;
  unprivileged.map_new_files = false;
  EXPECT_FALSE(Policy(unprivileged).ChangesCreation());
  EXPECT_EQ(Policy(unprivileged).Created(S_IFREG | 0644, 1000, 1000).uid, std::nullopt);
}

TEST(PolicyRules, XattrReadOnly) {
  EXPECT_TRUE(Policy().MayChangeXattr("user.x"));
  EXPECT_TRUE(Policy().MayChangeXattr("system.posix_acl_access"));
  PolicyOptions o;
  o.xattr_read_only = true;
  EXPECT_EQ(Policy(o).MayChangeXattr("user.x").error(), fusekit::Errno(EPERM));
  // An access ACL rewrites the mode: not past a chmod rule.
  PolicyOptions chmod_ignored;
  chmod_ignored.chmod = ChangeRule::kIgnore;
  EXPECT_TRUE(Policy(chmod_ignored).MayChangeXattr("user.x"));
  EXPECT_EQ(Policy(chmod_ignored).MayChangeXattr("system.posix_acl_access").error(),
            fusekit::Errno(EPERM));
}

TEST(PolicyRules, DeleteAndRenameDeny) {
  EXPECT_TRUE(Policy().MayDelete());
  EXPECT_TRUE(Policy().MayRename());
  PolicyOptions o;
  o.delete_deny = true;
  EXPECT_EQ(Policy(o).MayDelete().error(), fusekit::Errno(EPERM));
  EXPECT_TRUE(Policy(o).MayRename());
  o.rename_deny = true;
  EXPECT_EQ(Policy(o).MayRename().error(), fusekit::Errno(EPERM));
}

}  // namespace
}  // namespace passthroughfs
