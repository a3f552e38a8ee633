// Notifier: messages the server sends to the kernel unasked, to keep its
// caches coherent with changes the kernel did not see.
//
// Do not send an entry invalidation for a directory from inside a request on
// that directory (e.g. while answering LOOKUP in it): the kernel holds the
// directory's lock for the request, and the notification waits for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "fusekit/result.h"
#include "fusekit/types.h"

namespace fusekit {

struct SessionShared;

// The notifications a server sends, numbered as on the wire.
enum class NotifyCode : uint32_t {
  kPoll = 1,
  kInvalInode = 2,
  kInvalEntry = 3,  // also ExpireEntry
  kStore = 4,
  kRetrieve = 5,
  kDelete = 6,
  kResend = 7,
  kIncEpoch = 8,
  kPrune = 9,
};
inline constexpr uint32_t kMaxNotifyCode = 9;

// Thread-safety: every method may be called from any thread.
class Notifier {
 public:
  // A notifier not bound to a session answers ENOTCONN to everything.
  Notifier() = default;
  explicit Notifier(std::shared_ptr<SessionShared> shared) : shared_(std::move(shared)) {}

  // Drops cached attributes of `node` and cached data in [offset, offset+len)
  // (len 0: to the end; offset < 0: attributes only).
  Status InvalInode(NodeId node, int64_t offset = 0, int64_t length = 0);
  // Drops the dentry `name` in `parent`.
  Status InvalEntry(NodeId parent, std::string_view name);
  // Marks the dentry stale without dropping it (needs cap::kExpireOnly).
  Status ExpireEntry(NodeId parent, std::string_view name);
  // Tells the kernel that `name` in `parent`, which was `child`, is gone.
  Status Delete(NodeId parent, NodeId child, std::string_view name);
  // Puts data into the kernel's page cache of `node`.
  Status Store(NodeId node, uint64_t offset, std::span<const std::byte> data);
  // Asks for what the kernel caches of `node`; `done` runs on a worker when
  // the answer arrives (it may not arrive if the data is not cached).
  using RetrieveDone = std::function<void(uint64_t offset, std::span<const std::byte> data)>;
  Status Retrieve(NodeId node, uint64_t offset, uint32_t size, RetrieveDone done);
  // Asks the kernel to drop its dentries and inodes of `nodes` that nobody
  // uses (protocol 7.45, FUSE_NOTIFY_PRUNE): their FORGETs follow. Nodes
  // still in use stay. ENOSYS-like failures (EINVAL) on older kernels.
  Status Prune(std::span<const NodeId> nodes);
  // Makes every dentry the kernel holds stale at once (protocol 7.44,
  // FUSE_NOTIFY_INC_EPOCH): each is looked up again at its next use.
  Status IncEpoch();

 private:
  std::shared_ptr<SessionShared> shared_;
};

}  // namespace fusekit
