#include "listing_advisor.h"

namespace passthroughfs {

bool ListingAdvisor::StartListing(uint64_t dir) {
  std::lock_guard lock(mutex_);
  // The last names-only listing saw no lookups of its entries: names were
  // all its caller wanted.
  if (probed_dir_ != 0) looking_up_ = false;
  probed_dir_ = 0;
  ++listings_;
  if (looking_up_ && ++listings_since_probe_ < kProbeEvery) {
    ++listings_looked_up_;
    return true;
  }
  listings_since_probe_ = 0;
  probed_dir_ = dir;
  probed_entries_ = 0;
  probed_lookups_ = 0;
  return false;
}

void ListingAdvisor::Listed(uint64_t dir, size_t entries) {
  std::lock_guard lock(mutex_);
  if (probed_dir_ == dir) probed_entries_ += entries;
}

void ListingAdvisor::ChildLookedUp(uint64_t parent) {
  if (probed_dir_.load(std::memory_order_relaxed) != parent) return;
  std::lock_guard lock(mutex_);
  if (probed_dir_ != parent || ++probed_lookups_ * 2 < probed_entries_) return;
  probed_dir_ = 0;
  looking_up_ = true;
}

uint64_t ListingAdvisor::listings() const {
  std::lock_guard lock(mutex_);
  return listings_;
}

uint64_t ListingAdvisor::listings_looked_up() const {
  std::lock_guard lock(mutex_);
  return listings_looked_up_;
}

bool ListingAdvisor::looking_up() const {
  std::lock_guard lock(mutex_);
  return looking_up_;
}

}  // namespace passthroughfs
