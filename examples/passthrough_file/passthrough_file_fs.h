// PassthroughFileFs: mirrors the regular files of one source directory (no
// subdirectories) and hands their I/O to the kernel through passthrough.
//
// One backing file per inode: registered at the first open, shared by every
// later open of the inode, released at the last release. When registration
// fails for a file, that file is served by the daemon instead (logged once
// per file); the rest keep passthrough.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "fusekit/backing_file.h"
#include "fusekit/operations.h"
#include "fusekit/unique_fd.h"

namespace examples {

struct PassthroughFileOptions {
  bool passthrough = true;  // ask for kernel passthrough
  bool direct_io = false;   // read/write through the daemon, mmap through the backing file
  bool announce = false;    // print whether passthrough is active once INIT settled it
};

// Thread-safety: every method may be called concurrently; mutex_ guards the
// node and handle tables and is never held across a reply or across I/O on
// a source file.
class PassthroughFileFs : public fusekit::Operations {
 public:
  PassthroughFileFs(fusekit::UniqueFd source_dir, PassthroughFileOptions options);

  // Backing ids registered right now (one per inode with open files).
  size_t backing_ids_held() const;
  // Files opened through the daemon because registration failed or
  // passthrough is off.
  size_t daemon_served_opens() const { return daemon_served_opens_.load(); }
  bool passthrough_active() const { return passthrough_active_.load(); }

  void Init(const fusekit::ConnectionInfo& info) override;
  void Forget(fusekit::NodeId node, uint64_t nlookup) override;
  void Lookup(const fusekit::Context&, const fusekit::req::Lookup&, fusekit::ReplyEntry) override;
  void GetAttr(const fusekit::Context&, const fusekit::req::GetAttr&, fusekit::ReplyAttr) override;
  void SetAttr(const fusekit::Context&, const fusekit::req::SetAttr&, fusekit::ReplyAttr) override;
  void Open(const fusekit::Context&, const fusekit::req::Open&, fusekit::ReplyOpen) override;
  void Create(const fusekit::Context&, const fusekit::req::Create&, fusekit::ReplyCreate) override;
  void Read(const fusekit::Context&, const fusekit::req::Read&, fusekit::ReplyData) override;
  void Write(const fusekit::Context&, const fusekit::req::Write&, fusekit::ReplyWrite) override;
  void Flush(const fusekit::Context&, const fusekit::req::Flush&, fusekit::ReplyEmpty) override;
  void Fsync(const fusekit::Context&, const fusekit::req::Fsync&, fusekit::ReplyEmpty) override;
  void Release(const fusekit::Context&, const fusekit::req::Release&, fusekit::ReplyEmpty) override;
  void Unlink(const fusekit::Context&, const fusekit::req::Unlink&, fusekit::ReplyEmpty) override;
  void OpenDir(const fusekit::Context&, const fusekit::req::OpenDir&, fusekit::ReplyOpen) override;
  void ReadDir(const fusekit::Context&, const fusekit::req::ReadDir&, fusekit::ReplyDir) override;
  void ReleaseDir(const fusekit::Context&, const fusekit::req::ReleaseDir&,
                  fusekit::ReplyEmpty) override;
  void StatFs(const fusekit::Context&, const fusekit::req::StatFs&, fusekit::ReplyStatfs) override;

 private:
  struct Node {
    std::string name;
    ino_t ino = 0;
    fusekit::UniqueFd path_fd;  // O_PATH, for fstat and backing registration
    uint64_t nlookup = 0;
    unsigned open_count = 0;
    fusekit::BackingFile backing;  // valid while open_count > 0 and passthrough works
    bool fallback_logged = false;
  };
  struct OpenFile {
    fusekit::NodeId node;
    fusekit::UniqueFd fd;
  };

  fusekit::Result<fusekit::Entry> LookupLocked(std::string_view name);
  fusekit::Entry EntryFor(fusekit::NodeId id, const struct stat& st) const;
  // Registers the file's open; returns the backing id to answer with, if any.
  std::optional<fusekit::BackingId> AttachOpenLocked(fusekit::NodeId id, Node& node);
  fusekit::FileHandle AddHandleLocked(fusekit::NodeId id, fusekit::UniqueFd fd);
  int FdOf(fusekit::FileHandle fh);

  const fusekit::UniqueFd source_dir_;
  std::shared_ptr<const fusekit::UniqueFd> device_;  // set by Init, before any request
  const PassthroughFileOptions options_;
  std::atomic<bool> passthrough_active_{false};
  std::atomic<size_t> daemon_served_opens_{0};

  mutable std::mutex mutex_;
  uint64_t next_node_ = 2;
  uint64_t next_handle_ = 1;
  std::unordered_map<uint64_t, Node> nodes_;             // by node id
  std::unordered_map<ino_t, uint64_t> node_by_ino_;      // source inode -> node id
  std::unordered_map<uint64_t, OpenFile> handles_;       // by file handle
  struct DirItem {
    std::string name;
    ino_t ino;
    uint32_t type;
  };
  std::unordered_map<uint64_t, std::vector<DirItem>> dir_snapshots_;  // by dir handle
};

}  // namespace examples
