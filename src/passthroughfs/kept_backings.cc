#include "kept_backings.h"

namespace passthroughfs {

using fusekit::NodeId;

std::optional<NodeId> KeptBackings::Keep(NodeId node) {
  if (capacity_ == 0) return node;
  std::lock_guard lock(mutex_);
  if (auto it = where_.find(node.value); it != where_.end()) order_.erase(it->second);
  where_[node.value] = order_.insert(order_.end(), node.value);
  if (order_.size() <= capacity_) return std::nullopt;
  uint64_t oldest = order_.front();
  order_.pop_front();
  where_.erase(oldest);
  return NodeId(oldest);
}

bool KeptBackings::Take(NodeId node) {
  std::lock_guard lock(mutex_);
  auto it = where_.find(node.value);
  if (it == where_.end()) return false;
  order_.erase(it->second);
  where_.erase(it);
  return true;
}

std::vector<NodeId> KeptBackings::TakeAll() {
  std::lock_guard lock(mutex_);
  std::vector<NodeId> all;
  all.reserve(order_.size());
  for (uint64_t id : order_) all.push_back(NodeId(id));
  order_.clear();
  where_.clear();
  return all;
}

size_t KeptBackings::size() const {
  std::lock_guard lock(mutex_);
  return order_.size();
}

}  // namespace passthroughfs
