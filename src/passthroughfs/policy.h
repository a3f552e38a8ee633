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

#include <optional>

#include "fusekit/result.h"
#include "perm_spec.h"

namespace passthroughfs {

// What a chown, chgrp or chmod through the mount does: as asked, nothing
// (and succeeds), or fails with EPERM.
enum class ChangeRule { kNormal, kIgnore, kDeny };

struct PolicyOptions {
  std::optional<uid_t> force_user;   // every file shows this owner
  std::optional<gid_t> force_group;  // and this group
  PermSpec perms;                    // applied to the permission bits shown
  ChangeRule chown = ChangeRule::kNormal;
  ChangeRule chgrp = ChangeRule::kNormal;
  ChangeRule chmod = ChangeRule::kNormal;
  bool delete_deny = false;  // unlink and rmdir fail with EPERM
  bool rename_deny = false;  // rename fails with EPERM
  bool hide_hard_links = false;   // every file shows one link
  bool ctime_from_mtime = false;  // ctime shows the mtime

  // Whether what the mount shows differs from SOURCE.
  bool ChangesView() const { return ChangesPermissions() || hide_hard_links || ctime_from_mtime; }
  // Whether it shows other owners or permission bits, which the kernel
  // must then enforce (default_permissions).
  bool ChangesPermissions() const { return force_user || force_group || !perms.empty(); }
};

class Policy {
 public:
  explicit Policy(PolicyOptions options = {}) : options_(std::move(options)) {}

  const PolicyOptions& options() const { return options_; }

  // SOURCE's attributes as the mount shows them.
  void Show(struct stat& st) const;
  void Show(struct statx& stx) const;

  // Which parts of a SETATTR reach SOURCE. Fails (EPERM) when one is
  // denied; a change that is ignored is left out, and the rest goes on.
  struct Changes {
    bool uid = false;
    bool gid = false;
    bool mode = false;
  };
  fusekit::Result<Changes> Setattr(Changes asked) const;

  fusekit::Status MayDelete() const;
  fusekit::Status MayRename() const;

 private:
  // The fields both stat shapes share, shown in place.
  void ShowFields(mode_t& mode, uid_t& uid, gid_t& gid, nlink_t& nlink) const;

  PolicyOptions options_;
};

}  // namespace passthroughfs
