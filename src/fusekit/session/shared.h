// State a session shares with its notifier and its reply paths.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "fusekit/notifier.h"
#include "fusekit/operations.h"
#include "fusekit/proto/decode.h"
#include "fusekit/session.h"
#include "fusekit/unique_fd.h"

namespace fusekit {

// Thread-safety: `device` and `connection` are written before workers start
// and read-only afterwards; the retrieve map is guarded by retrieve_mutex.
struct SessionShared : std::enable_shared_from_this<SessionShared> {
  std::shared_ptr<const UniqueFd> device;
  ConnectionInfo connection;
  proto::DecodeOptions decode;
  std::atomic<bool> initialized{false};  // INIT answered: notifications allowed
  std::atomic<bool> ready{false};        // and Operations::Init returned
  // The session's statistics: shared with the notifier, so that
  // notifications count, and with every reply sink.
  std::shared_ptr<Stats> stats = std::make_shared<Stats>();

  std::mutex retrieve_mutex;
  uint64_t next_retrieve_unique = 1;
  std::unordered_map<uint64_t, Notifier::RetrieveDone> retrieves;
};

}  // namespace fusekit
