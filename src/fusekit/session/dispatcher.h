// Dispatcher: one request's bytes in, the filesystem's call and the reply
// out. Independent of the transport: tests feed it bytes and read replies
// from a fake ReplySink.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>

#include "fusekit/operations.h"
#include "fusekit/session.h"
#include "fusekit/session/shared.h"

namespace fusekit {

// Thread-safety: Handle may be called concurrently from every worker.
class Dispatcher {
 public:
  Dispatcher(Operations& ops, SessionShared& shared, Stats& stats)
      : ops_(ops), shared_(shared), stats_(stats) {}

  // The INIT exchange: answers the kernel and fills shared.connection.
  // Fails with EPROTO for a kernel older than 7.36 (after answering it),
  // EAGAIN when the kernel's major version is newer and a new INIT follows.
  Status HandleInit(std::span<const std::byte> bytes, ReplySink& sink, const Config& config);

  // Handles one request read after INIT.
  void Handle(std::span<const std::byte> bytes, const std::shared_ptr<ReplySink>& sink);

  // True once DESTROY arrived.
  bool destroyed() const { return destroyed_.load(); }

 private:
  void Route(const Context& ctx, proto::Request& request, const std::shared_ptr<ReplySink>& sink,
             uint64_t start_ns);
  // Flags `target`, or, when it is not in flight yet, keeps the interrupt
  // for it a while: another worker may have read it and not registered it.
  void Interrupt(RequestId target);

  Operations& ops_;
  SessionShared& shared_;
  Stats& stats_;
  std::atomic<bool> destroyed_{false};

  // Requests being handled, so that INTERRUPT can flag them: an entry
  // lives as long as its request's Context (or a copy of it) does, and is
  // removed by the flag's deleter, which may run after the dispatcher is
  // gone: hence shared.
  struct Inflight {
    std::mutex mutex;
    std::unordered_map<uint64_t, std::atomic<bool>*> flags;
    // INTERRUPTs whose request was not found, by target, with when.
    std::unordered_map<uint64_t, std::chrono::steady_clock::time_point> early_interrupts;
  };
  static constexpr std::chrono::seconds kEarlyInterruptLife{10};
  static constexpr size_t kMaxEarlyInterrupts = 1024;
  const std::shared_ptr<Inflight> inflight_ = std::make_shared<Inflight>();
};

}  // namespace fusekit
