#include "inode_table.h"

namespace passthroughfs {

using fusekit::NodeId;
using fusekit::UniqueFd;

InodeTable::InodeTable(UniqueFd root_fd, const struct stat& root_stat) {
  auto root = std::make_shared<Inode>();
  root->id = fusekit::kRootNode;
  root->dev = root_stat.st_dev;
  root->ino = root_stat.st_ino;
  root->type = root_stat.st_mode & S_IFMT;
  root->fd = std::move(root_fd);
  root->nlookup = 1;  // the kernel's own reference, never forgotten
  by_id_.emplace(root->id.value, root);
  by_dev_ino_.emplace(DevIno{root->dev, root->ino}, root->id.value);
}

std::shared_ptr<Inode> InodeTable::Get(NodeId id) const {
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(id.value);
  return it == by_id_.end() ? nullptr : it->second;
}

std::shared_ptr<Inode> InodeTable::Lookup(UniqueFd fd, const struct stat& st) {
  std::lock_guard lock(mutex_);
  DevIno key{st.st_dev, st.st_ino};
  if (auto it = by_dev_ino_.find(key); it != by_dev_ino_.end()) {
    auto& inode = by_id_.at(it->second);
    // The same inode number with another type means the old file is gone
    // and its number reused while we still held a lookup: a new inode.
    if (inode->type == (st.st_mode & S_IFMT)) {
      inode->nlookup++;
      return inode;
    }
  }
  auto inode = std::make_shared<Inode>();
  inode->id = NodeId(next_id_++);
  inode->dev = st.st_dev;
  inode->ino = st.st_ino;
  inode->type = st.st_mode & S_IFMT;
  inode->fd = std::move(fd);
  inode->nlookup = 1;
  by_id_.emplace(inode->id.value, inode);
  by_dev_ino_[key] = inode->id.value;
  return inode;
}

std::shared_ptr<Inode> InodeTable::LookupKnown(const struct stat& st) {
  std::lock_guard lock(mutex_);
  auto it = by_dev_ino_.find(DevIno{st.st_dev, st.st_ino});
  if (it == by_dev_ino_.end()) return nullptr;
  auto& inode = by_id_.at(it->second);
  // The table's O_PATH fd pins its inode, so (st_dev, st_ino) cannot have
  // been reused behind it; a type mismatch is Lookup's case to sort out.
  if (inode->type != (st.st_mode & S_IFMT)) return nullptr;
  inode->nlookup++;
  return inode;
}

void InodeTable::Forget(NodeId id, uint64_t nlookup) {
  std::shared_ptr<Inode> dropped;  // its fd is closed after the lock is released
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(id.value);
  if (it == by_id_.end() || id == fusekit::kRootNode) return;
  Inode& inode = *it->second;
  inode.nlookup = nlookup >= inode.nlookup ? 0 : inode.nlookup - nlookup;
  if (inode.nlookup > 0) return;
  auto key = by_dev_ino_.find(DevIno{inode.dev, inode.ino});
  if (key != by_dev_ino_.end() && key->second == id.value) by_dev_ino_.erase(key);
  dropped = std::move(it->second);
  by_id_.erase(it);
}

void InodeTable::Clear() {
  std::unordered_map<uint64_t, std::shared_ptr<Inode>> dropped;  // closed after unlocking
  std::lock_guard lock(mutex_);
  auto root = by_id_.at(fusekit::kRootNode.value);
  dropped.swap(by_id_);
  by_dev_ino_.clear();
  by_id_.emplace(root->id.value, root);
  by_dev_ino_.emplace(DevIno{root->dev, root->ino}, root->id.value);
}

size_t InodeTable::size() const {
  std::lock_guard lock(mutex_);
  return by_id_.size();
}

}  // namespace passthroughfs
