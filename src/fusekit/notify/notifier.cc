#include "fusekit/notifier.h"

#include <algorithm>
#include <cerrno>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/session/shared.h"
#include "fusekit/transport/dev_fuse.h"

namespace fusekit {
namespace {

Status Send(SessionShared* shared, abi::fuse_notify_code code, std::span<const iovec> iov) {
  // Before INIT is answered the kernel rejects notifications; say so plainly.
  if (shared == nullptr || !shared->initialized.load()) return Fail(ENOTCONN);
  auto status = transport::WriteMessage(shared->device->get(), 0, code, iov);
  if (status) shared->stats->AddNotification(static_cast<NotifyCode>(code));
  return status;
}

static_assert(static_cast<uint32_t>(NotifyCode::kInvalInode) == abi::FUSE_NOTIFY_INVAL_INODE &&
              static_cast<uint32_t>(NotifyCode::kInvalEntry) == abi::FUSE_NOTIFY_INVAL_ENTRY &&
              static_cast<uint32_t>(NotifyCode::kStore) == abi::FUSE_NOTIFY_STORE &&
              static_cast<uint32_t>(NotifyCode::kRetrieve) == abi::FUSE_NOTIFY_RETRIEVE &&
              static_cast<uint32_t>(NotifyCode::kDelete) == abi::FUSE_NOTIFY_DELETE &&
              static_cast<uint32_t>(NotifyCode::kResend) == abi::FUSE_NOTIFY_RESEND &&
              static_cast<uint32_t>(NotifyCode::kIncEpoch) == abi::FUSE_NOTIFY_INC_EPOCH &&
              static_cast<uint32_t>(NotifyCode::kPrune) == abi::FUSE_NOTIFY_PRUNE &&
              kMaxNotifyCode == abi::FUSE_NOTIFY_PRUNE);

iovec Piece(const void* data, size_t size) { return {const_cast<void*>(data), size}; }

// Names travel with their NUL, which the kernel checks.
iovec NamePiece(std::string_view name) { return Piece(name.data(), name.size()); }
const char kNul = '\0';

}  // namespace

Status Notifier::InvalInode(NodeId node, int64_t offset, int64_t length) {
  abi::fuse_notify_inval_inode_out out{node.value, offset, length};
  iovec iov[] = {Piece(&out, sizeof(out))};
  return Send(shared_.get(), abi::FUSE_NOTIFY_INVAL_INODE, iov);
}

Status Notifier::InvalEntry(NodeId parent, std::string_view name) {
  abi::fuse_notify_inval_entry_out out{parent.value, static_cast<uint32_t>(name.size()), 0};
  iovec iov[] = {Piece(&out, sizeof(out)), NamePiece(name), Piece(&kNul, 1)};
  return Send(shared_.get(), abi::FUSE_NOTIFY_INVAL_ENTRY, iov);
}

Status Notifier::ExpireEntry(NodeId parent, std::string_view name) {
  abi::fuse_notify_inval_entry_out out{parent.value, static_cast<uint32_t>(name.size()),
                                       abi::FUSE_EXPIRE_ONLY};
  iovec iov[] = {Piece(&out, sizeof(out)), NamePiece(name), Piece(&kNul, 1)};
  return Send(shared_.get(), abi::FUSE_NOTIFY_INVAL_ENTRY, iov);
}

Status Notifier::Delete(NodeId parent, NodeId child, std::string_view name) {
  abi::fuse_notify_delete_out out{parent.value, child.value, static_cast<uint32_t>(name.size()), 0};
  iovec iov[] = {Piece(&out, sizeof(out)), NamePiece(name), Piece(&kNul, 1)};
  return Send(shared_.get(), abi::FUSE_NOTIFY_DELETE, iov);
}

Status Notifier::Store(NodeId node, uint64_t offset, std::span<const std::byte> data) {
  abi::fuse_notify_store_out out{node.value, offset, static_cast<uint32_t>(data.size()), 0};
  iovec iov[] = {Piece(&out, sizeof(out)), Piece(data.data(), data.size())};
  return Send(shared_.get(), abi::FUSE_NOTIFY_STORE, iov);
}

Status Notifier::Retrieve(NodeId node, uint64_t offset, uint32_t size, RetrieveDone done) {
  if (!shared_) return Fail(ENOTCONN);
  uint64_t unique;
  {
    std::lock_guard lock(shared_->retrieve_mutex);
    unique = shared_->next_retrieve_unique++;
    shared_->retrieves[unique] = std::move(done);
  }
  abi::fuse_notify_retrieve_out out{unique, node.value, offset, size, 0};
  iovec iov[] = {Piece(&out, sizeof(out))};
  auto status = Send(shared_.get(), abi::FUSE_NOTIFY_RETRIEVE, iov);
  if (!status) {
    std::lock_guard lock(shared_->retrieve_mutex);
    shared_->retrieves.erase(unique);
  }
  return status;
}

Status Notifier::Prune(std::span<const NodeId> nodes) {
  // The kernel takes at most what fits one message; send large sets in
  // pieces (NodeId is a plain 64-bit id, laid out as the wire's u64).
  static_assert(sizeof(NodeId) == sizeof(uint64_t));
  constexpr size_t kPerMessage = 500;  // a message within a page
  for (size_t start = 0; start < nodes.size(); start += kPerMessage) {
    size_t count = std::min(kPerMessage, nodes.size() - start);
    abi::fuse_notify_prune_out out{static_cast<uint32_t>(count), 0, 0};
    iovec iov[] = {Piece(&out, sizeof(out)), Piece(nodes.data() + start, count * sizeof(uint64_t))};
    if (auto status = Send(shared_.get(), abi::FUSE_NOTIFY_PRUNE, iov); !status) return status;
  }
  return Ok();
}

Status Notifier::IncEpoch() {
  return Send(shared_.get(), abi::FUSE_NOTIFY_INC_EPOCH, {});
}

}  // namespace fusekit
