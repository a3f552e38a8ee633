#include "passthrough_file_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "fusekit/log.h"

namespace examples {

using namespace fusekit;  // NOLINT: example code

namespace {
constexpr Timeout kTimeout = std::chrono::seconds(1);

bool ValidName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos;
}
}  // namespace

PassthroughFileFs::PassthroughFileFs(UniqueFd source_dir, PassthroughFileOptions options)
    : source_dir_(std::move(source_dir)), options_(options) {}

void PassthroughFileFs::Init(const ConnectionInfo& info) {
  device_ = info.device;
  passthrough_active_ = options_.passthrough && info.passthrough();
  if (options_.announce) {
    std::fprintf(stderr, "passthrough_file: kernel passthrough %s\n",
                 passthrough_active_     ? "active"
                 : !options_.passthrough ? "off (--no-passthrough)"
                                         : "unavailable: the kernel did not grant it");
  }
}

size_t PassthroughFileFs::backing_ids_held() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [id, node] : nodes_) n += node.backing.valid() ? 1 : 0;
  return n;
}

Entry PassthroughFileFs::EntryFor(NodeId id, const struct stat& st) const {
  return Entry{id, 0, Attr::FromStat(st), kTimeout, kTimeout};
}

Result<Entry> PassthroughFileFs::LookupLocked(std::string_view name) {
  std::string n(name);
  UniqueFd fd(::openat(source_dir_.get(), n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return FailLast();
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return FailLast();
  // Only regular files: this example has no subdirectories or links.
  if (!S_ISREG(st.st_mode)) return Fail(ENOENT);
  uint64_t id;
  if (auto it = node_by_ino_.find(st.st_ino); it != node_by_ino_.end()) {
    id = it->second;
  } else {
    id = next_node_++;
    Node node;
    node.name = n;
    node.ino = st.st_ino;
    node.path_fd = std::move(fd);
    nodes_.emplace(id, std::move(node));
    node_by_ino_[st.st_ino] = id;
  }
  nodes_.at(id).nlookup++;
  return EntryFor(NodeId(id), st);
}

void PassthroughFileFs::Forget(NodeId node, uint64_t nlookup) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(node.value);
  if (it == nodes_.end()) return;
  Node& n = it->second;
  n.nlookup = nlookup >= n.nlookup ? 0 : n.nlookup - nlookup;
  if (n.nlookup == 0 && n.open_count == 0) {
    node_by_ino_.erase(n.ino);
    nodes_.erase(it);
  }
}

void PassthroughFileFs::Lookup(const Context& ctx, const req::Lookup& in, ReplyEntry reply) {
  if (ctx.node() != kRootNode) return reply.Error(ENOENT);
  if (!ValidName(in.name)) return reply.Error(ENOENT);
  std::unique_lock lock(mutex_);
  auto entry = LookupLocked(in.name);
  lock.unlock();
  if (!entry) return reply.Error(entry.error());
  reply.Ok(*entry);
}

void PassthroughFileFs::GetAttr(const Context& ctx, const req::GetAttr&, ReplyAttr reply) {
  struct stat st;
  if (ctx.node() == kRootNode) {
    if (::fstat(source_dir_.get(), &st) != 0) return reply.Error(Errno::Last());
    return reply.Ok(Attr::FromStat(st), kTimeout);
  }
  int fd;
  {
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(ctx.node().value);
    if (it == nodes_.end()) return reply.Error(ESTALE);
    fd = it->second.path_fd.get();
  }
  // The kernel holds a reference to the inode while it asks, so no FORGET
  // can close fd under us.
  if (::fstat(fd, &st) != 0) return reply.Error(Errno::Last());
  reply.Ok(Attr::FromStat(st), kTimeout);
}

void PassthroughFileFs::SetAttr(const Context& ctx, const req::SetAttr& in, ReplyAttr reply) {
  if (ctx.node() == kRootNode) return reply.Error(EPERM);
  std::string proc_path;
  {
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(ctx.node().value);
    if (it == nodes_.end()) return reply.Error(ESTALE);
    proc_path = "/proc/self/fd/" + std::to_string(it->second.path_fd.get());
  }
  if (in.mode && ::chmod(proc_path.c_str(), *in.mode & 07777) != 0)
    return reply.Error(Errno::Last());
  if (in.size) {
    int rc = in.fh ? ::ftruncate(FdOf(*in.fh), static_cast<off_t>(*in.size))
                   : ::truncate(proc_path.c_str(), static_cast<off_t>(*in.size));
    if (rc != 0) return reply.Error(Errno::Last());
  }
  if (!in.atime.omitted() || !in.mtime.omitted()) {
    timespec times[2] = {in.atime.ForUtimensat(), in.mtime.ForUtimensat()};
    if (::utimensat(AT_FDCWD, proc_path.c_str(), times, 0) != 0) return reply.Error(Errno::Last());
  }
  struct stat st;
  if (::stat(proc_path.c_str(), &st) != 0) return reply.Error(Errno::Last());
  reply.Ok(Attr::FromStat(st), kTimeout);
}

std::optional<BackingId> PassthroughFileFs::AttachOpenLocked(NodeId id, Node& node) {
  node.open_count++;
  if (!passthrough_active_) {
    daemon_served_opens_++;
    return std::nullopt;
  }
  if (!node.backing.valid()) {
    auto backing = BackingFile::Open(device_, node.path_fd.get());
    if (!backing) {
      if (!node.fallback_logged) {
        LogWarn("{}: passthrough refused ({}); the daemon serves its I/O", node.name,
                backing.error().message());
        node.fallback_logged = true;
      }
      daemon_served_opens_++;
      return std::nullopt;
    }
    node.backing = std::move(*backing);
  }
  (void)id;
  return node.backing.id();
}

FileHandle PassthroughFileFs::AddHandleLocked(NodeId id, UniqueFd fd) {
  uint64_t fh = next_handle_++;
  handles_.emplace(fh, OpenFile{id, std::move(fd)});
  return FileHandle(fh);
}

int PassthroughFileFs::FdOf(FileHandle fh) {
  std::lock_guard lock(mutex_);
  auto it = handles_.find(fh.value);
  return it == handles_.end() ? -1 : it->second.fd.get();
}

void PassthroughFileFs::Open(const Context& ctx, const req::Open& in, ReplyOpen reply) {
  std::string proc_path;
  {
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(ctx.node().value);
    if (it == nodes_.end()) return reply.Error(ctx.node() == kRootNode ? EISDIR : ESTALE);
    proc_path = "/proc/self/fd/" + std::to_string(it->second.path_fd.get());
  }
  // Reopening through the O_PATH fd opens exactly the inode we looked up,
  // even if the name was renamed or replaced since.
  int flags = (in.flags & ~(O_CREAT | O_EXCL | O_NOCTTY)) | O_CLOEXEC;
  UniqueFd fd(::open(proc_path.c_str(), flags));
  if (!fd) return reply.Error(Errno::Last());
  std::unique_lock lock(mutex_);
  auto it = nodes_.find(ctx.node().value);
  if (it == nodes_.end()) return reply.Error(ESTALE);
  auto backing = AttachOpenLocked(ctx.node(), it->second);
  FileHandle fh = AddHandleLocked(ctx.node(), std::move(fd));
  lock.unlock();
  OpenOptions options{.direct_io = options_.direct_io};
  if (backing) return reply.Passthrough(fh, *backing, options);
  reply.Ok(fh, options);
}

void PassthroughFileFs::Create(const Context& ctx, const req::Create& in, ReplyCreate reply) {
  if (ctx.node() != kRootNode) return reply.Error(ENOTDIR);
  if (!ValidName(in.name)) return reply.Error(EINVAL);
  std::string name(in.name);
  UniqueFd fd(::openat(source_dir_.get(), name.c_str(),
                       (in.flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC) & ~O_NOCTTY,
                       in.mode & ~in.umask));
  if (!fd) return reply.Error(Errno::Last());
  std::unique_lock lock(mutex_);
  auto entry = LookupLocked(in.name);
  if (!entry) return reply.Error(entry.error());
  auto backing = AttachOpenLocked(entry->node, nodes_.at(entry->node.value));
  FileHandle fh = AddHandleLocked(entry->node, std::move(fd));
  lock.unlock();
  OpenOptions options{.direct_io = options_.direct_io};
  if (backing) return reply.Passthrough(*entry, fh, *backing, options);
  reply.Ok(*entry, fh, options);
}

void PassthroughFileFs::Read(const Context&, const req::Read& in, ReplyData reply) {
  int fd = FdOf(in.fh);
  if (fd < 0) return reply.Error(EBADF);
  std::vector<std::byte> buffer(in.size);
  ssize_t n = ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(in.offset));
  if (n < 0) return reply.Error(Errno::Last());
  reply.Ok(std::span<const std::byte>(buffer.data(), static_cast<size_t>(n)));
}

