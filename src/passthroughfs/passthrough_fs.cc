// PassthroughFs: lookups, attributes and the namespace operations.
#include "passthrough_fs.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/resource.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <thread>

#include "caller.h"
#include "fs_util.h"
#include "open_files.h"
#include "source_view.h"
#include "fusekit/log.h"

namespace passthroughfs {

using namespace fusekit;  // NOLINT: this file implements fusekit::Operations

namespace {

Timeout Seconds(double s) {
  return std::chrono::duration_cast<Timeout>(std::chrono::duration<double>(s));
}

double DefaultTimeout(CacheMode cache) {
  switch (cache) {
    case CacheMode::kNever:
      return 0;
    case CacheMode::kAlways:
      return 86400;
    case CacheMode::kAuto:
      break;
  }
  return 1;
}

// Filesystems that stack on others: a backing file on them is one level
// deeper, so passthrough needs max_stack_depth 2.
bool IsStacked(int fd) {
  struct statfs st;
  if (::fstatfs(fd, &st) != 0) return false;
  constexpr long kEcryptfs = 0xf15f;
  return st.f_type == OVERLAYFS_SUPER_MAGIC || st.f_type == kEcryptfs ||
         st.f_type == FUSE_SUPER_MAGIC;
}

// Local filesystems whose close() never reports a deferred write error:
// over them FLUSH of a passthrough open has nothing to tell the caller.
bool CloseNeverFails(int fd) {
  struct statfs st;
  if (::fstatfs(fd, &st) != 0) return false;
  switch (static_cast<unsigned long>(st.f_type)) {
    case EXT4_SUPER_MAGIC:
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
    case TMPFS_MAGIC:
    case RAMFS_MAGIC:
      return true;
    default:
      return false;
  }
}

// Half of the fds the daemon may open go to inodes, the rest to open files,
// directories and its own.
size_t DefaultFdBudget() {
  struct rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 512;
  return std::max<size_t>(static_cast<size_t>(limit.rlim_cur) / 2, 16);
}

// Why inodes cannot be held by file handle on SOURCE, "" if they can: the
// filesystem must give handles, and the daemon open them
// (CAP_DAC_READ_SEARCH).
std::string HandlesRefused(int root) {
  int mount_id = 0;
  auto handle = SourceHandle::Of(root, "", &mount_id);
  if (!handle) {
    return "SOURCE's filesystem gives no file handles (name_to_handle_at: " +
           handle.error().message() + ")";
  }
  // open_by_handle_at takes no O_PATH fd for the mount.
  UniqueFd mount_fd(::open(ProcPath(root).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!mount_fd) return "SOURCE: " + Errno::Last().message();
  auto fd = handle->Open(mount_fd.get(), O_PATH);
  if (!fd) {
    return fd.error() == Errno(EPERM)
               ? std::string("opening file handles needs CAP_DAC_READ_SEARCH")
               : "open_by_handle_at: " + fd.error().message();
  }
  return "";
}

// getxattr of an ACL answers ENODATA (none set) where the filesystem has
// them, EOPNOTSUPP where it has not.
bool SupportsPosixAcls(int dir) {
  std::string path = ProcPath(dir);
  return ::getxattr(path.c_str(), "system.posix_acl_access", nullptr, 0) >= 0 ||
         errno != EOPNOTSUPP;
}

Result<struct stat> StatFd(int fd) {
  struct stat st;
  if (::fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return FailLast();
  return st;
}

}  // namespace

Result<std::unique_ptr<PassthroughFs>> PassthroughFs::Create(UniqueFd source,
                                                             const FsOptions& options) {
  std::string refusal;
  auto view = OpenSourceView(source.get(), {options.atime, options.nodiratime}, refusal);
  if (!view) {
    if (!refusal.empty()) LogError("{}", refusal);
    return Fail(view.error());
  }
  UniqueFd root = std::move(view->root);
  auto st = StatFd(root.get());
  if (!st) return Fail(st.error());
  if (!S_ISDIR(st->st_mode)) return Fail(ENOTDIR);
  SourceTraits traits;
  traits.stacked = IsStacked(root.get());
  traits.flush_reports_errors = !CloseNeverFails(root.get());
  traits.posix_acls = SupportsPosixAcls(root.get());
  if (auto path = FdPath(root.get())) traits.path = std::move(*path);
  // The kernel applies the caller's umask to the modes it sends, or hands
  // it over (FUSE_DONT_MASK) for CallerUmask: the daemon's own must never
  // mask them a second time.
  ::umask(0);
  // Callers act through AsCaller with their own fsuid/fsgid; the daemon's
  // supplementary groups (root's, often 0) must not be added to theirs.
  if (!DropSupplementaryGroups()) return FailLast();
  InodeStore::Config store;
  store.fd_budget = options.fd_cache.value_or(DefaultFdBudget());
  std::string handles_refused = HandlesRefused(root.get());
  switch (options.inode_handles) {
    case InodeHandles::kNever:
      handles_refused = "-o inode_handles=never";
      break;
    case InodeHandles::kAlways:
      if (!handles_refused.empty()) {
        LogError("-o inode_handles=always, but {}", handles_refused);
        return Fail(EOPNOTSUPP);
      }
      break;
    case InodeHandles::kAuto:
      break;
  }
  store.handles = handles_refused.empty();
  std::string status = store.handles ? "inodes by file handle, fd cache " +
                                           std::to_string(store.fd_budget)
                                     : "inodes by fd (" + handles_refused + "), " +
                                           std::to_string(store.fd_budget) + " at most";
  auto inodes = std::make_unique<InodeStore>(std::move(root), *st, store);
  return std::unique_ptr<PassthroughFs>(
      new PassthroughFs(std::move(inodes), options, traits, std::move(status)));
}

PassthroughFs::PassthroughFs(std::unique_ptr<InodeStore> inodes, const FsOptions& options,
                             const SourceTraits& source, std::string inode_status)
    : inodes_(std::move(inodes)),
      inode_status_(std::move(inode_status)),
      options_(options),
      policy_(options.policy),
      source_(source),
      entry_timeout_(Seconds(options.entry_timeout.value_or(DefaultTimeout(options.cache)))),
      attr_timeout_(Seconds(options.attr_timeout.value_or(DefaultTimeout(options.cache)))),
      negative_timeout_(Seconds(options.negative_timeout.value_or(0))),
      kernel_checks_(options.default_permissions),
      kept_backings_(options.keep_backing) {}

Config PassthroughFs::SessionConfig() const {
  Config config;
  config.want |= cap::kHandleKillprivV2 |
                 cap::kExportSupport | cap::kSetxattrExt | cap::kDirectIoAllowMmap |
                 cap::kCacheSymlinks;
  if (options_.readdirplus != ReaddirplusMode::kNo) config.want |= cap::kReaddirplus;
  if (options_.readdirplus == ReaddirplusMode::kAuto) config.want |= cap::kReaddirplusAuto;
  if (!options_.splice) {
    config.want &= ~(cap::kSpliceRead | cap::kSpliceWrite | cap::kSpliceMove);
  }
  if (options_.lock_forwarding) config.want |= cap::kPosixLocks | cap::kFlockLocks;
  if (options_.passthrough != PassthroughMode::kNever && BackingFile::MayRegister()) {
    config.want |= cap::kPassthrough;
  } else if (options_.writeback) {
    config.want |= cap::kWritebackCache;
  }
  if (options_.cache == CacheMode::kAuto) config.want |= cap::kAutoInvalData;
  // The kernel leaves the umask to us, so that a default ACL in SOURCE can
  // replace it when the daemon creates. With FUSE_POSIX_ACL it also checks
  // ACLs itself, which turns default_permissions on: not when asked to
  // keep that off, and by default only when it is on anyway, since with it
  // each create or unlink costs a GETATTR of the directory it changed.
  // Without it the daemon's calls, made as the caller, meet SOURCE's ACLs.
  if (source_.posix_acls && options_.acl.value_or(true)) {
    config.want |= cap::kDontMask;
    // The kernel reads ACLs through GETXATTR: not with -o xattr=off.
    // Not under an owner or permission view: SOURCE's ACLs name SOURCE's
    // ids and would override the bits the mount shows.
    if (options_.acl.value_or(options_.default_permissions) && !options_.no_default_permissions &&
        options_.xattrs && !options_.policy.ChangesPermissions())
      config.want |= cap::kPosixAcl;
  }
  config.max_stack_depth = options_.max_stack_depth.value_or(source_.stacked ? 2 : 1);
  unsigned cores = std::max(2u, std::thread::hardware_concurrency());
  config.threads = options_.single_threaded ? 1 : options_.threads ? options_.threads : cores;
  config.clone_fd = options_.clone_fd;
  config.busy_poll = std::chrono::microseconds(options_.busy_poll_us);
  config.io_uring = options_.io_uring;
  return config;
}

void PassthroughFs::Init(const ConnectionInfo& info) {
  device_ = info.device;
  notifier_ = info.notifier;
  session_stats_ = info.stats;
  writeback_active_ = info.has(cap::kWritebackCache);
  acls_active_ = info.has(cap::kPosixAcl);
  masks_modes_ = info.has(cap::kDontMask);
  kernel_checks_ = options_.default_permissions || acls_active_;
  forget_readers_ = info.io_uring() ? ~0u : std::max(SessionConfig().threads, 1u) - 1;
  bool granted = info.passthrough();
  passthrough_active_ = granted && options_.passthrough != PassthroughMode::kNever;
  if (options_.passthrough == PassthroughMode::kNever) {
    passthrough_refusal_ = "turned off (-o passthrough=never)";
  } else if (!BackingFile::MayRegister()) {
    passthrough_refusal_ =
        "registering backing files needs CAP_SYS_ADMIN, which the daemon lacks (as for every "
        "mount through fusermount3)";
  } else if (!granted) {
    passthrough_refusal_ =
        (info.kernel_flags & cap::kPassthrough) == 0
            ? "the kernel does not offer it (needs Linux 6.9+ with CONFIG_FUSE_PASSTHROUGH)"
            : "the kernel did not grant it";
  }
  bool ok = passthrough_active_ || options_.passthrough != PassthroughMode::kAlways;
  if (!StartWatching(watch_status_)) {
    ok = false;
    LogError("-o watch=: {}", watch_status_);
  }
  if (on_init_) on_init_(ok, PassthroughStatus());
}

std::string PassthroughFs::PassthroughStatus() const {
  if (passthrough_active_) {
    return "kernel passthrough active (max_stack_depth " +
           std::to_string(SessionConfig().max_stack_depth) + "); " + inode_status_ + "; " +
           watch_status_;
  }
  return "kernel passthrough off: " + passthrough_refusal_ + "; the daemon serves file I/O; " +
         inode_status_ + "; " + watch_status_;
}

void PassthroughFs::Destroy() {
  // No notification after this: the watcher goes first.
  coherence_.reset();
  // The session is over: no RELEASE, RELEASEDIR or FORGET will come for
  // what is still open or looked up. Close it all (backing ids included)
  // so that nothing the daemon held outlives the mount.
  std::unordered_map<uint64_t, std::shared_ptr<OpenFile>> files;
  std::unordered_map<uint64_t, std::shared_ptr<OpenDirectory>> dirs;
  {
    std::lock_guard lock(handles_mutex_);
    files.swap(files_);
    dirs.swap(dirs_);
  }
  for (auto& [fh, file] : files) DetachOpen(*file->inode);
  files.clear();
  for (NodeId kept : kept_backings_.TakeAll()) DropKeptBacking(kept);
  dirs.clear();
  inodes_->Clear();
  // The connection's fd too: a PassthroughFs that outlives its mount must
  // not keep /dev/fuse open.
  device_.reset();
  notifier_ = Notifier();
}

void PassthroughFs::Forget(NodeId node, uint64_t nlookup) {
  auto dropped = inodes_->Forget(node, nlookup);
  if (!dropped) return;
  // A forgotten inode may stay known (for export), but unopened: its
  // backing file goes, whether or not the watcher took it off the kept
  // list first (DropKeptBacking no longer finds a forgotten node).
  (void)kept_backings_.Take(node);
  DropBacking(*dropped);
  if (coherence_) coherence_->Forgotten(*dropped);
}

namespace {
// While the watcher keeps the kernel's caches true to SOURCE.
constexpr double kCoherentTimeout = 3600;
}  // namespace

bool PassthroughFs::CachesCoherent() const {
  return coherence_ && options_.cache == CacheMode::kAuto && coherence_->coherent();
}

Timeout PassthroughFs::EntryTimeout() const {
  return !options_.entry_timeout && CachesCoherent() ? Seconds(kCoherentTimeout) : entry_timeout_;
}

Timeout PassthroughFs::AttrTimeout() const {
  // mirror=: attributes differ by caller, and the kernel keeps one copy.
  if (policy_.options().ShowsPerCaller()) return Timeout::zero();
  return !options_.attr_timeout && CachesCoherent() ? Seconds(kCoherentTimeout) : attr_timeout_;
}

Timeout PassthroughFs::NegativeTimeout() const {
  return !options_.negative_timeout && CachesCoherent() ? Seconds(kCoherentTimeout)
                                                        : negative_timeout_;
}

bool PassthroughFs::StartWatching(std::string& status) {
  if (options_.cache != CacheMode::kAuto || options_.watch == WatchMode::kOff) {
    status = options_.watch == WatchMode::kOff ? "SOURCE not watched (-o watch=off)"
                                               : "SOURCE not watched (cache= is not auto)";
    return true;
  }
  std::string why;
  auto started = Coherence::Start(
      options_.watch, *inodes_, notifier_, [this](pid_t tid) { return threads_.Contains(tid); },
      [this](std::optional<NodeId> node) { ChangedBehindMount(node); }, why);
  if (!started) {
    status = "SOURCE not watched: " + why;
    return options_.watch == WatchMode::kAuto;
  }
  coherence_ = std::move(*started);
  if (auto root = inodes_->Get(kRootNode)) coherence_->Learned(*root, root->fd.get());
  // Listings without OPENDIR need the kernel to check access itself, and
  // a watcher that sees every change: fanotify's filesystem marks.
  // mirror-only= refuses other callers' OPENDIR (CallerGate): a listing
  // the kernel kept could reach them without one.
  no_opendir_ = std::string(coherence_->backend()) == "fanotify" &&
                (kernel_checks_ || !options_.allow_other) && !policy_.options().mirror_only;
  status = std::string("watching SOURCE with ") + coherence_->backend() +
           (why.empty() ? "" : " (" + why + ")") + ", caches kept for an hour";
  return true;
}

Policy::Viewer PassthroughFs::ViewerFor(uid_t uid, int fd) const {
  Policy::Viewer viewer{.uid = uid};
  if (!policy_.NeedsMounterAccess()) return viewer;
  viewer.mounter_access = 0;  // shown as nothing where it cannot be told
  if (fd < 0) return viewer;
  for (int access : {R_OK, W_OK, X_OK}) {
    if (::faccessat(fd, "", access, AT_EMPTY_PATH | AT_EACCESS) == 0)
      viewer.mounter_access |= access;
  }
  return viewer;
}

Policy::Viewer PassthroughFs::ViewerFor(uid_t uid, Inode& inode) {
  if (!policy_.NeedsMounterAccess()) return {.uid = uid};
  auto fd = inodes_->Anchor(inode);
  return ViewerFor(uid, fd ? fd->get() : -1);
}

Entry PassthroughFs::MakeEntry(const std::shared_ptr<Inode>& inode, const struct stat& st,
                               uid_t viewer) {
  Entry e;
  e.node = inode->id;
  struct stat shown = st;
  policy_.Show(shown, ViewerFor(viewer, *inode));
  e.attr = Attr::FromStat(shown);
  e.entry_timeout = EntryTimeout();
  e.attr_timeout = AttrTimeout();
  return e;
}

Result<std::string> PassthroughFs::SourcePath(NodeId node) {
  auto pinned = Pin(node);
  if (!pinned) return Fail(pinned.error());
  auto path = FdPath(pinned->fd.get());
  if (!path) return path;
  const std::string& root = source_.path;
  if (*path == root) return std::string(".");
  if (root == "/") return path->substr(1);
  if (path->size() > root.size() && path->compare(0, root.size(), root) == 0 &&
      (*path)[root.size()] == '/')
    return path->substr(root.size() + 1);
  return path;
}

Result<UniqueFd> PassthroughFs::OpenForLocks(NodeId node) {
  auto pinned = Pin(node);
  if (!pinned) return Fail(pinned.error());
  // One description carries an owner's read and write locks alike; the
  // kernel has checked each lock's type against the caller's own open.
  // O_NONBLOCK: a lease on the file (Samba, NFS) fails the open at once
  // instead of blocking the worker for the lease's break time.
  Result<UniqueFd> fd = Fail(EBADF);
  for (int flags : {O_RDWR, O_RDONLY, O_WRONLY}) {
    fd = Reopen(pinned->fd.get(), flags | O_NONBLOCK);
    if (fd) break;
  }
  return fd;
}

Result<PassthroughFs::Pinned> PassthroughFs::Pin(NodeId node) {
  threads_.NoteCurrent();
  auto inode = inodes_->Get(node);
  if (!inode) return Fail(ESTALE);
  auto fd = WithFdRelief([&] { return inodes_->Anchor(*inode); });
  if (!fd) return Fail(fd.error());
  return Pinned{std::move(inode), std::move(*fd)};
}

bool PassthroughFs::RelieveFds() {
  if (inodes_->ReleaseCachedFds()) return true;
  auto prune = inodes_->PruneCandidates(/*force=*/true);
  if (prune.empty() || !notifier_.Prune(prune)) return false;
  // The kernel's FORGETs come through another worker: one must be left to
  // read them (over io_uring, the /dev/fuse worker always is).
  if (fd_waiters_.fetch_add(1) >= forget_readers_) {
    fd_waiters_--;
    return false;
  }
  bool forgot = inodes_->WaitForForget(std::chrono::milliseconds(200));
  fd_waiters_--;
  return forgot;
}

void PassthroughFs::PruneIfDue() {
  auto prune = inodes_->PruneCandidates(/*force=*/false);
  if (!prune.empty()) (void)notifier_.Prune(prune);
}

Result<Entry> PassthroughFs::LookupChild(const Inode& parent, int parent_fd,
                                         std::string_view name, uid_t viewer) {
  Result<InodeStore::Found> found = Fail(ENOENT);
  if (name == "." || (name == ".." && parent.id == kRootNode)) {
    // ".." of the root stays at the root: never above SOURCE.
    found = WithFdRelief([&] { return inodes_->Adopt(parent_fd); });
  } else if (name == "..") {
    // The kernel asks for ".." only to reconnect a directory's file handle
    // (export support), walking up until it meets a known dentry. For a
    // directory moved out of SOURCE on the host while the kernel held it,
    // that walk would go above SOURCE up to "/", reading every directory
    // on the way. Answer only while the directory is still below SOURCE
    // (checked before the step, so nothing outside is opened, and after
    // it, against a concurrent move).
    auto root = inodes_->Get(kRootNode);
    if (!WithinTree(parent_fd, root->dev, root->ino)) return Fail(ENOENT);
    UniqueFd up(::openat(parent_fd, "..", O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!up) return FailLast();
    if (!WithinTree(up.get(), root->dev, root->ino)) return Fail(ENOENT);
    found = WithFdRelief([&] { return inodes_->Adopt(up.get()); });
  } else {
    if (!IsPlainName(name)) return Fail(name.size() > 255 ? ENAMETOOLONG : ENOENT);
    std::string n(name);
    found = WithFdRelief([&] { return inodes_->Resolve(parent, parent_fd, n.c_str()); });
  }
  if (!found) return Fail(found.error());
  PruneIfDue();
  // inotify watches each directory the kernel learns.
  if (coherence_ && found->inode->type == S_IFDIR && !found->inode->watched.load()) {
    if (auto fd = inodes_->Anchor(*found->inode)) coherence_->Learned(*found->inode, fd->get());
  }
  return MakeEntry(found->inode, found->st, viewer);
}

void PassthroughFs::Lookup(const Context& ctx, const req::Lookup& in, ReplyEntry reply) {
  listing_advisor_.ChildLookedUp(ctx.node().value);
  auto parent = Pin(ctx.node());
  if (!parent) {
    // A file handle taken on the mount, for a node the kernel has since
    // forgotten: it asks for "." of that node id.
    if (in.name == "." && !inodes_->Get(ctx.node())) {
      auto revived = inodes_->Revive(ctx.node());
      if (!revived) return reply.Error(revived.error());
      return reply.Ok(MakeEntry(revived->inode, revived->st, ctx.uid()));
    }
    return reply.Error(parent.error());
  }
  auto entry = LookupChild(*parent->inode, parent->fd.get(), in.name, ctx.uid());
  if (!entry) {
    if (entry.error() == Errno(ENOENT) && NegativeTimeout().count() > 0)
      return reply.Negative(NegativeTimeout());
    return reply.Error(entry.error());
  }
  reply.Ok(*entry);
}

void PassthroughFs::GetAttr(const Context& ctx, const req::GetAttr& in, ReplyAttr reply) {
  struct stat st;
  if (in.fh) {
    auto file = GetOpenFile(*in.fh);
    if (file && ::fstat(file->fd.get(), &st) == 0) {
      policy_.Show(st, ViewerFor(ctx.uid(), file->fd.get()));
      return reply.Ok(Attr::FromStat(st), AttrTimeout());
    }
  }
  auto inode = Pin(ctx.node());
  if (!inode) return reply.Error(inode.error());
  auto s = StatFd(inode->fd.get());
  if (!s) return reply.Error(s.error());
  policy_.Show(*s, ViewerFor(ctx.uid(), inode->fd.get()));
  reply.Ok(Attr::FromStat(*s), AttrTimeout());
}

void PassthroughFs::SetAttr(const Context& ctx, const req::SetAttr& in, ReplyAttr reply) {
  auto inode = Pin(ctx.node());
  if (!inode) return reply.Error(inode.error());
  std::shared_ptr<OpenFile> file = in.fh ? GetOpenFile(*in.fh) : nullptr;
  int open_fd = file ? file->fd.get() : -1;
  const std::string path = ProcPath(inode->fd.get());
  const bool checked = kernel_checks_permissions();
  // Denied changes fail before any part of the call reaches SOURCE.
  // SOURCE's attributes, read once where the policy needs them: a chmod
  // filter or chmod-allow-x looks at the current mode; an owner or
  // permission view at the real owner and group.
  const bool view = policy_.options().ChangesPermissions() && (in.mode || in.uid || in.gid);
  std::optional<struct stat> now;
  if (view || (in.mode && policy_.ChmodNeedsCurrentMode())) {
    auto st = StatFd(inode->fd.get());
    if (!st) return reply.Error(st.error());
    now = *st;
  }
  Policy::SetattrAsked asked;
  asked.uid = in.uid.has_value();
  asked.gid = in.gid.has_value();
  if (in.mode) {
    asked.mode = *in.mode & 07777;
    if (now) asked.current_mode = now->st_mode;
  }
  auto allowed = policy_.Setattr(asked);
  if (!allowed) return reply.Error(allowed.error());
  if (view) {
    // The kernel checked against the owner and group shown; SOURCE's decide
    // who may set setuid and setgid, and a chown to the owner already
    // shown changes nothing (a map may show two SOURCE owners as one).
    struct stat shown = *now;
    policy_.Show(shown, ViewerFor(ctx.uid(), inode->fd.get()));
    bool root = ctx.uid() == 0;
    if (allowed->mode && !root && now->st_uid != ctx.uid()) *allowed->mode &= ~S_ISUID;
    if (allowed->mode && !root && now->st_gid != ctx.gid()) *allowed->mode &= ~S_ISGID;
    if (allowed->uid && *in.uid == shown.st_uid) allowed->uid = false;
    if (allowed->gid && *in.gid == shown.st_gid) allowed->gid = false;
  }
  std::optional<uid_t> source_uid;
  std::optional<gid_t> source_gid;
  if (in.uid && allowed->uid) {
    source_uid = policy_.SourceUid(*in.uid);
    if (!source_uid) return reply.Error(EINVAL);
  }
  if (in.gid && allowed->gid) {
    source_gid = policy_.SourceGid(*in.gid);
    if (!source_gid) return reply.Error(EINVAL);
  }

  if (allowed->mode) {
    // The kernel has dropped setgid from the mode where the caller may not
    // set it (with default_permissions).
    AsCaller as_caller(ctx, checked);
    int rc = open_fd >= 0 ? ::fchmod(open_fd, *allowed->mode)
                          : ::fchmodat(AT_FDCWD, path.c_str(), *allowed->mode, 0);
    if (rc != 0) return reply.Error(Errno::Last());
  }
  if (source_uid || source_gid) {
    // chown clears setuid, and setgid as the kernel's rules say for this
    // caller (FATTR_KILL_SUIDGID comes with every chown, so it says
    // nothing about the caller's CAP_FSETID): the source filesystem
    // decides, with the caller's group.
    AsCaller as_caller(ctx, checked, Setid::kRootKeeps);
    uid_t uid = source_uid.value_or(static_cast<uid_t>(-1));
    gid_t gid = source_gid.value_or(static_cast<gid_t>(-1));
    if (::fchownat(inode->fd.get(), "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
      return reply.Error(Errno::Last());
  }
  if (in.size) {
    // FATTR_KILL_SUIDGID with a size: the caller lacks CAP_FSETID, so the
    // truncate clears the bits as natively.
    AsCaller as_caller(ctx, checked, in.kill_suidgid ? Setid::kClear : Setid::kAsChecked);
    int rc = open_fd >= 0 ? ::ftruncate(open_fd, static_cast<off_t>(*in.size))
                          : ::truncate(path.c_str(), static_cast<off_t>(*in.size));
    if (rc != 0) return reply.Error(Errno::Last());
  }
  if (!in.atime.omitted() || !in.mtime.omitted()) {
    AsCaller as_caller(ctx, checked);
    timespec times[2] = {in.atime.ForUtimensat(), in.mtime.ForUtimensat()};
    int rc;
    if (open_fd >= 0) {
      rc = ::futimens(open_fd, times);
    } else if (inode->inode->type == S_IFLNK) {
      // A symlink cannot be reopened; its times are set through the link
      // itself, which utimensat on the O_PATH fd does not follow.
      rc = ::utimensat(inode->fd.get(), "", times, AT_EMPTY_PATH);
    } else {
      rc = ::utimensat(AT_FDCWD, path.c_str(), times, 0);
    }
    if (rc != 0) return reply.Error(Errno::Last());
  }
  auto st = StatFd(inode->fd.get());
  if (!st) return reply.Error(st.error());
  policy_.Show(*st, ViewerFor(ctx.uid(), inode->fd.get()));
  reply.Ok(Attr::FromStat(*st), AttrTimeout());
}

void PassthroughFs::ReadLink(const Context& ctx, const req::ReadLink&, ReplyData reply) {
  auto inode = Pin(ctx.node());
  if (!inode) return reply.Error(inode.error());
  char target[PATH_MAX + 1];
  ssize_t n = ::readlinkat(inode->fd.get(), "", target, sizeof(target));
  if (n < 0) return reply.Error(Errno::Last());
  if (static_cast<size_t>(n) >= sizeof(target)) return reply.Error(ENAMETOOLONG);
  reply.Ok(std::string_view(target, static_cast<size_t>(n)));
}

Status PassthroughFs::ApplyCreationPolicy(int fd, uid_t creator, gid_t creator_gid) {
  if (!policy_.ChangesCreation()) return Ok();
  struct stat st;
  if (::fstat(fd, &st) != 0) return FailLast();
  auto c = policy_.Created(st.st_mode, creator,
                           st.st_gid == creator_gid ? std::optional<gid_t>(creator_gid) : std::nullopt);
  if ((c.uid || c.gid) && ::fchown(fd, c.uid.value_or(static_cast<uid_t>(-1)),
                                   c.gid.value_or(static_cast<gid_t>(-1))) != 0)
    return FailLast();
  if (c.mode && ::fchmod(fd, *c.mode) != 0) return FailLast();
  return Ok();
}

Status PassthroughFs::ApplyCreationPolicy(int dir, const std::string& name, bool is_dir,
                                          uid_t creator, gid_t creator_gid) {
  if (!policy_.ChangesCreation()) return Ok();
  // Pinned once, never followed: the name may have been replaced since the
  // caller made it, and the daemon acts as root here.
  UniqueFd node(::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  struct stat st;
  Status done = Ok();
  if (!node || ::fstat(node.get(), &st) != 0) {
    done = Fail(Errno::Last());
  } else if (st.st_uid != creator || (!S_ISDIR(st.st_mode) && st.st_nlink != 1)) {
    // Not what the caller just made (replaced, or linked there meanwhile):
    // left alone.
    return Ok();
  } else {
    auto c = policy_.Created(
        st.st_mode, creator,
        st.st_gid == creator_gid ? std::optional<gid_t>(creator_gid) : std::nullopt);
    if ((c.uid || c.gid) &&
        ::fchownat(node.get(), "", c.uid.value_or(static_cast<uid_t>(-1)),
                   c.gid.value_or(static_cast<gid_t>(-1)), AT_EMPTY_PATH) != 0)
      done = Fail(Errno::Last());
    else if (c.mode && ::chmod(ProcPath(node.get()).c_str(), *c.mode) != 0)
      done = Fail(Errno::Last());
  }
  if (!done) {
    LogWarn("{}: the creation policy could not be applied: {}; removed again", name,
            done.error().message());
    struct stat there;
    if (::fstatat(dir, name.c_str(), &there, AT_SYMLINK_NOFOLLOW) == 0 && node &&
        there.st_ino == st.st_ino && there.st_dev == st.st_dev)
      ::unlinkat(dir, name.c_str(), is_dir ? AT_REMOVEDIR : 0);
  }
  return done;
}

template <typename MakeFn>
void PassthroughFs::CreateNode(const Context& ctx, std::string_view name, ReplyEntry reply,
                               MakeFn make, Made made) {
  auto parent = Pin(ctx.node());
  if (!parent) return reply.Error(parent.error());
  if (!IsPlainName(name)) return reply.Error(name.size() > 255 ? ENAMETOOLONG : EINVAL);
  std::string n(name);
  {
    AsCaller as_caller(ctx, kernel_checks_permissions());
    if (make(parent->fd.get(), n.c_str()) != 0) return reply.Error(Errno::Last());
  }
  if (made != Made::kHardLink) {
    auto applied =
        ApplyCreationPolicy(parent->fd.get(), n, made == Made::kDirectory, ctx.uid(), ctx.gid());
    if (!applied) return reply.Error(applied.error());
  }
  auto entry = LookupChild(*parent->inode, parent->fd.get(), name, ctx.uid());
  if (!entry) return reply.Error(entry.error());
  reply.Ok(*entry);
}

void PassthroughFs::SymLink(const Context& ctx, const req::SymLink& in, ReplyEntry reply) {
  std::string target(in.target);
  CreateNode(
      ctx, in.name, std::move(reply),
      [&](int dir, const char* name) { return ::symlinkat(target.c_str(), dir, name); });
}

void PassthroughFs::MkNod(const Context& ctx, const req::MkNod& in, ReplyEntry reply) {
  CreateNode(
      ctx, in.name, std::move(reply),
      [&](int dir, const char* name) {
        CallerUmask umask(masks_modes_, in.umask);
        return ::mknodat(dir, name, umask.Mode(in.mode), in.rdev);
      });
}

void PassthroughFs::MkDir(const Context& ctx, const req::MkDir& in, ReplyEntry reply) {
  CreateNode(
      ctx, in.name, std::move(reply),
      [&](int dir, const char* name) {
        CallerUmask umask(masks_modes_, in.umask);
        return ::mkdirat(dir, name, umask.Mode(in.mode));
      },
      Made::kDirectory);
}

void PassthroughFs::Unlink(const Context& ctx, const req::Unlink& in, ReplyEmpty reply) {
  if (auto allowed = policy_.MayDelete(); !allowed) return reply.Error(allowed.error());
  auto parent = Pin(ctx.node());
  if (!parent) return reply.Error(parent.error());
  if (!IsPlainName(in.name)) return reply.Error(EINVAL);
  std::string n(in.name);
  AsCaller as_caller(ctx, kernel_checks_permissions());
  if (::unlinkat(parent->fd.get(), n.c_str(), 0) != 0) return reply.Error(Errno::Last());
  reply.Ok();
}

void PassthroughFs::RmDir(const Context& ctx, const req::RmDir& in, ReplyEmpty reply) {
  if (auto allowed = policy_.MayDelete(); !allowed) return reply.Error(allowed.error());
  auto parent = Pin(ctx.node());
  if (!parent) return reply.Error(parent.error());
  if (!IsPlainName(in.name)) return reply.Error(in.name == "." ? EINVAL : ENOTEMPTY);
  std::string n(in.name);
  AsCaller as_caller(ctx, kernel_checks_permissions());
  if (::unlinkat(parent->fd.get(), n.c_str(), AT_REMOVEDIR) != 0)
    return reply.Error(Errno::Last());
  reply.Ok();
}

void PassthroughFs::Rename(const Context& ctx, const req::Rename& in, ReplyEmpty reply) {
  if (auto allowed = policy_.MayRename(); !allowed) return reply.Error(allowed.error());
  // A rename over a name deletes what it named: not with delete-deny.
  unsigned flags = in.flags;
  if (!policy_.MayDelete() && !(flags & RENAME_EXCHANGE)) flags |= RENAME_NOREPLACE;
  auto parent = Pin(ctx.node());
  if (!parent) return reply.Error(parent.error());
  auto new_parent = Pin(in.new_parent);
  if (!new_parent) return reply.Error(new_parent.error());
  if (!IsPlainName(in.name) || !IsPlainName(in.new_name)) return reply.Error(EINVAL);
  std::string from(in.name), to(in.new_name);
  AsCaller as_caller(ctx, kernel_checks_permissions());
  if (::renameat2(parent->fd.get(), from.c_str(), new_parent->fd.get(), to.c_str(), flags) != 0)
    return reply.Error(Errno::Last());
  reply.Ok();
}

void PassthroughFs::Link(const Context& ctx, const req::Link& in, ReplyEntry reply) {
  auto target = Pin(in.target);
  if (!target) return reply.Error(target.error());
  // Through /proc rather than AT_EMPTY_PATH, which needs
  // CAP_DAC_READ_SEARCH that the caller's credentials do not have.
  std::string path = ProcPath(target->fd.get());
  CreateNode(
      ctx, in.new_name, std::move(reply),
      [&](int dir, const char* name) {
        if (target->inode->type == S_IFLNK) {
          return ::linkat(target->fd.get(), "", dir, name, AT_EMPTY_PATH);
        }
        return ::linkat(AT_FDCWD, path.c_str(), dir, name, AT_SYMLINK_FOLLOW);
      },
      Made::kHardLink);
}

void PassthroughFs::StatFs(const Context& ctx, const req::StatFs&, ReplyStatfs reply) {
  auto inode = Pin(ctx.node());
  if (!inode) inode = Pin(kRootNode);
  if (!inode) return reply.Error(inode.error());
  struct statvfs st;
  if (::fstatvfs(inode->fd.get(), &st) != 0) return reply.Error(Errno::Last());
  reply.Ok(st);
}

void PassthroughFs::Access(const Context& ctx, const req::Access& in, ReplyEmpty reply) {
  auto inode = Pin(ctx.node());
  if (!inode) return reply.Error(inode.error());
  AsCaller as_caller(ctx, kernel_checks_permissions());
  if (::faccessat(AT_FDCWD, ProcPath(inode->fd.get()).c_str(), static_cast<int>(in.mask),
                  AT_EACCESS) != 0)
    return reply.Error(Errno::Last());
  reply.Ok();
}

void PassthroughFs::Statx(const Context& ctx, const req::Statx& in, ReplyStatx reply) {
  auto inode = Pin(ctx.node());
  if (!inode) return reply.Error(inode.error());
  struct statx sx;
  int flags = AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | (static_cast<int>(in.sx_flags) & AT_STATX_SYNC_TYPE);
  if (::statx(inode->fd.get(), "", flags, in.sx_mask ? in.sx_mask : STATX_BASIC_STATS, &sx) != 0)
    return reply.Error(Errno::Last());
  policy_.Show(sx, ViewerFor(ctx.uid(), inode->fd.get()));
  StatxAttr out;
  out.mask = sx.stx_mask;
  out.blksize = sx.stx_blksize;
  out.attributes = sx.stx_attributes;
  out.nlink = sx.stx_nlink;
  out.uid = sx.stx_uid;
  out.gid = sx.stx_gid;
  out.mode = sx.stx_mode;
  out.ino = sx.stx_ino;
  out.size = sx.stx_size;
  out.blocks = sx.stx_blocks;
  out.attributes_mask = sx.stx_attributes_mask;
  auto ts = [](const statx_timestamp& t) { return timespec{t.tv_sec, t.tv_nsec}; };
  out.atime = ts(sx.stx_atime);
  out.btime = ts(sx.stx_btime);
  out.ctime = ts(sx.stx_ctime);
  out.mtime = ts(sx.stx_mtime);
  out.rdev_major = sx.stx_rdev_major;
  out.rdev_minor = sx.stx_rdev_minor;
  out.dev_major = sx.stx_dev_major;
  out.dev_minor = sx.stx_dev_minor;
  reply.Ok(out, AttrTimeout());
}

void PassthroughFs::SyncFs(const Context&, const req::SyncFs&, ReplyEmpty reply) {
  auto root = Pin(kRootNode);
  if (!root) return reply.Error(root.error());
  UniqueFd fd(::openat(root->fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::syncfs(fd.get()) != 0) return reply.Error(Errno::Last());
  reply.Ok();
}

}  // namespace passthroughfs
