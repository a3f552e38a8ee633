// Typed requests: what the decoder makes of the kernel's bytes.
//
// Names, data and lists point into the buffer the request was read into:
// they are valid until the operation returns. An operation that answers
// later must copy what it still needs.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "fusekit/opcodes.h"
#include "fusekit/types.h"

namespace fusekit {

// The fields of every request's header.
struct RequestHeader {
  uint32_t len = 0;
  Opcode opcode{};
  RequestId unique;
  NodeId node;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t pid = 0;
  uint16_t total_extlen = 0;  // in units of 8 bytes
};

namespace req {

struct Init {
  uint32_t major = 0;
  uint32_t minor = 0;
  uint32_t max_readahead = 0;
  uint64_t flags = 0;  // flags | flags2 << 32
};
struct Lookup {
  std::string_view name;
};
struct Forget {
  uint64_t nlookup = 0;
};
struct ForgetItem {
  NodeId node;
  uint64_t nlookup = 0;
};
struct BatchForget {
  std::vector<ForgetItem> items;
};
struct GetAttr {
  std::optional<FileHandle> fh;
};

struct TimeUpdate {
  enum class Kind { kOmit, kNow, kSet };
  Kind kind = Kind::kOmit;
  timespec value{};

  bool omitted() const { return kind == Kind::kOmit; }
  // As utimensat(2) and futimens(2) take it: UTIME_OMIT, UTIME_NOW or the time.
  timespec ForUtimensat() const {
    return kind == Kind::kNow ? timespec{0, UTIME_NOW}
           : kind == Kind::kSet ? value
                                : timespec{0, UTIME_OMIT};
  }
};
struct SetAttr {
  std::optional<FileHandle> fh;
  std::optional<uint32_t> mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::optional<uint64_t> size;
  TimeUpdate atime;
  TimeUpdate mtime;
  std::optional<timespec> ctime;
  std::optional<uint64_t> lock_owner;
  // FATTR_KILL_SUIDGID: the kernel asks the server to drop setuid/setgid.
  bool kill_suidgid = false;
  uint32_t valid = 0;  // the raw FATTR_* mask, for debugging
};
struct ReadLink {};
struct SymLink {
  std::string_view name;
  std::string_view target;
};
struct MkNod {
  uint32_t mode = 0;
  uint32_t rdev = 0;
  uint32_t umask = 0;
  std::string_view name;
};
struct MkDir {
  uint32_t mode = 0;
  uint32_t umask = 0;
  std::string_view name;
};
struct Unlink {
  std::string_view name;
};
struct RmDir {
  std::string_view name;
};
// RENAME and RENAME2 both become Rename; flags are RENAME_NOREPLACE,
// RENAME_EXCHANGE, RENAME_WHITEOUT.
struct Rename {
  std::string_view name;
  NodeId new_parent;
  std::string_view new_name;
  uint32_t flags = 0;
};
struct Rename2 : Rename {};
struct Link {
  NodeId target;  // the existing inode
  std::string_view new_name;
};
struct Open {
  int flags = 0;  // open(2) flags
  bool kill_suidgid = false;
};
struct Read {
  FileHandle fh;
  uint64_t offset = 0;
  uint32_t size = 0;
  uint32_t read_flags = 0;
  std::optional<uint64_t> lock_owner;
  int flags = 0;
};
struct Write {
  FileHandle fh;
  uint64_t offset = 0;
  std::span<const std::byte> data;
  uint32_t write_flags = 0;
  std::optional<uint64_t> lock_owner;
  int flags = 0;
  bool kill_suidgid = false;
  bool from_page_cache = false;  // FUSE_WRITE_CACHE
};
struct StatFs {};
struct Release {
  FileHandle fh;
  int flags = 0;
  uint32_t release_flags = 0;
  uint64_t lock_owner = 0;
  bool flush = false;         // FUSE_RELEASE_FLUSH
  bool flock_unlock = false;  // FUSE_RELEASE_FLOCK_UNLOCK
};
struct ReleaseDir : Release {};
struct Fsync {
  FileHandle fh;
  bool datasync = false;
};
struct FsyncDir : Fsync {};
struct SetXattr {
  std::string_view name;
  std::span<const std::byte> value;
  int flags = 0;  // XATTR_CREATE, XATTR_REPLACE
  uint32_t setxattr_flags = 0;  // kSetxattrAclKillSgid
};
// With POSIX ACLs: setting this ACL must drop setgid (the caller is not in
// the file's group and lacks CAP_FSETID).
inline constexpr uint32_t kSetxattrAclKillSgid = 1u << 0;
struct GetXattr {
  std::string_view name;
  uint32_t size = 0;  // 0: the caller asks for the size only
};
struct ListXattr {
  uint32_t size = 0;
};
struct RemoveXattr {
  std::string_view name;
};
struct Flush {
  FileHandle fh;
  uint64_t lock_owner = 0;
};
struct OpenDir {
  int flags = 0;
};
struct ReadDir {
  FileHandle fh;
  uint64_t offset = 0;
  uint32_t size = 0;
};
struct ReadDirPlus : ReadDir {};
struct GetLk {
  FileHandle fh;
  uint64_t owner = 0;
  FileLock lock;
  bool flock = false;
};
struct SetLk : GetLk {};
struct SetLkW : SetLk {};
struct Access {
  uint32_t mask = 0;
};
struct Create {
  std::string_view name;
  int flags = 0;
  uint32_t mode = 0;
  uint32_t umask = 0;
  bool kill_suidgid = false;
};
struct Interrupt {
  RequestId target;
};
struct Bmap {
  uint64_t block = 0;
  uint32_t blocksize = 0;
};
struct Destroy {};
struct Ioctl {
  FileHandle fh;
  uint32_t flags = 0;
  uint32_t cmd = 0;
  uint64_t arg = 0;
  std::span<const std::byte> in_data;
  uint32_t out_size = 0;
};
struct Poll {
  FileHandle fh;
  uint64_t kh = 0;
  uint32_t flags = 0;
  uint32_t events = 0;
};
// The kernel's answer to a NOTIFY_RETRIEVE; its unique is the notification's.
struct NotifyReply {
  uint64_t offset = 0;
  std::span<const std::byte> data;
};
struct Fallocate {
  FileHandle fh;
  uint64_t offset = 0;
  uint64_t length = 0;
  int mode = 0;
};
struct Lseek {
  FileHandle fh;
  uint64_t offset = 0;
  int whence = 0;
};
struct CopyFileRange {
  FileHandle fh_in;
  uint64_t offset_in = 0;
  NodeId node_out;
  FileHandle fh_out;
  uint64_t offset_out = 0;
  uint64_t length = 0;
  uint64_t flags = 0;
};
struct CopyFileRange64 : CopyFileRange {};
struct SetupMapping {
  FileHandle fh;
  uint64_t foffset = 0;
  uint64_t length = 0;
  uint64_t flags = 0;
  uint64_t moffset = 0;
};
struct RemoveMappingItem {
  uint64_t moffset = 0;
  uint64_t length = 0;
};
struct RemoveMapping {
  std::vector<RemoveMappingItem> items;
};
struct SyncFs {};
struct TmpFile {
  int flags = 0;
  uint32_t mode = 0;
  uint32_t umask = 0;
};
struct Statx {
  std::optional<FileHandle> fh;
  uint32_t sx_flags = 0;
  uint32_t sx_mask = 0;
};

}  // namespace req
}  // namespace fusekit
