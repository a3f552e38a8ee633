#include "invalidator.h"

#include <set>
#include <tuple>

namespace passthroughfs {

using fusekit::NodeId;

std::optional<NodeId> Invalidator::DirOf(const SourceEvent& e) {
  if (e.dir_tag != 0) return NodeId(e.dir_tag);
  if (!e.dir.empty()) return index_.FindByHandle(e.fsid, e.dir);
  return std::nullopt;
}

std::optional<NodeId> Invalidator::ObjectOf(const SourceEvent& e, std::optional<NodeId> dir) {
  if (!e.object.empty()) return index_.FindByHandle(e.fsid, e.object);
  // inotify: an event on the watched directory itself, or on an entry.
  if (e.dir_tag != 0 && e.name.empty()) return NodeId(e.dir_tag);
  if (dir && !e.name.empty() && (e.flags & (SourceEvent::kAttrib | SourceEvent::kModified)))
    return index_.FindChild(*dir, e.name);
  return std::nullopt;
}

int Invalidator::RepeatIfDue() {
  if (repeat_entries_.empty() && repeat_dirs_.empty()) return -1;
  auto now = std::chrono::steady_clock::now();
  if (now < repeat_at_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(repeat_at_ - now).count();
    return static_cast<int>(left) + 1;
  }
  for (const auto& [parent, name] : repeat_entries_) sink_.Entry(parent, name);
  for (NodeId dir : repeat_dirs_) sink_.Contents(dir);
  repeat_entries_.clear();
  repeat_dirs_.clear();
  return -1;
}

int Invalidator::Handle(std::span<const SourceEvent> events) {
  if (events.empty()) return RepeatIfDue();
  events_seen_.fetch_add(events.size(), std::memory_order_relaxed);
  // A batch is one read of the queue: the same node touched many times in
  // it (a storm of writes, an extraction) is told once.
  std::set<NodeId> attributes, contents;
  std::set<std::pair<NodeId, std::string>> entries;
  std::set<std::tuple<NodeId, NodeId, std::string>> deleted;
  for (const SourceEvent& e : events) {
    if (e.flags & SourceEvent::kOverflow) {
      sink_.Everything();
      repeat_entries_.clear();
      repeat_dirs_.clear();
      // Counted once handled, so that whoever sees the count sees the
      // caches already short-lived.
      overflows_.fetch_add(1, std::memory_order_release);
      return -1;  // what else the batch says is covered
    }
    if (e.pid != 0 && own_ && own_(e.pid)) continue;
    std::optional<NodeId> dir = DirOf(e);
    std::optional<NodeId> object = ObjectOf(e, dir);
    constexpr uint32_t kEntryChange = SourceEvent::kCreated | SourceEvent::kDeleted |
                                      SourceEvent::kMovedFrom | SourceEvent::kMovedTo;
    if ((e.flags & kEntryChange) && dir && !e.name.empty()) {
      // The directory's listing and mtime changed with its entries.
      contents.insert(*dir);
      if ((e.flags & (SourceEvent::kDeleted | SourceEvent::kMovedFrom)) && object)
        deleted.emplace(*dir, *object, e.name);
      else
        entries.emplace(*dir, e.name);
    }
    if (!object) continue;
    if (e.flags & SourceEvent::kModified) {
      contents.insert(*object);
    } else if (e.flags & (SourceEvent::kAttrib | SourceEvent::kSelfGone | kEntryChange)) {
      // Links, moves and attribute changes show in the object's attributes.
      attributes.insert(*object);
    }
  }
  for (const auto& [parent, child, name] : deleted) sink_.Deleted(parent, child, name);
  for (const auto& [parent, name] : entries) sink_.Entry(parent, name);
  for (NodeId node : contents) sink_.Contents(node);
  for (NodeId node : attributes)
    if (!contents.count(node)) sink_.Attributes(node);
  for (const auto& [parent, child, name] : deleted) {
    repeat_entries_.emplace(parent, name);
    repeat_dirs_.insert(parent);
  }
  for (const auto& entry : entries) {
    repeat_entries_.insert(entry);
    repeat_dirs_.insert(entry.first);
  }
  if (!deleted.empty() || !entries.empty()) {
    repeat_at_ = std::chrono::steady_clock::now() + kRepeatAfter;
  }
  return RepeatIfDue();
}

}  // namespace passthroughfs
