// The one table of FUSE opcodes. The decoder, the dispatcher, opcode names
// and debug printing are all generated from it, so an opcode is declared
// exactly once.
#pragma once

#include <cstdint>
#include <string_view>

// X(NAME, number, RequestType)
// RequestType is the typed request in fusekit::req that the decoder builds.
#define FUSEKIT_FOR_EACH_OPCODE(X)                \
  X(LOOKUP, 1, Lookup)                            \
  X(FORGET, 2, Forget)                            \
  X(GETATTR, 3, GetAttr)                          \
  X(SETATTR, 4, SetAttr)                          \
  X(READLINK, 5, ReadLink)                        \
  X(SYMLINK, 6, SymLink)                          \
  X(MKNOD, 8, MkNod)                              \
  X(MKDIR, 9, MkDir)                              \
  X(UNLINK, 10, Unlink)                           \
  X(RMDIR, 11, RmDir)                             \
  X(RENAME, 12, Rename)                           \
  X(LINK, 13, Link)                               \
  X(OPEN, 14, Open)                               \
  X(READ, 15, Read)                               \
  X(WRITE, 16, Write)                             \
  X(STATFS, 17, StatFs)                           \
  X(RELEASE, 18, Release)                         \
  X(FSYNC, 20, Fsync)                             \
  X(SETXATTR, 21, SetXattr)                       \
  X(GETXATTR, 22, GetXattr)                       \
  X(LISTXATTR, 23, ListXattr)                     \
  X(REMOVEXATTR, 24, RemoveXattr)                 \
  X(FLUSH, 25, Flush)                             \
  X(INIT, 26, Init)                               \
  X(OPENDIR, 27, OpenDir)                         \
  X(READDIR, 28, ReadDir)                         \
  X(RELEASEDIR, 29, ReleaseDir)                   \
  X(FSYNCDIR, 30, FsyncDir)                       \
  X(GETLK, 31, GetLk)                             \
  X(SETLK, 32, SetLk)                             \
  X(SETLKW, 33, SetLkW)                           \
  X(ACCESS, 34, Access)                           \
  X(CREATE, 35, Create)                           \
  X(INTERRUPT, 36, Interrupt)                     \
  X(BMAP, 37, Bmap)                               \
  X(DESTROY, 38, Destroy)                         \
  X(IOCTL, 39, Ioctl)                             \
  X(POLL, 40, Poll)                               \
  X(NOTIFY_REPLY, 41, NotifyReply)                \
  X(BATCH_FORGET, 42, BatchForget)                \
  X(FALLOCATE, 43, Fallocate)                     \
  X(READDIRPLUS, 44, ReadDirPlus)                 \
  X(RENAME2, 45, Rename2)                         \
  X(LSEEK, 46, Lseek)                             \
  X(COPY_FILE_RANGE, 47, CopyFileRange)           \
  X(SETUPMAPPING, 48, SetupMapping)               \
  X(REMOVEMAPPING, 49, RemoveMapping)             \
  X(SYNCFS, 50, SyncFs)                           \
  X(TMPFILE, 51, TmpFile)                         \
  X(STATX, 52, Statx)                             \
  X(COPY_FILE_RANGE_64, 53, CopyFileRange64)

namespace fusekit {

enum class Opcode : uint32_t {
#define FUSEKIT_OPCODE_ENUM(name, number, type) name = number,
  FUSEKIT_FOR_EACH_OPCODE(FUSEKIT_OPCODE_ENUM)
#undef FUSEKIT_OPCODE_ENUM
};

// "LOOKUP", ...; "UNKNOWN" for a number not in the table.
std::string_view OpcodeName(uint32_t opcode);
inline std::string_view OpcodeName(Opcode op) { return OpcodeName(static_cast<uint32_t>(op)); }
// True for opcodes in the table.
bool IsKnownOpcode(uint32_t opcode);
// FORGET and BATCH_FORGET are never answered.
constexpr bool HasReply(Opcode op) { return op != Opcode::FORGET && op != Opcode::BATCH_FORGET; }

inline constexpr uint32_t kMaxOpcode = 53;

}  // namespace fusekit
