// Policy: bindfs's views and operation rules, as one pure function of a
// request and SOURCE's attributes: what the mount shows of a file (owner,
// group, permission bits, link count, ctime) and which changes it lets
// through. PassthroughFs asks it; it knows nothing of fusekit or SOURCE.
//
// The views of owners and permission bits are enforced by the kernel from
// the attributes shown: they turn default_permissions on (options.cc).
//
// Thread-safety: immutable after construction.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "fusekit/result.h"
#include "perm_spec.h"

namespace passthroughfs {

// What a chown, chgrp or chmod through the mount does: as asked, nothing
// (and succeeds), or fails with EPERM.
enum class ChangeRule { kNormal, kIgnore, kDeny };

struct PolicyOptions {
  std::optional<uid_t> force_user;   // every file shows this owner
  std::optional<gid_t> force_group;  // and this group
  // map=: SOURCE's owner `first` shows as `second` (and a chown to
  // `second` through the mount gives SOURCE `first`).
  std::vector<std::pair<uid_t, uid_t>> user_map;
  std::vector<std::pair<gid_t, gid_t>> group_map;
  int64_t uid_offset = 0;  // shown = SOURCE's + offset, after map=
  int64_t gid_offset = 0;
  PermSpec perms;                    // applied to the permission bits shown
  ChangeRule chown = ChangeRule::kNormal;
  ChangeRule chgrp = ChangeRule::kNormal;
  ChangeRule chmod = ChangeRule::kNormal;
  PermSpec chmod_filter;      // applied to the mode a chmod asks for
  bool chmod_allow_x = false;  // a file's x bits change even where chmod is ignored or denied
  bool xattr_read_only = false;  // setxattr and removexattr fail with EPERM
  // Files, directories, nodes and links created through the mount: their
  // owner and group in SOURCE (by default the caller's), and their bits.
  std::optional<uid_t> create_for_user;
  std::optional<gid_t> create_for_group;
  PermSpec create_with_perms;
  bool delete_deny = false;  // unlink and rmdir fail with EPERM
  bool rename_deny = false;  // rename fails with EPERM
  bool hide_hard_links = false;   // every file shows one link
  bool ctime_from_mtime = false;  // ctime shows the mtime
  // mirror=: these callers see themselves as the owner of every file (the
  // users named, and the members of the @groups named as the group
  // database had them at mount time).
  std::vector<uid_t> mirror_users;
  // mirror-only=: and every other caller but root sees no permission bits
  // and may not use the mount at all.
  bool mirror_only = false;
  // realistic-permissions: no read, write or execute bit is shown where
  // the mounter (the daemon's own credentials) lacks that access.
  bool realistic_permissions = false;
  // Under map= and the offsets, what a caller creates is given the ids
  // that show as its own: only a daemon that may chown (root) can.
  bool map_new_files = true;

  // Whether what the mount shows differs from SOURCE.
  bool ChangesView() const { return ChangesPermissions() || hide_hard_links || ctime_from_mtime; }
  // Whether it shows other owners or permission bits, which the kernel
  // must then enforce (default_permissions).
  bool ChangesPermissions() const {
    return force_user || force_group || !perms.empty() || !user_map.empty() ||
           !group_map.empty() || uid_offset != 0 || gid_offset != 0 || ShowsPerCaller() ||
           realistic_permissions;
  }
  // Whether callers see different attributes of the same file: the kernel
  // may then cache none (attribute timeouts of 0).
  bool ShowsPerCaller() const { return !mirror_users.empty() || mirror_only; }
};

class Policy {
 public:
  explicit Policy(PolicyOptions options = {}) : options_(std::move(options)) {}

  const PolicyOptions& options() const { return options_; }

  // Who looks at a file: the views that depend on it.
  struct Viewer {
    uid_t uid = 0;
    // R_OK | W_OK | X_OK: what the mounter may do with the file (asked
    // only with realistic-permissions; NeedsMounterAccess).
    int mounter_access = 7;
  };
  bool NeedsMounterAccess() const { return options_.realistic_permissions; }

  // SOURCE's attributes as the mount shows them to `viewer`: to a caller
  // mirror-only= shuts out, nothing but the file's type (no bits, owner
  // root, size and times 0; the daemon refuses it too: CallerGate).
  void Show(struct stat& st, const Viewer& viewer) const;
  void Show(struct statx& stx, const Viewer& viewer) const;

  // mirror-only=: whether `uid` may use the mount at all (root and the
  // mirrored users may).
  bool Admits(uid_t uid) const;

  // What of a SETATTR reaches SOURCE. Fails (EPERM) when a part is
  // denied, before any part is made; an ignored part is left out.
  struct SetattrAsked {
    bool uid = false;
    bool gid = false;
    std::optional<mode_t> mode;  // the chmod asked for
    mode_t current_mode = 0;     // SOURCE's, when a mode is asked for
  };
  struct SetattrPlan {
    bool uid = false;
    bool gid = false;
    std::optional<mode_t> mode;  // what SOURCE's mode becomes
  };
  fusekit::Result<SetattrPlan> Setattr(const SetattrAsked& asked) const;
  // Whether Setattr needs SOURCE's current mode for a chmod.
  bool ChmodNeedsCurrentMode() const {
    return options_.chmod_allow_x || !options_.chmod_filter.empty();
  }

  // setxattr or removexattr of `name`: not with xattr-ro, and not an
  // access ACL (which rewrites the mode) where chmod is not plain.
  fusekit::Status MayChangeXattr(std::string_view name) const;

  // What SOURCE's new file (`mode`) gets after it was made as the caller
  // (`caller_uid`; `caller_gid` where the file has the caller's group, not
  // a setgid directory's): an owner or group to give it, and its
  // permission bits (a symlink's are none). Under map= and the offsets it
  // gets the ids that show as the caller's, as bindfs gives them.
  struct Creation {
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    std::optional<mode_t> mode;
  };
  Creation Created(mode_t mode, uid_t caller_uid, std::optional<gid_t> caller_gid) const;
  bool ChangesCreation() const {
    return options_.create_for_user || options_.create_for_group ||
           !options_.create_with_perms.empty() || MapsNewFiles();
  }

  // The SOURCE owner for an owner a chown through the mount names: map=
  // and the offsets undone.
  // nullopt where the offsets take it out of the ids a file may have.
  std::optional<uid_t> SourceUid(uid_t shown) const;
  std::optional<gid_t> SourceGid(gid_t shown) const;

  fusekit::Status MayDelete() const;
  fusekit::Status MayRename() const;

 private:
  // The fields both stat shapes share, shown in place.
  void ShowFields(mode_t& mode, uid_t& uid, gid_t& gid, nlink_t& nlink,
                  const Viewer& viewer) const;
  bool Mirrors(uid_t uid) const;
  bool MapsNewFiles() const {
    return options_.map_new_files &&
           (!options_.user_map.empty() || !options_.group_map.empty() || options_.uid_offset != 0 ||
            options_.gid_offset != 0);
  }

  PolicyOptions options_;
};

}  // namespace passthroughfs
