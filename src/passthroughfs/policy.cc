#include "policy.h"

#include <cerrno>
#include <tuple>

namespace passthroughfs {

void Policy::ShowFields(mode_t& mode, uid_t& uid, gid_t& gid, nlink_t& nlink) const {
  if (options_.force_user) uid = *options_.force_user;
  if (options_.force_group) gid = *options_.force_group;
  mode = options_.perms.Apply(mode);
  if (options_.hide_hard_links && !S_ISDIR(mode)) nlink = 1;
}

void Policy::Show(struct stat& st) const {
  ShowFields(st.st_mode, st.st_uid, st.st_gid, st.st_nlink);
  if (options_.ctime_from_mtime) st.st_ctim = st.st_mtim;
}

void Policy::Show(struct statx& stx) const {
  mode_t mode = stx.stx_mode;
  uid_t uid = stx.stx_uid;
  gid_t gid = stx.stx_gid;
  nlink_t nlink = stx.stx_nlink;
  ShowFields(mode, uid, gid, nlink);
  stx.stx_mode = static_cast<uint16_t>(mode);
  stx.stx_uid = uid;
  stx.stx_gid = gid;
  stx.stx_nlink = static_cast<uint32_t>(nlink);
  if (options_.ctime_from_mtime) stx.stx_ctime = stx.stx_mtime;
}

fusekit::Result<Policy::Changes> Policy::Setattr(Changes asked) const {
  // As bindfs: a forced owner or group cannot be changed through the mount.
  ChangeRule chown = options_.force_user ? ChangeRule::kDeny : options_.chown;
  ChangeRule chgrp = options_.force_group ? ChangeRule::kDeny : options_.chgrp;
  Changes go = asked;
  for (auto [wanted, rule, field] : {std::tuple{asked.uid, chown, &go.uid},
                                     std::tuple{asked.gid, chgrp, &go.gid},
                                     std::tuple{asked.mode, options_.chmod, &go.mode}}) {
    if (!wanted) continue;
    if (rule == ChangeRule::kDeny) return fusekit::Fail(EPERM);
    if (rule == ChangeRule::kIgnore) *field = false;
  }
  return go;
}

fusekit::Status Policy::MayDelete() const {
  if (options_.delete_deny) return fusekit::Fail(EPERM);
  return fusekit::Ok();
}

fusekit::Status Policy::MayRename() const {
  if (options_.rename_deny) return fusekit::Fail(EPERM);
  return fusekit::Ok();
}

}  // namespace passthroughfs
