#include "layers.h"

#include "fusekit/log.h"

namespace passthroughfs {

fusekit::Result<std::unique_ptr<Layers>> Layers::Stack(PassthroughFs& fs, const FsOptions& options,
                                                       fusekit::Config& config) {
  std::unique_ptr<Layers> layers(new Layers());
  layers->top_ = &fs;
  PassthroughFs* inner = &fs;
  if (options.lock_forwarding) {
    layers->locks_ = std::make_unique<LockForwardingFs>(
        *layers->top_, [inner](fusekit::NodeId node) { return inner->OpenForLocks(node); });
    layers->top_ = layers->locks_.get();
  }
  if (options.policy.mirror_only) {
    Policy policy(options.policy);
    layers->gate_ = std::make_unique<CallerGate>(
        *layers->top_, [policy](uid_t uid) { return policy.Admits(uid); });
    layers->top_ = layers->gate_.get();
  }
  if (!options.audit_path.empty()) {
    auto trail = AuditTrail::Open({.path = options.audit_path, .required = options.audit_required});
    if (!trail) {
      fusekit::LogError("-o audit={}: {}", options.audit_path, trail.error().message());
      return fusekit::Fail(trail.error());
    }
    layers->trail_ = std::move(*trail);
    layers->audited_ = std::make_unique<AuditedFs>(
        *layers->top_, *layers->trail_,
        [inner](fusekit::NodeId node) { return inner->SourcePath(node); });
    layers->top_ = layers->audited_.get();
    config.on_hangup = [trail = layers->trail_.get()] { trail->Reopen(); };
  }
  return layers;
}

}  // namespace passthroughfs
