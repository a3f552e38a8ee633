#include "policy.h"

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
  policy.Show(st);
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
  policy.Show(file);
  policy.Show(dir);
  EXPECT_EQ(file.st_mode, static_cast<mode_t>(S_IFREG | 0400));
  EXPECT_EQ(dir.st_mode, static_cast<mode_t>(S_IFDIR | 0500));
  EXPECT_EQ(file.st_uid, 33u);
  EXPECT_EQ(dir.st_gid, 65534u);
  EXPECT_TRUE(policy.options().ChangesView());
}

TEST(PolicyShow, HiddenHardLinksAndCtimeFromMtime) {
  PolicyOptions o;
  o.hide_hard_links = true;
  o.ctime_from_mtime = true;
  Policy policy(o);
  struct stat file = FileStat(S_IFREG | 0644, 0, 0, 4);
  struct stat dir = FileStat(S_IFDIR | 0755, 0, 0, 5);
  policy.Show(file);
  policy.Show(dir);
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
  policy.Show(stx);
  EXPECT_EQ(stx.stx_mode, S_IFREG | 0600);
  EXPECT_EQ(stx.stx_uid, 7u);
  EXPECT_EQ(stx.stx_nlink, 1u);
}

struct SetattrCase {
  ChangeRule chown, chgrp, chmod;
  bool force_user;
  Policy::Changes asked;
  int error;  // 0: allowed
  Policy::Changes through;
};

class PolicySetattr : public ::testing::TestWithParam<SetattrCase> {};

TEST_P(PolicySetattr, LetsThroughWhatTheRulesSay) {
  const SetattrCase& c = GetParam();
  PolicyOptions o;
  o.chown = c.chown;
  o.chgrp = c.chgrp;
  o.chmod = c.chmod;
  if (c.force_user) o.force_user = 5;
  auto got = Policy(o).Setattr(c.asked);
  if (c.error) {
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), fusekit::Errno(c.error));
    return;
  }
  ASSERT_TRUE(got);
  EXPECT_EQ(got->uid, c.through.uid);
  EXPECT_EQ(got->gid, c.through.gid);
  EXPECT_EQ(got->mode, c.through.mode);
}

using R = ChangeRule;
INSTANTIATE_TEST_SUITE_P(
    Table, PolicySetattr,
    ::testing::Values(
        SetattrCase{R::kNormal, R::kNormal, R::kNormal, false, {true, true, true}, 0, {true, true, true}},
        SetattrCase{R::kIgnore, R::kNormal, R::kNormal, false, {true, true, false}, 0, {false, true, false}},
        SetattrCase{R::kNormal, R::kDeny, R::kNormal, false, {false, true, false}, EPERM, {}},
        SetattrCase{R::kNormal, R::kDeny, R::kNormal, false, {true, false, false}, 0, {true, false, false}},
        SetattrCase{R::kNormal, R::kNormal, R::kIgnore, false, {false, false, true}, 0, {false, false, false}},
        SetattrCase{R::kNormal, R::kNormal, R::kDeny, false, {false, false, true}, EPERM, {}},
        SetattrCase{R::kIgnore, R::kNormal, R::kNormal, true, {true, false, false}, EPERM, {}},
        SetattrCase{R::kNormal, R::kNormal, R::kNormal, true, {false, true, true}, 0, {false, true, true}}));

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
