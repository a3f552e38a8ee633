#include "policy.h"

#include <unistd.h>

#include <cerrno>

namespace passthroughfs {

namespace {

template <typename Id>
Id Mapped(const std::vector<std::pair<Id, Id>>& map, Id id, bool backwards) {
  for (const auto& [source, shown] : map) {
    if ((backwards ? shown : source) == id) return backwards ? source : shown;
  }
  return id;
}

}  // namespace

bool Policy::Mirrors(uid_t uid) const {
  for (uid_t mirrored : options_.mirror_users)
    if (mirrored == uid) return true;
  return false;
}

bool Policy::Admits(uid_t uid) const { return !options_.mirror_only || uid == 0 || Mirrors(uid); }

void Policy::ShowFields(mode_t& mode, uid_t& uid, gid_t& gid, nlink_t& nlink,
                        const Viewer& viewer) const {
  uid = static_cast<uid_t>(Mapped(options_.user_map, uid, false) + options_.uid_offset);
  gid = static_cast<gid_t>(Mapped(options_.group_map, gid, false) + options_.gid_offset);
  if (options_.force_user) uid = *options_.force_user;
  if (options_.force_group) gid = *options_.force_group;
  if (Mirrors(viewer.uid)) uid = viewer.uid;
  mode = options_.perms.Apply(mode);
  if (options_.realistic_permissions) {
    if (!(viewer.mounter_access & R_OK)) mode &= ~mode_t{0444};
    if (!(viewer.mounter_access & W_OK)) mode &= ~mode_t{0222};
    if (!(viewer.mounter_access & X_OK)) mode &= ~mode_t{0111};
  }
  if (options_.hide_hard_links && !S_ISDIR(mode)) nlink = 1;
}

void Policy::Show(struct stat& st, const Viewer& viewer) const {
  if (!Admits(viewer.uid)) {
    // Nothing of the file but its type for whom mirror-only shuts out.
    struct stat type_only {};
    type_only.st_dev = st.st_dev;
    type_only.st_ino = st.st_ino;
    type_only.st_nlink = 1;
    type_only.st_mode = st.st_mode & S_IFMT;
    st = type_only;
    return;
  }
  ShowFields(st.st_mode, st.st_uid, st.st_gid, st.st_nlink, viewer);
  if (options_.ctime_from_mtime) st.st_ctim = st.st_mtim;
}

void Policy::Show(struct statx& stx, const Viewer& viewer) const {
  if (!Admits(viewer.uid)) {
    struct statx type_only {};
    type_only.stx_mask = stx.stx_mask;
    type_only.stx_ino = stx.stx_ino;
    type_only.stx_nlink = 1;
    type_only.stx_mode = static_cast<uint16_t>(stx.stx_mode & S_IFMT);
    stx = type_only;
    return;
  }
  mode_t mode = stx.stx_mode;
  uid_t uid = stx.stx_uid;
  gid_t gid = stx.stx_gid;
  nlink_t nlink = stx.stx_nlink;
  ShowFields(mode, uid, gid, nlink, viewer);
  stx.stx_mode = static_cast<uint16_t>(mode);
  stx.stx_uid = uid;
  stx.stx_gid = gid;
  stx.stx_nlink = static_cast<uint32_t>(nlink);
  if (options_.ctime_from_mtime) stx.stx_ctime = stx.stx_mtime;
}

fusekit::Result<Policy::SetattrPlan> Policy::Setattr(const SetattrAsked& asked) const {
  // As bindfs: a forced owner or group cannot be changed through the mount.
  ChangeRule chown = options_.force_user ? ChangeRule::kDeny : options_.chown;
  ChangeRule chgrp = options_.force_group ? ChangeRule::kDeny : options_.chgrp;
  if ((asked.uid && chown == ChangeRule::kDeny) || (asked.gid && chgrp == ChangeRule::kDeny))
    return fusekit::Fail(EPERM);
  SetattrPlan plan;
  plan.uid = asked.uid && chown == ChangeRule::kNormal;
  plan.gid = asked.gid && chgrp == ChangeRule::kNormal;
  if (!asked.mode) return plan;
  mode_t special = *asked.mode & 07000;
  mode_t type = asked.current_mode & S_IFMT ? asked.current_mode & S_IFMT : S_IFREG;
  mode_t wanted = (options_.chmod_filter.Apply(type | (*asked.mode & 0777)) & 0777) | special;
  if (options_.chmod == ChangeRule::kNormal) {
    plan.mode = wanted;
    return plan;
  }
  mode_t current = asked.current_mode & 07777;
  // chmod-allow-x: a file's execute bits change whatever the rule; the
  // rest of the request is ignored, or denied if it would change anything.
  bool x_only = options_.chmod_allow_x && S_ISREG(asked.current_mode);
  mode_t allowed = x_only ? 0111 : 0;
  if (options_.chmod == ChangeRule::kDeny && (!x_only || ((wanted ^ current) & ~allowed) != 0))
    return fusekit::Fail(EPERM);
  if (x_only && ((wanted ^ current) & 0111) != 0) plan.mode = (current & ~0111) | (wanted & 0111);
  return plan;
}

Policy::Creation Policy::Created(mode_t mode, uid_t caller_uid,
                                 std::optional<gid_t> caller_gid) const {
  Creation c{.uid = options_.create_for_user, .gid = options_.create_for_group, .mode = {}};
  if (!c.uid && MapsNewFiles()) {
    auto source = SourceUid(caller_uid);
    if (source && *source != caller_uid) c.uid = source;
  }
  if (!c.gid && caller_gid && MapsNewFiles()) {
    auto source = SourceGid(*caller_gid);
    if (source && *source != *caller_gid) c.gid = source;
  }
  if (!options_.create_with_perms.empty() && !S_ISLNK(mode)) {
    mode_t shown = options_.create_with_perms.Apply(mode) & 07777;
    // A chown clears setuid/setgid: the chmod after it must not set them
    // again as root.
    if (c.uid || c.gid) shown &= ~(S_ISUID | S_ISGID);
    if (shown != (mode & 07777)) c.mode = shown;
  }
  return c;
}

fusekit::Status Policy::MayChangeXattr(std::string_view name) const {
  if (options_.xattr_read_only) return fusekit::Fail(EPERM);
  bool plain_chmod = options_.chmod == ChangeRule::kNormal && options_.chmod_filter.empty();
  if (name == "system.posix_acl_access" && !plain_chmod) return fusekit::Fail(EPERM);
  return fusekit::Ok();
}

namespace {

// `shown` less `offset`, if that is an id a file may have (not -1).
template <typename Id>
std::optional<Id> Unshifted(Id shown, int64_t offset) {
  int64_t id = static_cast<int64_t>(shown) - offset;
  if (id < 0 || id >= int64_t{0xffffffff}) return std::nullopt;
  return static_cast<Id>(id);
}

}  // namespace

std::optional<uid_t> Policy::SourceUid(uid_t shown) const {
  auto id = Unshifted(shown, options_.uid_offset);
  if (!id) return std::nullopt;
  return Mapped(options_.user_map, *id, true);
}

std::optional<gid_t> Policy::SourceGid(gid_t shown) const {
  auto id = Unshifted(shown, options_.gid_offset);
  if (!id) return std::nullopt;
  return Mapped(options_.group_map, *id, true);
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
