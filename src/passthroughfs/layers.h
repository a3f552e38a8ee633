// Layers: what the options stack over a PassthroughFs, in this order:
// lock forwarding (-o lock-forwarding), the caller gate (-o mirror-only=),
// the audit trail (-o audit=, which so records the gate's refusals too).
// The session serves top().
//
// Thread-safety: built once, before the session; the layers' own.
#pragma once

#include <memory>

#include "audited_fs.h"
#include "caller_gate.h"
#include "fs_options.h"
#include "fusekit/session.h"
#include "lock_forwarding.h"
#include "passthrough_fs.h"

namespace passthroughfs {

class Layers {
 public:
  // Starts the audit trail's writer thread: build the layers in the process
  // that serves (after a daemon's fork). Sets `config.on_hangup` to reopen
  // the trail. Fails (the path and errno said) when the trail cannot be
  // opened.
  static fusekit::Result<std::unique_ptr<Layers>> Stack(PassthroughFs& fs, const FsOptions& options,
                                                        fusekit::Config& config);
  fusekit::Operations& top() const { return *top_; }

 private:
  Layers() = default;

  std::unique_ptr<AuditTrail> trail_;
  std::unique_ptr<LockForwardingFs> locks_;
  std::unique_ptr<CallerGate> gate_;
  std::unique_ptr<AuditedFs> audited_;
  fusekit::Operations* top_ = nullptr;
};

}  // namespace passthroughfs