void PassthroughFileFs::Write(const Context&, const req::Write& in, ReplyWrite reply) {
  int fd = FdOf(in.fh);
  if (fd < 0) return reply.Error(EBADF);
  ssize_t n = ::pwrite(fd, in.data.data(), in.data.size(), static_cast<off_t>(in.offset));
  if (n < 0) return reply.Error(Errno::Last());
  reply.Ok(static_cast<uint32_t>(n));
}

void PassthroughFileFs::Flush(const Context&, const req::Flush&, ReplyEmpty reply) { reply.Ok(); }

void PassthroughFileFs::Fsync(const Context&, const req::Fsync& in, ReplyEmpty reply) {
  int fd = FdOf(in.fh);
  if (fd < 0) return reply.Error(EBADF);
  if ((in.datasync ? ::fdatasync(fd) : ::fsync(fd)) != 0) return reply.Error(Errno::Last());
  reply.Ok();
}

void PassthroughFileFs::Release(const Context&, const req::Release& in, ReplyEmpty reply) {
  UniqueFd closing;
  BackingFile releasing;
  {
    std::lock_guard lock(mutex_);
    auto it = handles_.find(in.fh.value);
    if (it == handles_.end()) return reply.Error(EBADF);
    closing = std::move(it->second.fd);
    auto node = nodes_.find(it->second.node.value);
    handles_.erase(it);
    if (node != nodes_.end() && --node->second.open_count == 0) {
      releasing = std::move(node->second.backing);
      if (node->second.nlookup == 0) {
        node_by_ino_.erase(node->second.ino);
        nodes_.erase(node);
      }
    }
  }
  // Closed outside the lock: close and BACKING_CLOSE are syscalls.
  closing.reset();
  (void)releasing.Close();
  reply.Ok();
}

