// ListingAdvisor: whether a directory listing (READDIRPLUS) should look its
// entries up. A lookup per entry pays when the caller then stats them
// (ls -l, du); when it wants names only (find, a plain ls), it makes each
// listing several times dearer. With FUSE_READDIRPLUS_AUTO the kernel still
// asks for plus at the start of every listing, so the daemon decides, by
// what the mount's recent listings showed:
// - names only at first, and after a names-only listing whose directory
//   saw no LOOKUP of its entries before the next listing began;
// - full lookups once LOOKUPs in the directory of a names-only listing
//   came for at least half of the entries it listed (ls -l and du stat
//   every entry; find only the subdirectories it walks into), with one
//   listing in kProbeEvery answered names-only again, to notice when the
//   workload stops wanting them.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace passthroughfs {

class ListingAdvisor {
 public:
  static constexpr unsigned kProbeEvery = 64;

  // A listing of `dir` starts (READDIRPLUS at offset 0): true when its
  // entries should be looked up.
  bool StartListing(uint64_t dir);
  // A names-only batch of `dir`'s listing held `entries` names.
  void Listed(uint64_t dir, size_t entries);
  // The kernel looked a name up in `parent`.
  void ChildLookedUp(uint64_t parent);

  bool looking_up() const;
  // Listings started, and those of them answered with lookups.
  uint64_t listings() const;
  uint64_t listings_looked_up() const;

 private:
  mutable std::mutex mutex_;
  bool looking_up_ = false;
  // The directory listed names-only, until a LOOKUP in it or the next
  // listing settles what it showed; 0: none. Written under the mutex, read
  // without it first by every LOOKUP, which most often finds another.
  std::atomic<uint64_t> probed_dir_{0};
  size_t probed_entries_ = 0;  // listed by the probe, "." and ".." aside
  size_t probed_lookups_ = 0;  // in its directory since
  unsigned listings_since_probe_ = 0;
  uint64_t listings_ = 0;
  uint64_t listings_looked_up_ = 0;
};

}  // namespace passthroughfs
