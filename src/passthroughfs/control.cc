// PassthroughFs: the control interface (control.h), answered from the
// daemon's own state.
#include "control.h"

#include <dirent.h>

#include <fmt/format.h>

#include "passthrough_fs.h"

namespace passthroughfs {

using namespace fusekit;  // NOLINT: this file implements fusekit::Operations

namespace {

// The daemon's open fds, all kinds: what RLIMIT_NOFILE bounds.
size_t OpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  size_t n = 0;
  while (dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.') ++n;
  ::closedir(dir);
  return n > 0 ? n - 1 : 0;  // not the one reading the directory
}

}  // namespace

size_t PassthroughFs::open_files() const {
  std::lock_guard lock(handles_mutex_);
  return files_.size();
}

std::string PassthroughFs::StatsText() const {
  std::string text = session_stats_ ? FormatStats(session_stats_->Snapshot()) : "";
  text += fmt::format(
      "passthroughfs passthrough={} opens_passthrough={} opens_daemon={} backing_files={} "
      "kept_backing_files={} backing_opens={} open_files={}\n",
      passthrough_active_.load() ? "on" : "off", counters_.passthrough_opens.load(),
      counters_.daemon_opens.load(), counters_.backing_files.load(), kept_backings_.size(),
      counters_.backing_opens.load(), open_files());
  text += fmt::format(
      "passthroughfs inodes={} forgotten={} revived={} inode_fds={} fd_budget={} fds={} "
      "inode_handles={} listings={} listings_looked_up={}\n",
      inodes_->size(), inodes_->forgotten_size(), inodes_->revived(), inodes_->fd_count(),
      inodes_->fd_budget(), OpenFds(), inodes_->handles() ? "on" : "off",
      listing_advisor_.listings(), listing_advisor_.listings_looked_up());
  if (coherence_) {
    const Invalidator& inv = coherence_->invalidator();
    text += fmt::format("passthroughfs watch={} coherent={} events={} overflows={}\n",
                        coherence_->backend(), CachesCoherent() ? 1 : 0, inv.events_seen(),
                        inv.overflows());
  } else {
    text += "passthroughfs watch=off coherent=0\n";
  }
  return text;
}

void PassthroughFs::AnswerControlXattr(const req::GetXattr& in, ReplyXattr reply) const {
  std::string text = StatsText();
  if (in.size == 0) {
    // The counters move between the caller's size probe and its read:
    // leave room for that (the read then answers fewer bytes), so that
    // getfattr and the like do not fail with ERANGE.
    constexpr size_t kXattrSizeMax = 65536;
    return reply.Size(static_cast<uint32_t>(std::min(text.size() + 4096, kXattrSizeMax)));
  }
  reply.Data(std::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()),
                                        text.size()));
}

}  // namespace passthroughfs
