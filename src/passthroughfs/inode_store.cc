#include "inode_store.h"

#include <fcntl.h>
#include <unistd.h>

#include "fs_util.h"
#include "source_watcher.h"

namespace passthroughfs {

using fusekit::Fail;
using fusekit::FailLast;
using fusekit::NodeId;
using fusekit::Result;
using fusekit::UniqueFd;

// One per inode the kernel remembers, and the kernel remembers millions.
static_assert(sizeof(Inode) <= 104, "keep Inode small");

InodeStore::InodeStore(UniqueFd root_fd, const struct stat& root_stat, const Config& config)
    : config_(config), cache_(config.handles ? config.fd_budget : 1) {
  root_dev_ = root_stat.st_dev;
  root_ino_ = root_stat.st_ino;
  auto root = std::make_shared<Inode>();
  root->id = fusekit::kRootNode;
  root->dev = root_stat.st_dev;
  root->ino = root_stat.st_ino;
  root->type = root_stat.st_mode & S_IFMT;
  if (config_.handles) {
    int mount_id = 0;
    auto h = SourceHandle::Of(root_fd.get(), "", &mount_id);
    if (h && AddMount(mount_id, root_fd.get(), root_stat.st_dev)) {
      root->handle = std::move(*h);
      root->mount_id = mount_id;
      by_handle_.emplace(HandleKey{root->dev, root->handle}.Digest(), root->id.value);
    }
  }
  root->fd = std::move(root_fd);  // the root keeps its fd: it anchors everything
  root->nlookup = 1;              // the kernel's own reference, never forgotten
  by_id_.emplace(root->id.value, root);
  by_dev_ino_.emplace(DevIno{root->dev, root->ino}, root->id.value);
}

std::shared_ptr<Inode> InodeStore::Get(NodeId id) {
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(id.value);
  if (it == by_id_.end()) return nullptr;
  TouchLocked(*it->second);
  return it->second;
}

void InodeStore::TouchLocked(Inode& inode) {
  if (!inode.fd || inode.id == fusekit::kRootNode) return;
  fd_lru_.splice(fd_lru_.begin(), fd_lru_, inode.lru);
  if (inode.prune_asked) {
    inode.prune_asked = false;
    --prune_asked_;
  }
}

std::optional<dev_t> InodeStore::MountDev(int mount_id) const {
  std::lock_guard lock(mutex_);
  auto it = mounts_.find(mount_id);
  if (it == mounts_.end()) return std::nullopt;
  return it->second.dev;
}

bool InodeStore::AddMount(int mount_id, int dir, dev_t dev) {
  // open_by_handle_at wants an fd on the mount that is not O_PATH: the
  // first directory met on it (its root, when SOURCE crosses into it),
  // opened for reading, lives as long as the store.
  UniqueFd own(::open(ProcPath(dir).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!own) return false;
  uint64_t fsid = FsidOf(own.get());
  int fd = own.get();
  std::function<void(int)> tell;
  {
    std::lock_guard lock(mutex_);
    if (!mounts_.try_emplace(mount_id, Mount{std::move(own), dev, fsid}).second) return true;
    tell = on_new_mount_;
  }
  if (tell) tell(fd);  // the fd lives as long as the store
  return true;
}

std::shared_ptr<Inode> InodeStore::InsertLocked(const struct stat& st, SourceHandle handle,
                                                int mount_id, UniqueFd fd, uint64_t id) {
  auto inode = std::make_shared<Inode>();
  inode->id = NodeId(id != 0 ? id : next_id_++);
  inode->dev = st.st_dev;
  inode->ino = st.st_ino;
  inode->type = st.st_mode & S_IFMT;
  inode->nlookup = 1;
  if (!handle.empty()) {
    inode->handle = std::move(handle);
    inode->mount_id = mount_id;
    by_handle_[HandleKey{inode->dev, inode->handle}.Digest()] = inode->id.value;
    forgotten_.erase(inode->id.value);
  } else {
    inode->fd = std::move(fd);
    by_dev_ino_[DevIno{inode->dev, inode->ino}] = inode->id.value;
    fd_lru_.push_front(inode->id.value);
    inode->lru = fd_lru_.begin();
    ++fd_held_;
  }
  by_id_.emplace(inode->id.value, inode);
  return inode;
}

std::shared_ptr<Inode> InodeStore::FindLocked(const HandleKey& key, const struct stat& st) {
  auto it = by_handle_.find(key.Digest());
  if (it == by_handle_.end()) return nullptr;
  uint64_t id = it->second;
  if (auto live = by_id_.find(id); live != by_id_.end()) {
    Inode& inode = *live->second;
    if (inode.dev != key.dev || !(inode.handle == key.handle) || inode.ino != st.st_ino)
      return nullptr;
    inode.nlookup++;
    return live->second;
  }
  auto gone = forgotten_.find(id);
  if (gone == forgotten_.end() || gone->second.dev != key.dev ||
      !(gone->second.handle == key.handle) || gone->second.ino != st.st_ino)
    return nullptr;
  // The kernel forgot it: the same inode gets its node id back.
  int mount_id = gone->second.mount_id;
  return InsertLocked(st, key.handle, mount_id, UniqueFd(), id);
}

Result<InodeStore::Found> InodeStore::Resolve(const Inode& parent, int parent_fd,
                                              const char* name) {
  (void)parent;
  Found found;
  if (config_.handles) {
    int mount_id = 0;
    auto handle = SourceHandle::Of(parent_fd, name, &mount_id);
    if (!handle && handle.error() != fusekit::Errno(EOPNOTSUPP)) return Fail(handle.error());
    if (handle) {
      // Known by its handle (live, or forgotten by the kernel): one stat
      // and no fd. The stat must be of that inode, not of a file renamed
      // over the name in between.
      if (auto dev = MountDev(mount_id)) {
        if (::fstatat(parent_fd, name, &found.st, AT_SYMLINK_NOFOLLOW) != 0) return FailLast();
        if (found.st.st_dev == *dev) {
          std::lock_guard lock(mutex_);
          found.inode = FindLocked(HandleKey{*dev, std::move(*handle)}, found.st);
          if (found.inode) return found;
        }
      }
    }
  } else {
    // An inode held by its fd cannot have had its number reused.
    if (::fstatat(parent_fd, name, &found.st, AT_SYMLINK_NOFOLLOW) != 0) return FailLast();
    std::lock_guard lock(mutex_);
    if (auto it = by_dev_ino_.find(DevIno{found.st.st_dev, found.st.st_ino});
        it != by_dev_ino_.end()) {
      auto& inode = by_id_.at(it->second);
      if (inode->type == (found.st.st_mode & S_IFMT)) {
        inode->nlookup++;
        TouchLocked(*inode);
        found.inode = inode;
        return found;
      }
    }
  }
  UniqueFd fd(::openat(parent_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return FailLast();
  if (::fstat(fd.get(), &found.st) != 0) return FailLast();
  return AdoptAnchor(std::move(fd), found.st);
}

Result<InodeStore::Found> InodeStore::Adopt(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return FailLast();
  // An O_PATH fd of our own (the caller's may be open for I/O). Through
  // the magic link, which names `fd`'s own inode (a symlink included)
  // without following anything further.
  UniqueFd anchor(::open(ProcPath(fd).c_str(), O_PATH | O_CLOEXEC));
  if (!anchor) return FailLast();
  return AdoptAnchor(std::move(anchor), st);
}

InodeStore::Found InodeStore::AdoptAnchor(UniqueFd anchor, const struct stat& st) {
  Found found;
  found.st = st;
  if (config_.handles) {
    int mount_id = 0;
    auto handle = SourceHandle::Of(anchor.get(), "", &mount_id);
    // A mount met first at something other than a directory (a file bind
    // mounted inside SOURCE) has no fd for handles: its inodes keep fds.
    if (handle && (MountDev(mount_id) || (S_ISDIR(st.st_mode) &&
                                           AddMount(mount_id, anchor.get(), st.st_dev)))) {
      {
        std::lock_guard lock(mutex_);
        found.inode = FindLocked(HandleKey{st.st_dev, *handle}, st);
        if (!found.inode) found.inode = InsertLocked(st, std::move(*handle), mount_id, {}, 0);
      }
      cache_.Insert(found.inode->id.value, std::move(anchor));
      return found;
    }
  }
  std::lock_guard lock(mutex_);
  if (auto it = by_dev_ino_.find(DevIno{st.st_dev, st.st_ino}); it != by_dev_ino_.end()) {
    auto& inode = by_id_.at(it->second);
    // The same inode number with another type: the old file is gone and
    // its number reused while we held a lookup. A new inode.
    if (inode->type == (st.st_mode & S_IFMT)) {
      inode->nlookup++;
      TouchLocked(*inode);
      found.inode = inode;
      return found;  // `anchor` is closed after the lock: declared first
    }
  }
  found.inode = InsertLocked(st, SourceHandle(), 0, std::move(anchor), 0);
  return found;
}

Result<InodeStore::Found> InodeStore::Revive(NodeId id) {
  if (auto live = Get(id)) {
    // A lookup brought it back meanwhile: answer with that inode.
    Found found;
    found.inode = live;
    auto anchor = Anchor(*live);
    if (!anchor ||
        ::fstatat(anchor->get(), "", &found.st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
      return Fail(ESTALE);
    std::lock_guard lock(mutex_);
    if (by_id_.count(id.value) == 0) return Fail(ESTALE);  // and forgotten again
    live->nlookup++;
    return found;
  }
  Forgotten gone;
  int mount_fd = -1;
  {
    std::lock_guard lock(mutex_);
    auto it = forgotten_.find(id.value);
    if (it == forgotten_.end()) return Fail(ESTALE);
    gone = it->second;
    auto m = mounts_.find(gone.mount_id);
    if (m == mounts_.end()) return Fail(ESTALE);
    mount_fd = m->second.fd.get();
  }
  auto fd = gone.handle.Open(mount_fd, O_PATH);
  if (!fd) {
    if (fd.error() == fusekit::Errno(ESTALE)) {
      std::lock_guard lock(mutex_);
      forgotten_.erase(id.value);
    }
    return Fail(ESTALE);
  }
  Found found;
  if (::fstat(fd->get(), &found.st) != 0) return FailLast();
  if ((found.st.st_mode & S_IFMT) != gone.type || found.st.st_dev != gone.dev)
    return Fail(ESTALE);
  // A directory must still be below SOURCE; a file is reached wherever it
  // now is on SOURCE's filesystem, as NFS does without subtree checks.
  if (gone.type == S_IFDIR && !WithinTree(fd->get(), root_dev_, root_ino_)) return Fail(ESTALE);
  {
    std::lock_guard lock(mutex_);
    found.inode = FindLocked(HandleKey{gone.dev, gone.handle}, found.st);
    if (found.inode && found.inode->id != id) {
      found.inode->nlookup--;  // another node id for it now: this one is gone
      found.inode = nullptr;
    }
  }
  if (!found.inode) return Fail(ESTALE);
  cache_.Insert(id.value, std::move(*fd));
  revived_.fetch_add(1, std::memory_order_relaxed);
  return found;
}

Result<AnchorFd> InodeStore::Anchor(const Inode& inode) {
  if (inode.fd) return AnchorFd(inode.fd.get());
  if (auto cached = cache_.Find(inode.id.value)) return AnchorFd(std::move(cached));
  int mount_fd;
  {
    std::lock_guard lock(mutex_);
    auto m = mounts_.find(inode.mount_id);
    if (m == mounts_.end()) return Fail(ESTALE);
    mount_fd = m->second.fd.get();
  }
  auto fd = inode.handle.Open(mount_fd, O_PATH);
  if (!fd && (fd.error() == fusekit::Errno(EMFILE) || fd.error() == fusekit::Errno(ENFILE)) &&
      ReleaseCachedFds())
    fd = inode.handle.Open(mount_fd, O_PATH);
  if (!fd) return Fail(fd.error());
  // A directory moved out of SOURCE on the host is refused once the
  // kernel's use of it needs a new fd.
  if (inode.type == S_IFDIR && inode.id != fusekit::kRootNode &&
      !WithinTree(fd->get(), root_dev_, root_ino_))
    return Fail(ESTALE);
  return AnchorFd(cache_.Insert(inode.id.value, std::move(*fd)));
}

std::shared_ptr<Inode> InodeStore::Forget(NodeId id, uint64_t nlookup) {
  std::shared_ptr<Inode> dropped;  // its fd is closed after the lock is released
  {
    std::lock_guard lock(mutex_);
    auto it = by_id_.find(id.value);
    if (it == by_id_.end() || id == fusekit::kRootNode) return nullptr;
    Inode& inode = *it->second;
    inode.nlookup = nlookup >= inode.nlookup ? 0 : inode.nlookup - nlookup;
    if (inode.nlookup > 0) return nullptr;
    if (inode.fd) {
      auto key = by_dev_ino_.find(DevIno{inode.dev, inode.ino});
      if (key != by_dev_ino_.end() && key->second == id.value) by_dev_ino_.erase(key);
      fd_lru_.erase(inode.lru);
      --fd_held_;
      if (inode.prune_asked) --prune_asked_;
      ++forgets_;
      forgot_.notify_all();
    } else {
      // Remembered for a file handle on the mount, oldest dropped first.
      forgotten_.emplace(id.value,
                         Forgotten{inode.dev, inode.ino, inode.type, inode.mount_id, inode.handle});
      forgotten_order_.push_back(id.value);
      while (forgotten_order_.size() > config_.forgotten_max) {
        uint64_t old = forgotten_order_.front();
        forgotten_order_.pop_front();
        auto f = forgotten_.find(old);
        if (f == forgotten_.end()) continue;  // revived since
        auto key = by_handle_.find(HandleKey{f->second.dev, f->second.handle}.Digest());
        if (key != by_handle_.end() && key->second == old) by_handle_.erase(key);
        forgotten_.erase(f);
      }
    }
    dropped = std::move(it->second);
    by_id_.erase(it);
  }
  cache_.Erase(id.value);
  return dropped;
}

std::optional<NodeId> InodeStore::FindByHandle(uint64_t fsid, const SourceHandle& handle) const {
  std::lock_guard lock(mutex_);
  for (const auto& [mount_id, mount] : mounts_) {
    if (mount.fsid != fsid) continue;
    auto it = by_handle_.find(HandleKey{mount.dev, handle}.Digest());
    if (it == by_handle_.end()) continue;
    auto live = by_id_.find(it->second);
    if (live != by_id_.end() && live->second->handle == handle) return live->second->id;
  }
  return std::nullopt;
}

std::optional<NodeId> InodeStore::FindName(int parent_fd, const char* name) const {
  if (config_.handles) {
    int mount_id = 0;
    auto handle = SourceHandle::Of(parent_fd, name, &mount_id);
    if (handle) {
      std::lock_guard lock(mutex_);
      auto m = mounts_.find(mount_id);
      if (m == mounts_.end()) return std::nullopt;
      auto it = by_handle_.find(HandleKey{m->second.dev, *handle}.Digest());
      if (it == by_handle_.end()) return std::nullopt;
      auto live = by_id_.find(it->second);
      if (live != by_id_.end() && live->second->handle == *handle) return live->second->id;
      return std::nullopt;
    }
  }
  struct stat st;
  if (::fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = by_dev_ino_.find(DevIno{st.st_dev, st.st_ino});
  if (it == by_dev_ino_.end()) return std::nullopt;
  return NodeId(it->second);
}

std::vector<NodeId> InodeStore::Nodes() const {
  std::vector<NodeId> out;
  std::lock_guard lock(mutex_);
  out.reserve(by_id_.size());
  for (const auto& [id, inode] : by_id_) out.push_back(NodeId(id));
  return out;
}

std::vector<int> InodeStore::MountFds() const {
  std::vector<int> out;
  std::lock_guard lock(mutex_);
  for (const auto& [mount_id, mount] : mounts_) out.push_back(mount.fd.get());
  return out;
}

void InodeStore::OnNewMount(std::function<void(int mount_fd)> callback) {
  std::lock_guard lock(mutex_);
  on_new_mount_ = std::move(callback);
}

std::vector<NodeId> InodeStore::PruneCandidates(bool force) {
  std::vector<NodeId> out;
  std::lock_guard lock(mutex_);
  const size_t high = config_.fd_budget - config_.fd_budget / 10;
  const size_t low = config_.fd_budget - config_.fd_budget / 4;
  if (!force && fd_held_ <= high) return out;
  // Those asked already and not yet forgotten will come back: ask for the
  // rest of what brings the count down to the low-water mark.
  size_t coming = prune_asked_;
  size_t want = fd_held_ > low + coming ? fd_held_ - low - coming : 0;
  if (force) want = std::max<size_t>(want, std::max<size_t>(fd_held_ / 8, 16));
  for (auto it = fd_lru_.rbegin(); it != fd_lru_.rend() && out.size() < want; ++it) {
    auto found = by_id_.find(*it);
    if (found == by_id_.end()) continue;
    Inode& inode = *found->second;
    if (inode.prune_asked || inode.in_use.load(std::memory_order_relaxed) != 0) continue;
    inode.prune_asked = true;
    ++prune_asked_;
    out.push_back(inode.id);
  }
  return out;
}

bool InodeStore::WaitForForget(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  uint64_t seen = forgets_;
  return forgot_.wait_for(lock, timeout, [&] { return forgets_ != seen; });
}

bool InodeStore::ReleaseCachedFds() {
  return cache_.Evict(std::max<size_t>(cache_.size() / 4, 8)) > 0;
}

bool InodeStore::FdsNearBudget() const {
  std::lock_guard lock(mutex_);
  return !config_.handles && fd_held_ + 1 > config_.fd_budget - config_.fd_budget / 10;
}

size_t InodeStore::size() const {
  std::lock_guard lock(mutex_);
  return by_id_.size();
}

size_t InodeStore::forgotten_size() const {
  std::lock_guard lock(mutex_);
  return forgotten_.size();
}

size_t InodeStore::fd_count() const {
  size_t cached = cache_.size();
  std::lock_guard lock(mutex_);
  return fd_held_ + cached + mounts_.size();
}

void InodeStore::Clear() {
  absl::flat_hash_map<uint64_t, std::shared_ptr<Inode>> dropped;  // closed after unlocking
  {
    std::lock_guard lock(mutex_);
    auto root = by_id_.at(fusekit::kRootNode.value);
    dropped.swap(by_id_);
    by_dev_ino_.clear();
    by_handle_.clear();
    forgotten_.clear();
    forgotten_order_.clear();
    fd_lru_.clear();
    fd_held_ = 0;
    prune_asked_ = 0;
    by_id_.emplace(root->id.value, root);
    by_dev_ino_.emplace(DevIno{root->dev, root->ino}, root->id.value);
    if (!root->handle.empty())
      by_handle_.emplace(HandleKey{root->dev, root->handle}.Digest(), root->id.value);
  }
  cache_.Evict(cache_.size());
}

}  // namespace passthroughfs