void PassthroughFileFs::Unlink(const Context& ctx, const req::Unlink& in, ReplyEmpty reply) {
  if (ctx.node() != kRootNode || !ValidName(in.name)) return reply.Error(ENOENT);
  std::string name(in.name);
  if (::unlinkat(source_dir_.get(), name.c_str(), 0) != 0) return reply.Error(Errno::Last());
  reply.Ok();
}

void PassthroughFileFs::OpenDir(const Context& ctx, const req::OpenDir&, ReplyOpen reply) {
  if (ctx.node() != kRootNode) return reply.Error(ENOTDIR);
  UniqueFd fd(::openat(source_dir_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return reply.Error(Errno::Last());
  DIR* dir = ::fdopendir(fd.release());
  if (dir == nullptr) return reply.Error(Errno::Last());
  struct stat self;
  ::fstat(source_dir_.get(), &self);
  std::vector<DirItem> names = {{".", self.st_ino, S_IFDIR}, {"..", self.st_ino, S_IFDIR}};
  while (dirent* e = ::readdir(dir)) {
    if (e->d_type == DT_REG) names.push_back({e->d_name, e->d_ino, S_IFREG});
  }
  ::closedir(dir);
  std::lock_guard lock(mutex_);
  uint64_t fh = next_handle_++;
  dir_snapshots_[fh] = std::move(names);
  reply.Ok(FileHandle(fh));
}

void PassthroughFileFs::ReadDir(const Context&, const req::ReadDir& in, ReplyDir reply) {
  {
    std::lock_guard lock(mutex_);
    auto it = dir_snapshots_.find(in.fh.value);
    if (it == dir_snapshots_.end()) return reply.Error(EBADF);
    const auto& items = it->second;
    for (uint64_t i = in.offset; i < items.size(); ++i) {
      if (!reply.Add(items[i].name, items[i].ino, items[i].type, i + 1)) break;
    }
  }
  reply.Ok();
}

void PassthroughFileFs::ReleaseDir(const Context&, const req::ReleaseDir& in, ReplyEmpty reply) {
  {
    std::lock_guard lock(mutex_);
    dir_snapshots_.erase(in.fh.value);
  }
  reply.Ok();
}

void PassthroughFileFs::StatFs(const Context&, const req::StatFs&, ReplyStatfs reply) {
  struct statvfs st;
  if (::fstatvfs(source_dir_.get(), &st) != 0) return reply.Error(Errno::Last());
  reply.Ok(st);
}

}  // namespace examples
