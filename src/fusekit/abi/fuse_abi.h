// The FUSE kernel ABI, protocol 7.45, written for fusekit from the facts of
// the kernel's include/uapi/linux/fuse.h. Every struct's size is pinned so a
// layout slip fails the build instead of corrupting a request.
#pragma once

#include <linux/ioctl.h>

#include <cstddef>
#include <cstdint>

namespace fusekit::abi {

inline constexpr uint32_t kKernelVersion = 7;
inline constexpr uint32_t kKernelMinorVersion = 45;
// FUSE_INIT_EXT and flags2 arrived in 7.36 (in_header.total_extlen only in
// 7.38; on 7.36/7.37 that field is zero padding); older kernels are refused
// rather than carried by compatibility branches.
inline constexpr uint32_t kMinimumMinorVersion = 36;
inline constexpr uint64_t kRootId = 1;
inline constexpr size_t kMinReadBuffer = 8192;

struct fuse_attr {
  uint64_t ino;
  uint64_t size;
  uint64_t blocks;
  uint64_t atime;
  uint64_t mtime;
  uint64_t ctime;
  uint32_t atimensec;
  uint32_t mtimensec;
  uint32_t ctimensec;
  uint32_t mode;
  uint32_t nlink;
  uint32_t uid;
  uint32_t gid;
  uint32_t rdev;
  uint32_t blksize;
  uint32_t flags;
};

struct fuse_sx_time {
  int64_t tv_sec;
  uint32_t tv_nsec;
  int32_t reserved;
};

struct fuse_statx {
  uint32_t mask;
  uint32_t blksize;
  uint64_t attributes;
  uint32_t nlink;
  uint32_t uid;
  uint32_t gid;
  uint16_t mode;
  uint16_t spare0[1];
  uint64_t ino;
  uint64_t size;
  uint64_t blocks;
  uint64_t attributes_mask;
  fuse_sx_time atime;
  fuse_sx_time btime;
  fuse_sx_time ctime;
  fuse_sx_time mtime;
  uint32_t rdev_major;
  uint32_t rdev_minor;
  uint32_t dev_major;
  uint32_t dev_minor;
  uint64_t spare2[14];
};

struct fuse_kstatfs {
  uint64_t blocks;
  uint64_t bfree;
  uint64_t bavail;
  uint64_t files;
  uint64_t ffree;
  uint32_t bsize;
  uint32_t namelen;
  uint32_t frsize;
  uint32_t padding;
  uint32_t spare[6];
};

struct fuse_file_lock {
  uint64_t start;
  uint64_t end;
  uint32_t type;
  uint32_t pid;
};

// fuse_setattr_in.valid
inline constexpr uint32_t FATTR_MODE = 1u << 0;
inline constexpr uint32_t FATTR_UID = 1u << 1;
inline constexpr uint32_t FATTR_GID = 1u << 2;
inline constexpr uint32_t FATTR_SIZE = 1u << 3;
inline constexpr uint32_t FATTR_ATIME = 1u << 4;
inline constexpr uint32_t FATTR_MTIME = 1u << 5;
inline constexpr uint32_t FATTR_FH = 1u << 6;
inline constexpr uint32_t FATTR_ATIME_NOW = 1u << 7;
inline constexpr uint32_t FATTR_MTIME_NOW = 1u << 8;
inline constexpr uint32_t FATTR_LOCKOWNER = 1u << 9;
inline constexpr uint32_t FATTR_CTIME = 1u << 10;
inline constexpr uint32_t FATTR_KILL_SUIDGID = 1u << 11;

// fuse_open_out.open_flags
inline constexpr uint32_t FOPEN_DIRECT_IO = 1u << 0;
inline constexpr uint32_t FOPEN_KEEP_CACHE = 1u << 1;
inline constexpr uint32_t FOPEN_NONSEEKABLE = 1u << 2;
inline constexpr uint32_t FOPEN_CACHE_DIR = 1u << 3;
inline constexpr uint32_t FOPEN_STREAM = 1u << 4;
inline constexpr uint32_t FOPEN_NOFLUSH = 1u << 5;
inline constexpr uint32_t FOPEN_PARALLEL_DIRECT_WRITES = 1u << 6;
inline constexpr uint32_t FOPEN_PASSTHROUGH = 1u << 7;

// INIT flags: bits 0..31 travel in flags, bits 32..63 in flags2.
inline constexpr uint64_t FUSE_ASYNC_READ = 1ull << 0;
inline constexpr uint64_t FUSE_POSIX_LOCKS = 1ull << 1;
inline constexpr uint64_t FUSE_FILE_OPS = 1ull << 2;
inline constexpr uint64_t FUSE_ATOMIC_O_TRUNC = 1ull << 3;
inline constexpr uint64_t FUSE_EXPORT_SUPPORT = 1ull << 4;
inline constexpr uint64_t FUSE_BIG_WRITES = 1ull << 5;
inline constexpr uint64_t FUSE_DONT_MASK = 1ull << 6;
inline constexpr uint64_t FUSE_SPLICE_WRITE = 1ull << 7;
inline constexpr uint64_t FUSE_SPLICE_MOVE = 1ull << 8;
inline constexpr uint64_t FUSE_SPLICE_READ = 1ull << 9;
inline constexpr uint64_t FUSE_FLOCK_LOCKS = 1ull << 10;
inline constexpr uint64_t FUSE_HAS_IOCTL_DIR = 1ull << 11;
inline constexpr uint64_t FUSE_AUTO_INVAL_DATA = 1ull << 12;
inline constexpr uint64_t FUSE_DO_READDIRPLUS = 1ull << 13;
inline constexpr uint64_t FUSE_READDIRPLUS_AUTO = 1ull << 14;
inline constexpr uint64_t FUSE_ASYNC_DIO = 1ull << 15;
inline constexpr uint64_t FUSE_WRITEBACK_CACHE = 1ull << 16;
inline constexpr uint64_t FUSE_NO_OPEN_SUPPORT = 1ull << 17;
inline constexpr uint64_t FUSE_PARALLEL_DIROPS = 1ull << 18;
inline constexpr uint64_t FUSE_HANDLE_KILLPRIV = 1ull << 19;
inline constexpr uint64_t FUSE_POSIX_ACL = 1ull << 20;
inline constexpr uint64_t FUSE_ABORT_ERROR = 1ull << 21;
inline constexpr uint64_t FUSE_MAX_PAGES = 1ull << 22;
inline constexpr uint64_t FUSE_CACHE_SYMLINKS = 1ull << 23;
inline constexpr uint64_t FUSE_NO_OPENDIR_SUPPORT = 1ull << 24;
inline constexpr uint64_t FUSE_EXPLICIT_INVAL_DATA = 1ull << 25;
inline constexpr uint64_t FUSE_MAP_ALIGNMENT = 1ull << 26;
inline constexpr uint64_t FUSE_SUBMOUNTS = 1ull << 27;
inline constexpr uint64_t FUSE_HANDLE_KILLPRIV_V2 = 1ull << 28;
inline constexpr uint64_t FUSE_SETXATTR_EXT = 1ull << 29;
inline constexpr uint64_t FUSE_INIT_EXT = 1ull << 30;
inline constexpr uint64_t FUSE_INIT_RESERVED = 1ull << 31;
inline constexpr uint64_t FUSE_SECURITY_CTX = 1ull << 32;
inline constexpr uint64_t FUSE_HAS_INODE_DAX = 1ull << 33;
inline constexpr uint64_t FUSE_CREATE_SUPP_GROUP = 1ull << 34;
inline constexpr uint64_t FUSE_HAS_EXPIRE_ONLY = 1ull << 35;
inline constexpr uint64_t FUSE_DIRECT_IO_ALLOW_MMAP = 1ull << 36;
inline constexpr uint64_t FUSE_PASSTHROUGH = 1ull << 37;
inline constexpr uint64_t FUSE_NO_EXPORT_SUPPORT = 1ull << 38;
inline constexpr uint64_t FUSE_HAS_RESEND = 1ull << 39;
inline constexpr uint64_t FUSE_ALLOW_IDMAP = 1ull << 40;
inline constexpr uint64_t FUSE_OVER_IO_URING = 1ull << 41;
inline constexpr uint64_t FUSE_REQUEST_TIMEOUT = 1ull << 42;

// fuse_release_in.release_flags
inline constexpr uint32_t FUSE_RELEASE_FLUSH = 1u << 0;
inline constexpr uint32_t FUSE_RELEASE_FLOCK_UNLOCK = 1u << 1;
// fuse_getattr_in.getattr_flags
inline constexpr uint32_t FUSE_GETATTR_FH = 1u << 0;
// fuse_lk_in.lk_flags
inline constexpr uint32_t FUSE_LK_FLOCK = 1u << 0;
// fuse_write_in.write_flags
inline constexpr uint32_t FUSE_WRITE_CACHE = 1u << 0;
inline constexpr uint32_t FUSE_WRITE_LOCKOWNER = 1u << 1;
inline constexpr uint32_t FUSE_WRITE_KILL_SUIDGID = 1u << 2;
// fuse_read_in.read_flags
inline constexpr uint32_t FUSE_READ_LOCKOWNER = 1u << 1;
// fuse_ioctl_in.flags
inline constexpr uint32_t FUSE_IOCTL_COMPAT = 1u << 0;
inline constexpr uint32_t FUSE_IOCTL_UNRESTRICTED = 1u << 1;
inline constexpr uint32_t FUSE_IOCTL_RETRY = 1u << 2;
inline constexpr uint32_t FUSE_IOCTL_32BIT = 1u << 3;
inline constexpr uint32_t FUSE_IOCTL_DIR = 1u << 4;
inline constexpr uint32_t FUSE_IOCTL_COMPAT_X32 = 1u << 5;
inline constexpr uint32_t FUSE_IOCTL_MAX_IOV = 256;
// fuse_poll_in.flags
inline constexpr uint32_t FUSE_POLL_SCHEDULE_NOTIFY = 1u << 0;
// fuse_fsync_in.fsync_flags
inline constexpr uint32_t FUSE_FSYNC_FDATASYNC = 1u << 0;
// fuse_attr.flags
inline constexpr uint32_t FUSE_ATTR_SUBMOUNT = 1u << 0;
inline constexpr uint32_t FUSE_ATTR_DAX = 1u << 1;
// fuse_open_in.open_flags and fuse_create_in.open_flags
inline constexpr uint32_t FUSE_OPEN_KILL_SUIDGID = 1u << 0;
// fuse_setxattr_in.setxattr_flags
inline constexpr uint32_t FUSE_SETXATTR_ACL_KILL_SGID = 1u << 0;
// fuse_notify_inval_entry_out.flags
inline constexpr uint32_t FUSE_EXPIRE_ONLY = 1u << 0;
// fuse_statx_in / fuse_getattr flags are shared with GETATTR.
// fuse_setupmapping_in.flags
inline constexpr uint64_t FUSE_SETUPMAPPING_FLAG_WRITE = 1ull << 0;
inline constexpr uint64_t FUSE_SETUPMAPPING_FLAG_READ = 1ull << 1;
// fuse_in_header.unique: set on requests the kernel resends (FUSE_HAS_RESEND).
inline constexpr uint64_t FUSE_UNIQUE_RESEND = 1ull << 63;
// fuse_in_header.uid/gid when FUSE_ALLOW_IDMAP is on and no mapping exists.
inline constexpr uint32_t FUSE_INVALID_UIDGID = static_cast<uint32_t>(-1);

enum fuse_opcode : uint32_t {
  FUSE_LOOKUP = 1,
  FUSE_FORGET = 2,
  FUSE_GETATTR = 3,
  FUSE_SETATTR = 4,
  FUSE_READLINK = 5,
  FUSE_SYMLINK = 6,
  FUSE_MKNOD = 8,
  FUSE_MKDIR = 9,
  FUSE_UNLINK = 10,
  FUSE_RMDIR = 11,
  FUSE_RENAME = 12,
  FUSE_LINK = 13,
  FUSE_OPEN = 14,
  FUSE_READ = 15,
  FUSE_WRITE = 16,
  FUSE_STATFS = 17,
  FUSE_RELEASE = 18,
  FUSE_FSYNC = 20,
  FUSE_SETXATTR = 21,
  FUSE_GETXATTR = 22,
  FUSE_LISTXATTR = 23,
  FUSE_REMOVEXATTR = 24,
  FUSE_FLUSH = 25,
  FUSE_INIT = 26,
  FUSE_OPENDIR = 27,
  FUSE_READDIR = 28,
  FUSE_RELEASEDIR = 29,
  FUSE_FSYNCDIR = 30,
  FUSE_GETLK = 31,
  FUSE_SETLK = 32,
  FUSE_SETLKW = 33,
  FUSE_ACCESS = 34,
  FUSE_CREATE = 35,
  FUSE_INTERRUPT = 36,
  FUSE_BMAP = 37,
  FUSE_DESTROY = 38,
  FUSE_IOCTL = 39,
  FUSE_POLL = 40,
  FUSE_NOTIFY_REPLY = 41,
  FUSE_BATCH_FORGET = 42,
  FUSE_FALLOCATE = 43,
  FUSE_READDIRPLUS = 44,
  FUSE_RENAME2 = 45,
  FUSE_LSEEK = 46,
  FUSE_COPY_FILE_RANGE = 47,
  FUSE_SETUPMAPPING = 48,
  FUSE_REMOVEMAPPING = 49,
  FUSE_SYNCFS = 50,
  FUSE_TMPFILE = 51,
  FUSE_STATX = 52,
  FUSE_COPY_FILE_RANGE_64 = 53,
  CUSE_INIT = 4096,
};

enum fuse_notify_code : int32_t {
  FUSE_NOTIFY_POLL = 1,
  FUSE_NOTIFY_INVAL_INODE = 2,
  FUSE_NOTIFY_INVAL_ENTRY = 3,
  FUSE_NOTIFY_STORE = 4,
  FUSE_NOTIFY_RETRIEVE = 5,
  FUSE_NOTIFY_DELETE = 6,
  FUSE_NOTIFY_RESEND = 7,
  FUSE_NOTIFY_INC_EPOCH = 8,
  FUSE_NOTIFY_PRUNE = 9,
};

struct fuse_entry_out {
  uint64_t nodeid;
  uint64_t generation;
  uint64_t entry_valid;
  uint64_t attr_valid;
  uint32_t entry_valid_nsec;
  uint32_t attr_valid_nsec;
  fuse_attr attr;
};

struct fuse_forget_in {
  uint64_t nlookup;
};

struct fuse_forget_one {
  uint64_t nodeid;
  uint64_t nlookup;
};

struct fuse_batch_forget_in {
  uint32_t count;
  uint32_t dummy;
};

struct fuse_getattr_in {
  uint32_t getattr_flags;
  uint32_t dummy;
  uint64_t fh;
};

struct fuse_attr_out {
  uint64_t attr_valid;
  uint32_t attr_valid_nsec;
  uint32_t dummy;
  fuse_attr attr;
};

struct fuse_statx_in {
  uint32_t getattr_flags;
  uint32_t reserved;
  uint64_t fh;
  uint32_t sx_flags;
  uint32_t sx_mask;
};

struct fuse_statx_out {
  uint64_t attr_valid;
  uint32_t attr_valid_nsec;
  uint32_t flags;
  uint64_t spare[2];
  fuse_statx stat;
};

struct fuse_mknod_in {
  uint32_t mode;
  uint32_t rdev;
  uint32_t umask;
  uint32_t padding;
};

struct fuse_mkdir_in {
  uint32_t mode;
  uint32_t umask;
};

struct fuse_rename_in {
  uint64_t newdir;
};

struct fuse_rename2_in {
  uint64_t newdir;
  uint32_t flags;
  uint32_t padding;
};

struct fuse_link_in {
  uint64_t oldnodeid;
};

struct fuse_setattr_in {
  uint32_t valid;
  uint32_t padding;
  uint64_t fh;
  uint64_t size;
  uint64_t lock_owner;
  uint64_t atime;
  uint64_t mtime;
  uint64_t ctime;
  uint32_t atimensec;
  uint32_t mtimensec;
  uint32_t ctimensec;
  uint32_t mode;
  uint32_t unused4;
  uint32_t uid;
  uint32_t gid;
  uint32_t unused5;
};

struct fuse_open_in {
  uint32_t flags;
  uint32_t open_flags;
};

struct fuse_create_in {
  uint32_t flags;
  uint32_t mode;
  uint32_t umask;
  uint32_t open_flags;
};

struct fuse_open_out {
  uint64_t fh;
  uint32_t open_flags;
  int32_t backing_id;
};

struct fuse_release_in {
  uint64_t fh;
  uint32_t flags;
  uint32_t release_flags;
  uint64_t lock_owner;
};

struct fuse_flush_in {
  uint64_t fh;
  uint32_t unused;
  uint32_t padding;
  uint64_t lock_owner;
};

struct fuse_read_in {
  uint64_t fh;
  uint64_t offset;
  uint32_t size;
  uint32_t read_flags;
  uint64_t lock_owner;
  uint32_t flags;
  uint32_t padding;
};

struct fuse_write_in {
  uint64_t fh;
  uint64_t offset;
  uint32_t size;
  uint32_t write_flags;
  uint64_t lock_owner;
  uint32_t flags;
  uint32_t padding;
};

struct fuse_write_out {
  uint32_t size;
  uint32_t padding;
};

struct fuse_statfs_out {
  fuse_kstatfs st;
};

struct fuse_fsync_in {
  uint64_t fh;
  uint32_t fsync_flags;
  uint32_t padding;
};

inline constexpr size_t FUSE_COMPAT_SETXATTR_IN_SIZE = 8;

struct fuse_setxattr_in {
  uint32_t size;
  uint32_t flags;
  uint32_t setxattr_flags;
  uint32_t padding;
};

struct fuse_getxattr_in {
  uint32_t size;
  uint32_t padding;
};

struct fuse_getxattr_out {
  uint32_t size;
  uint32_t padding;
};

struct fuse_lk_in {
  uint64_t fh;
  uint64_t owner;
  fuse_file_lock lk;
  uint32_t lk_flags;
  uint32_t padding;
};

struct fuse_lk_out {
  fuse_file_lock lk;
};

struct fuse_access_in {
  uint32_t mask;
  uint32_t padding;
};

struct fuse_init_in {
  uint32_t major;
  uint32_t minor;
  uint32_t max_readahead;
  uint32_t flags;
  uint32_t flags2;
  uint32_t unused[11];
};

struct fuse_init_out {
  uint32_t major;
  uint32_t minor;
  uint32_t max_readahead;
  uint32_t flags;
  uint16_t max_background;
  uint16_t congestion_threshold;
  uint32_t max_write;
  uint32_t time_gran;
  uint16_t max_pages;
  uint16_t map_alignment;
  uint32_t flags2;
  uint32_t max_stack_depth;
  uint16_t request_timeout;
  uint16_t unused[11];
};

struct fuse_interrupt_in {
  uint64_t unique;
};

struct fuse_bmap_in {
  uint64_t block;
  uint32_t blocksize;
  uint32_t padding;
};

struct fuse_bmap_out {
  uint64_t block;
};

struct fuse_ioctl_in {
  uint64_t fh;
  uint32_t flags;
  uint32_t cmd;
  uint64_t arg;
  uint32_t in_size;
  uint32_t out_size;
};

struct fuse_ioctl_iovec {
  uint64_t base;
  uint64_t len;
};

struct fuse_ioctl_out {
  int32_t result;
  uint32_t flags;
  uint32_t in_iovs;
  uint32_t out_iovs;
};

struct fuse_poll_in {
  uint64_t fh;
  uint64_t kh;
  uint32_t flags;
  uint32_t events;
};

struct fuse_poll_out {
  uint32_t revents;
  uint32_t padding;
};

struct fuse_notify_poll_wakeup_out {
  uint64_t kh;
};

struct fuse_fallocate_in {
  uint64_t fh;
  uint64_t offset;
  uint64_t length;
  uint32_t mode;
  uint32_t padding;
};

struct fuse_in_header {
  uint32_t len;
  uint32_t opcode;
  uint64_t unique;
  uint64_t nodeid;
  uint32_t uid;
  uint32_t gid;
  uint32_t pid;
  uint16_t total_extlen;  // in units of 8 bytes
  uint16_t padding;
};

struct fuse_out_header {
  uint32_t len;
  int32_t error;
  uint64_t unique;
};

struct fuse_dirent {
  uint64_t ino;
  uint64_t off;
  uint32_t namelen;
  uint32_t type;
  // followed by the name, padded to 8 bytes
};

struct fuse_direntplus {
  fuse_entry_out entry_out;
  fuse_dirent dirent;
};

struct fuse_notify_inval_inode_out {
  uint64_t ino;
  int64_t off;
  int64_t len;
};

struct fuse_notify_inval_entry_out {
  uint64_t parent;
  uint32_t namelen;
  uint32_t flags;
};

struct fuse_notify_delete_out {
  uint64_t parent;
  uint64_t child;
  uint32_t namelen;
  uint32_t padding;
};

struct fuse_notify_store_out {
  uint64_t nodeid;
  uint64_t offset;
  uint32_t size;
  uint32_t padding;
};

struct fuse_notify_retrieve_out {
  uint64_t notify_unique;
  uint64_t nodeid;
  uint64_t offset;
  uint32_t size;
  uint32_t padding;
};

// The kernel's answer to NOTIFY_RETRIEVE arrives as a NOTIFY_REPLY request
// whose body has the shape of fuse_write_in.
struct fuse_notify_retrieve_in {
  uint64_t dummy1;
  uint64_t offset;
  uint32_t size;
  uint32_t dummy2;
  uint64_t dummy3;
  uint64_t dummy4;
};

struct fuse_notify_prune_out {
  uint32_t count;
  uint32_t padding;
  uint64_t spare;
};

struct fuse_backing_map {
  int32_t fd;
  uint32_t flags;
  uint64_t padding;
};

inline constexpr unsigned kDevIocMagic = 229;
inline constexpr unsigned long FUSE_DEV_IOC_CLONE = _IOR(kDevIocMagic, 0, uint32_t);
inline constexpr unsigned long FUSE_DEV_IOC_BACKING_OPEN =
    _IOW(kDevIocMagic, 1, fuse_backing_map);
inline constexpr unsigned long FUSE_DEV_IOC_BACKING_CLOSE = _IOW(kDevIocMagic, 2, uint32_t);
// Kernel 6.18 (no minor bump): ask for FUSE_INIT to be handled during mount;
// ENOTTY means the kernel does not support it.
inline constexpr unsigned long FUSE_DEV_IOC_SYNC_INIT = _IO(kDevIocMagic, 3);

struct fuse_lseek_in {
  uint64_t fh;
  uint64_t offset;
  uint32_t whence;
  uint32_t padding;
};

struct fuse_lseek_out {
  uint64_t offset;
};

struct fuse_copy_file_range_in {
  uint64_t fh_in;
  uint64_t off_in;
  uint64_t nodeid_out;
  uint64_t fh_out;
  uint64_t off_out;
  uint64_t len;
  uint64_t flags;
};

struct fuse_copy_file_range_out {
  uint64_t bytes_copied;
};

struct fuse_setupmapping_in {
  uint64_t fh;
  uint64_t foffset;
  uint64_t len;
  uint64_t flags;
  uint64_t moffset;
};

struct fuse_removemapping_in {
  uint32_t count;
};

struct fuse_removemapping_one {
  uint64_t moffset;
  uint64_t len;
};

struct fuse_syncfs_in {
  uint64_t padding;
};

// Security context (FUSE_SECURITY_CTX): a fuse_secctx_header, then per context
// a fuse_secctx followed by the name and the context value.
struct fuse_secctx {
  uint32_t size;
  uint32_t padding;
};

struct fuse_secctx_header {
  uint32_t size;
  uint32_t nr_secctx;
};

// Request extensions follow the request's arguments when total_extlen != 0.
struct fuse_ext_header {
  uint32_t size;
  uint32_t type;
};

enum fuse_ext_type : uint32_t {
  FUSE_MAX_NR_SECCTX = 31,  // types 0..31 are security contexts
  FUSE_EXT_GROUPS = 32,
};

struct fuse_supp_groups {
  uint32_t nr_groups;
  // followed by nr_groups uint32_t
};

// io_uring transport (FUSE_OVER_IO_URING, 7.42).
inline constexpr size_t FUSE_URING_IN_OUT_HEADER_SZ = 128;
inline constexpr size_t FUSE_URING_OP_IN_OUT_SZ = 128;

struct fuse_uring_ent_in_out {
  uint64_t flags;
  uint64_t commit_id;
  uint32_t payload_sz;
  uint32_t padding;
  uint64_t reserved;
};

struct fuse_uring_req_header {
  char in_out[FUSE_URING_IN_OUT_HEADER_SZ];
  char op_in[FUSE_URING_OP_IN_OUT_SZ];
  fuse_uring_ent_in_out ring_ent_in_out;
};

enum fuse_uring_cmd : uint32_t {
  FUSE_IO_URING_CMD_INVALID = 0,
  FUSE_IO_URING_CMD_REGISTER = 1,
  FUSE_IO_URING_CMD_COMMIT_AND_FETCH = 2,
};

// Lives in the SQE's command area.
struct fuse_uring_cmd_req {
  uint64_t flags;
  uint64_t commit_id;
  uint16_t qid;
  uint8_t padding[6];
};

static_assert(sizeof(fuse_attr) == 88);
static_assert(sizeof(fuse_sx_time) == 16);
static_assert(sizeof(fuse_statx) == 256);
static_assert(sizeof(fuse_kstatfs) == 80);
static_assert(sizeof(fuse_file_lock) == 24);
static_assert(sizeof(fuse_entry_out) == 128);
static_assert(sizeof(fuse_forget_in) == 8);
static_assert(sizeof(fuse_forget_one) == 16);
static_assert(sizeof(fuse_batch_forget_in) == 8);
static_assert(sizeof(fuse_getattr_in) == 16);
static_assert(sizeof(fuse_attr_out) == 104);
static_assert(sizeof(fuse_statx_in) == 24);
static_assert(sizeof(fuse_statx_out) == 288);
static_assert(sizeof(fuse_mknod_in) == 16);
static_assert(sizeof(fuse_mkdir_in) == 8);
static_assert(sizeof(fuse_rename_in) == 8);
static_assert(sizeof(fuse_rename2_in) == 16);
static_assert(sizeof(fuse_link_in) == 8);
static_assert(sizeof(fuse_setattr_in) == 88);
static_assert(sizeof(fuse_open_in) == 8);
static_assert(sizeof(fuse_create_in) == 16);
static_assert(sizeof(fuse_open_out) == 16);
static_assert(sizeof(fuse_release_in) == 24);
static_assert(sizeof(fuse_flush_in) == 24);
static_assert(sizeof(fuse_read_in) == 40);
static_assert(sizeof(fuse_write_in) == 40);
static_assert(sizeof(fuse_write_out) == 8);
static_assert(sizeof(fuse_statfs_out) == 80);
static_assert(sizeof(fuse_fsync_in) == 16);
static_assert(sizeof(fuse_setxattr_in) == 16);
static_assert(sizeof(fuse_getxattr_in) == 8);
static_assert(sizeof(fuse_getxattr_out) == 8);
static_assert(sizeof(fuse_lk_in) == 48);
static_assert(sizeof(fuse_lk_out) == 24);
static_assert(sizeof(fuse_access_in) == 8);
static_assert(sizeof(fuse_init_in) == 64);
static_assert(sizeof(fuse_init_out) == 64);
static_assert(sizeof(fuse_interrupt_in) == 8);
static_assert(sizeof(fuse_bmap_in) == 16);
static_assert(sizeof(fuse_bmap_out) == 8);
static_assert(sizeof(fuse_ioctl_in) == 32);
static_assert(sizeof(fuse_ioctl_iovec) == 16);
static_assert(sizeof(fuse_ioctl_out) == 16);
static_assert(sizeof(fuse_poll_in) == 24);
static_assert(sizeof(fuse_poll_out) == 8);
static_assert(sizeof(fuse_notify_poll_wakeup_out) == 8);
static_assert(sizeof(fuse_fallocate_in) == 32);
static_assert(sizeof(fuse_in_header) == 40);
static_assert(sizeof(fuse_out_header) == 16);
static_assert(sizeof(fuse_dirent) == 24);
static_assert(sizeof(fuse_direntplus) == 152);
static_assert(sizeof(fuse_notify_inval_inode_out) == 24);
static_assert(sizeof(fuse_notify_inval_entry_out) == 16);
static_assert(sizeof(fuse_notify_delete_out) == 24);
static_assert(sizeof(fuse_notify_store_out) == 24);
static_assert(sizeof(fuse_notify_retrieve_out) == 32);
static_assert(sizeof(fuse_notify_retrieve_in) == 40);
static_assert(sizeof(fuse_notify_prune_out) == 16);
static_assert(sizeof(fuse_backing_map) == 16);
static_assert(sizeof(fuse_lseek_in) == 24);
static_assert(sizeof(fuse_lseek_out) == 8);
static_assert(sizeof(fuse_copy_file_range_in) == 56);
static_assert(sizeof(fuse_copy_file_range_out) == 8);
static_assert(sizeof(fuse_setupmapping_in) == 40);
static_assert(sizeof(fuse_removemapping_in) == 4);
static_assert(sizeof(fuse_removemapping_one) == 16);
static_assert(sizeof(fuse_syncfs_in) == 8);
static_assert(sizeof(fuse_ext_header) == 8);
static_assert(sizeof(fuse_supp_groups) == 4);
static_assert(sizeof(fuse_secctx) == 8);
static_assert(sizeof(fuse_secctx_header) == 8);
static_assert(sizeof(fuse_uring_ent_in_out) == 32);
static_assert(sizeof(fuse_uring_req_header) == 288);
static_assert(sizeof(fuse_uring_cmd_req) == 24);
static_assert(offsetof(fuse_init_out, request_timeout) == 40);
static_assert(offsetof(fuse_statx, ino) == 32);
static_assert(offsetof(fuse_statx_out, stat) == 32);
static_assert(offsetof(fuse_open_out, backing_id) == 12);
static_assert(offsetof(fuse_init_out, max_stack_depth) == 36);
static_assert(offsetof(fuse_in_header, total_extlen) == 36);

}  // namespace fusekit::abi
