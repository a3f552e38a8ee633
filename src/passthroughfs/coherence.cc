#include "coherence.h"

#include <unistd.h>

#include "fusekit/log.h"

namespace passthroughfs {

using fusekit::Fail;
using fusekit::NodeId;
using fusekit::Result;

namespace {

// After lost events, how long caches stay short-lived: the kernel has been
// told to drop all it held, and what it fetches again is fresh, but a change
// racing the resynchronisation is caught by short timeouts.
constexpr std::chrono::seconds kGrace(5);

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void DaemonThreads::NoteCurrent() {
  // Threads are few and serve one filesystem, mostly: remember which sets
  // this thread is in already.
  thread_local std::array<const DaemonThreads*, 4> noted{};
  for (const DaemonThreads* set : noted)
    if (set == this) return;
  for (auto& slot : noted) {
    if (slot == nullptr) {
      slot = this;
      break;
    }
  }
  size_t at = count_.fetch_add(1, std::memory_order_relaxed);
  if (at < kMax) tids_[at].store(::gettid(), std::memory_order_release);
}

bool DaemonThreads::Contains(pid_t tid) const {
  size_t n = std::min(count_.load(std::memory_order_acquire), kMax);
  for (size_t i = 0; i < n; ++i)
    if (tids_[i].load(std::memory_order_acquire) == tid) return true;
  return false;
}

class Coherence::Index : public NodeIndex {
 public:
  explicit Index(InodeStore& inodes) : inodes_(inodes) {}
  std::optional<NodeId> FindByHandle(uint64_t fsid, const SourceHandle& handle) override {
    return inodes_.FindByHandle(fsid, handle);
  }
  std::optional<NodeId> FindChild(NodeId dir, const std::string& name) override {
    auto inode = inodes_.Get(dir);
    if (!inode) return std::nullopt;
    auto fd = inodes_.Anchor(*inode);
    if (!fd) return std::nullopt;
    return inodes_.FindName(fd->get(), name.c_str());
  }

 private:
  InodeStore& inodes_;
};

// The kernel may have forgotten a node the store still shows (its FORGET on
// the way): such notifications fail with ENOENT, which is fine.
class Coherence::Caches : public CacheInvalidations {
 public:
  Caches(Coherence& owner) : owner_(owner) {}
  void Attributes(NodeId node) override {
    (void)owner_.notifier_.InvalInode(node, -1, 0);
    if (owner_.changed_) owner_.changed_(node);
  }
  // Not reported as changed: passthrough writes through the mount come
  // from the writer, not the daemon, and look the same.
  void Contents(NodeId node) override { (void)owner_.notifier_.InvalInode(node, 0, 0); }
  void Entry(NodeId parent, std::string_view name) override {
    (void)owner_.notifier_.InvalEntry(parent, name);
  }
  void Deleted(NodeId parent, NodeId child, std::string_view name) override {
    if (!owner_.notifier_.Delete(parent, child, name)) (void)owner_.notifier_.InvalEntry(parent, name);
    if (owner_.changed_) owner_.changed_(child);
  }
  void Everything() override {
    owner_.Degrade("events were lost (the watch queue overflowed)", /*for_good=*/false);
    // Every dentry stale at once; every node's attributes and data.
    (void)owner_.notifier_.IncEpoch();
    for (NodeId node : owner_.inodes_.Nodes()) (void)owner_.notifier_.InvalInode(node, 0, 0);
    if (owner_.changed_) owner_.changed_(std::nullopt);
  }

 private:
  Coherence& owner_;
};

Coherence::Coherence(InodeStore& inodes, fusekit::Notifier notifier,
                     std::function<bool(pid_t)> own, ChangedFn changed)
    : inodes_(inodes),
      notifier_(std::move(notifier)),
      changed_(std::move(changed)),
      index_(std::make_unique<Index>(inodes)),
      caches_(std::make_unique<Caches>(*this)),
      invalidator_(std::make_unique<Invalidator>(*index_, *caches_, std::move(own))) {}

Coherence::~Coherence() {
  inodes_.OnNewMount(nullptr);
  watcher_.reset();  // joins the watcher's thread: nothing uses the rest after
}

Result<std::unique_ptr<Coherence>> Coherence::Start(WatchMode mode, InodeStore& inodes,
                                                    fusekit::Notifier notifier,
                                                    std::function<bool(pid_t)> own,
                                                    ChangedFn changed, std::string& why) {
  std::unique_ptr<Coherence> c(
      new Coherence(inodes, std::move(notifier), std::move(own), std::move(changed)));
  auto handle = [c = c.get()](std::span<const SourceEvent> events) {
    return c->invalidator_->Handle(events);
  };
  if (mode == WatchMode::kAuto || mode == WatchMode::kFanotify) {
    // fanotify names objects by handle: the store must hold inodes so.
    if (!inodes.handles()) {
      why = "fanotify needs inodes held by file handle";
    } else {
      auto fan = SourceWatcher::Fanotify(inodes.MountFds(), handle);
      if (fan) {
        c->watcher_ = std::move(*fan);
        SourceWatcher* w = c->watcher_.get();
        inodes.OnNewMount([w](int fd) { w->Cover(fd); });
        return c;
      }
      why = "fanotify: " + fan.error().message();
    }
    if (mode == WatchMode::kFanotify) return Fail(EPERM);
  }
  auto in = SourceWatcher::Inotify(handle);
  if (!in) {
    why = "inotify: " + in.error().message();
    return Fail(in.error());
  }
  c->watcher_ = std::move(*in);
  return c;
}

bool Coherence::coherent() const {
  return !degraded_for_good_.load(std::memory_order_relaxed) &&
         Now() >= degraded_until_.load(std::memory_order_relaxed);
}

void Coherence::Degrade(const char* why, bool for_good) {
  if (for_good) degraded_for_good_ = true;
  degraded_until_ = Now() + std::chrono::nanoseconds(kGrace).count();
  if (!logged_.exchange(true)) {
    fusekit::LogWarn("watching SOURCE: {}; the kernel's caches are short-lived {}", why,
                     for_good ? "from now on" : "for a while");
  }
}

void Coherence::Learned(Inode& dir, int fd) {
  if (dir.type != S_IFDIR || dir.watched.exchange(true)) return;
  if (!watcher_->Watch(fd, dir.id.value)) {
    Degrade("a directory could not be watched (inotify's max_user_watches?)", /*for_good=*/true);
  }
}

void Coherence::Forgotten(const Inode& dir) {
  if (dir.watched.load()) watcher_->Unwatch(dir.id.value);
}

}  // namespace passthroughfs
