#include "fusekit/capabilities.h"

#include "fusekit/abi/fuse_abi.h"

namespace fusekit::cap {

namespace {
struct Named {
  uint64_t flag;
  const char* name;
};
constexpr Named kNames[] = {
    {kAsyncRead, "async_read"},
    {kPosixLocks, "posix_locks"},
    {kAtomicOTrunc, "atomic_o_trunc"},
    {kExportSupport, "export_support"},
    {kBigWrites, "big_writes"},
    {kDontMask, "dont_mask"},
    {kSpliceWrite, "splice_write"},
    {kSpliceMove, "splice_move"},
    {kSpliceRead, "splice_read"},
    {kFlockLocks, "flock_locks"},
    {kIoctlDir, "ioctl_dir"},
    {kAutoInvalData, "auto_inval_data"},
    {kReaddirplus, "readdirplus"},
    {kReaddirplusAuto, "readdirplus_auto"},
    {kAsyncDio, "async_dio"},
    {kWritebackCache, "writeback_cache"},
    {kNoOpenSupport, "no_open_support"},
    {kParallelDirops, "parallel_dirops"},
    {kHandleKillpriv, "handle_killpriv"},
    {kPosixAcl, "posix_acl"},
    {kAbortError, "abort_error"},
    {kMaxPages, "max_pages"},
    {kCacheSymlinks, "cache_symlinks"},
    {kNoOpendirSupport, "no_opendir_support"},
    {kExplicitInvalData, "explicit_inval_data"},
    {abi::FUSE_MAP_ALIGNMENT, "map_alignment"},
    {kSubmounts, "submounts"},
    {kHandleKillprivV2, "handle_killpriv_v2"},
    {kSetxattrExt, "setxattr_ext"},
    {abi::FUSE_INIT_EXT, "init_ext"},
    {kSecurityCtx, "security_ctx"},
    {abi::FUSE_HAS_INODE_DAX, "inode_dax"},
    {kCreateSuppGroup, "create_supp_group"},
    {kExpireOnly, "expire_only"},
    {kDirectIoAllowMmap, "direct_io_allow_mmap"},
    {kPassthrough, "passthrough"},
    {kNoExportSupport, "no_export_support"},
    {kHasResend, "has_resend"},
    {kAllowIdmap, "allow_idmap"},
    {kOverIoUring, "over_io_uring"},
    {kRequestTimeout, "request_timeout"},
};

// The public constants are the ABI's bits: a mismatch is a build error.
static_assert(kAsyncRead == abi::FUSE_ASYNC_READ && kPosixLocks == abi::FUSE_POSIX_LOCKS &&
              kAtomicOTrunc == abi::FUSE_ATOMIC_O_TRUNC &&
              kExportSupport == abi::FUSE_EXPORT_SUPPORT && kBigWrites == abi::FUSE_BIG_WRITES &&
              kDontMask == abi::FUSE_DONT_MASK && kSpliceWrite == abi::FUSE_SPLICE_WRITE &&
              kSpliceMove == abi::FUSE_SPLICE_MOVE && kSpliceRead == abi::FUSE_SPLICE_READ &&
              kFlockLocks == abi::FUSE_FLOCK_LOCKS && kIoctlDir == abi::FUSE_HAS_IOCTL_DIR &&
              kAutoInvalData == abi::FUSE_AUTO_INVAL_DATA &&
              kReaddirplus == abi::FUSE_DO_READDIRPLUS &&
              kReaddirplusAuto == abi::FUSE_READDIRPLUS_AUTO && kAsyncDio == abi::FUSE_ASYNC_DIO &&
              kWritebackCache == abi::FUSE_WRITEBACK_CACHE &&
              kNoOpenSupport == abi::FUSE_NO_OPEN_SUPPORT &&
              kParallelDirops == abi::FUSE_PARALLEL_DIROPS &&
              kHandleKillpriv == abi::FUSE_HANDLE_KILLPRIV && kPosixAcl == abi::FUSE_POSIX_ACL &&
              kAbortError == abi::FUSE_ABORT_ERROR && kMaxPages == abi::FUSE_MAX_PAGES &&
              kCacheSymlinks == abi::FUSE_CACHE_SYMLINKS &&
              kNoOpendirSupport == abi::FUSE_NO_OPENDIR_SUPPORT &&
              kExplicitInvalData == abi::FUSE_EXPLICIT_INVAL_DATA &&
              kSubmounts == abi::FUSE_SUBMOUNTS &&
              kHandleKillprivV2 == abi::FUSE_HANDLE_KILLPRIV_V2 &&
              kSetxattrExt == abi::FUSE_SETXATTR_EXT && kSecurityCtx == abi::FUSE_SECURITY_CTX &&
              kCreateSuppGroup == abi::FUSE_CREATE_SUPP_GROUP &&
              kExpireOnly == abi::FUSE_HAS_EXPIRE_ONLY &&
              kDirectIoAllowMmap == abi::FUSE_DIRECT_IO_ALLOW_MMAP &&
              kPassthrough == abi::FUSE_PASSTHROUGH &&
              kNoExportSupport == abi::FUSE_NO_EXPORT_SUPPORT &&
              kHasResend == abi::FUSE_HAS_RESEND && kAllowIdmap == abi::FUSE_ALLOW_IDMAP &&
              kOverIoUring == abi::FUSE_OVER_IO_URING &&
              kRequestTimeout == abi::FUSE_REQUEST_TIMEOUT);
}  // namespace

std::string Describe(uint64_t flags) {
  std::string out;
  for (const auto& n : kNames) {
    if (!(flags & n.flag)) continue;
    if (!out.empty()) out += ',';
    out += n.name;
    flags &= ~n.flag;
  }
  for (int bit = 0; bit < 64; ++bit) {
    if (!(flags & (1ull << bit))) continue;
    if (!out.empty()) out += ',';
    out += "bit" + std::to_string(bit);
  }
  return out;
}

}  // namespace fusekit::cap
