// SourceView: the daemon's way into SOURCE, with the mount's atime options.
//
// Reads through the mount change atime in SOURCE: the daemon's own reads,
// and the kernel's reads of backing files (passthrough). Both follow the
// atime flags of the mount the file was opened through, never the FUSE
// mount's. So the daemon works in a private copy of SOURCE's mount tree,
// detached from every namespace (open_tree(OPEN_TREE_CLONE), recursive),
// whose atime flags are set to the FUSE mount's: noatime, relatime,
// strictatime and nodiratime then behave through the mount exactly as on a
// native mount with those options. The copy needs CAP_SYS_ADMIN; without
// it SOURCE is used as it is mounted, and options it cannot honour are
// refused.
//
// Thread-safety: a plain function.
#pragma once

#include <string>

#include "fusekit/mount.h"
#include "fusekit/result.h"
#include "fusekit/unique_fd.h"

namespace passthroughfs {

struct AtimePolicy {
  fusekit::Atime atime = fusekit::Atime::kRelatime;
  bool nodiratime = false;
  bool operator==(const AtimePolicy&) const = default;
};

struct SourceView {
  fusekit::UniqueFd root;  // O_PATH, the root of the view
  bool private_copy = false;
};

// The view of the directory `source` for `policy`. Fails with EPERM, and
// says why in `refusal`, when no copy can be made and SOURCE's own mount
// has another policy.
fusekit::Result<SourceView> OpenSourceView(int source, const AtimePolicy& policy,
                                           std::string& refusal);

// "noatime", "relatime,nodiratime", ...: as mount(8) spells it.
std::string Describe(const AtimePolicy& policy);

}  // namespace passthroughfs
