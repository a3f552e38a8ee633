#include "source_view.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

namespace passthroughfs {
namespace {

using fusekit::Atime;

uint64_t AtimeAttr(Atime atime) {
  switch (atime) {
    case Atime::kNoatime: return MOUNT_ATTR_NOATIME;
    case Atime::kStrictatime: return MOUNT_ATTR_STRICTATIME;
    case Atime::kRelatime: break;
  }
  return MOUNT_ATTR_RELATIME;
}

// The policy of the mount `fd` is on.
AtimePolicy PolicyOf(int fd) {
  struct statvfs st {};
  AtimePolicy policy;
  if (::fstatvfs(fd, &st) != 0) return policy;
  policy.atime = (st.f_flag & ST_NOATIME)    ? Atime::kNoatime
                 : (st.f_flag & ST_RELATIME) ? Atime::kRelatime
                                             : Atime::kStrictatime;
  policy.nodiratime = (st.f_flag & ST_NODIRATIME) != 0;
  return policy;
}

}  // namespace

std::string Describe(const AtimePolicy& policy) {
  std::string out = policy.atime == Atime::kNoatime       ? "noatime"
                    : policy.atime == Atime::kStrictatime ? "strictatime"
                                                          : "relatime";
  if (policy.nodiratime) out += ",nodiratime";
  return out;
}

fusekit::Result<SourceView> OpenSourceView(int source, const AtimePolicy& policy,
                                           std::string& refusal) {
  SourceView view;
  view.root.reset(::open_tree(source, "",
                              OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
  if (view.root) {
    struct mount_attr attr {};
    attr.attr_clr = MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME;
    attr.attr_set = AtimeAttr(policy.atime) | (policy.nodiratime ? MOUNT_ATTR_NODIRATIME : 0);
    if (::mount_setattr(view.root.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                        sizeof(attr)) != 0)
      return fusekit::FailLast();
    view.private_copy = true;
    return view;
  }
  // No copy (no CAP_SYS_ADMIN, or an unbindable mount): SOURCE as it is,
  // if its mount already behaves as asked.
  int why = errno;
  AtimePolicy own = PolicyOf(source);
  if (!(own == policy)) {
    refusal = "-o " + Describe(policy) + " cannot be honoured: SOURCE is mounted " +
              Describe(own) + ", and a private view of it with other atime options needs " +
              "CAP_SYS_ADMIN (open_tree: " + fusekit::Errno(why).message() +
              "); mount with -o " + Describe(own) + " instead";
    return fusekit::Fail(EPERM);
  }
  view.root.reset(::openat(source, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!view.root) return fusekit::FailLast();
  return view;
}

}  // namespace passthroughfs
