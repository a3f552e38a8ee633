// INIT capabilities a filesystem may ask for (Config::want) and find granted
// (ConnectionInfo::flags). Values are the kernel's INIT flag bits; session.cc
// checks them against the ABI definitions.
#pragma once

#include <cstdint>
#include <string>

namespace fusekit::cap {

inline constexpr uint64_t kAsyncRead = 1ull << 0;
inline constexpr uint64_t kPosixLocks = 1ull << 1;
inline constexpr uint64_t kAtomicOTrunc = 1ull << 3;
inline constexpr uint64_t kExportSupport = 1ull << 4;
inline constexpr uint64_t kBigWrites = 1ull << 5;
inline constexpr uint64_t kDontMask = 1ull << 6;
inline constexpr uint64_t kSpliceWrite = 1ull << 7;
inline constexpr uint64_t kSpliceMove = 1ull << 8;
inline constexpr uint64_t kSpliceRead = 1ull << 9;
inline constexpr uint64_t kFlockLocks = 1ull << 10;
inline constexpr uint64_t kIoctlDir = 1ull << 11;
inline constexpr uint64_t kAutoInvalData = 1ull << 12;
inline constexpr uint64_t kReaddirplus = 1ull << 13;
inline constexpr uint64_t kReaddirplusAuto = 1ull << 14;
inline constexpr uint64_t kAsyncDio = 1ull << 15;
inline constexpr uint64_t kWritebackCache = 1ull << 16;
inline constexpr uint64_t kNoOpenSupport = 1ull << 17;
inline constexpr uint64_t kParallelDirops = 1ull << 18;
inline constexpr uint64_t kHandleKillpriv = 1ull << 19;
inline constexpr uint64_t kPosixAcl = 1ull << 20;
inline constexpr uint64_t kAbortError = 1ull << 21;
inline constexpr uint64_t kMaxPages = 1ull << 22;
inline constexpr uint64_t kCacheSymlinks = 1ull << 23;
inline constexpr uint64_t kNoOpendirSupport = 1ull << 24;
inline constexpr uint64_t kExplicitInvalData = 1ull << 25;
inline constexpr uint64_t kSubmounts = 1ull << 27;
inline constexpr uint64_t kHandleKillprivV2 = 1ull << 28;
inline constexpr uint64_t kSetxattrExt = 1ull << 29;
inline constexpr uint64_t kSecurityCtx = 1ull << 32;
inline constexpr uint64_t kCreateSuppGroup = 1ull << 34;
inline constexpr uint64_t kExpireOnly = 1ull << 35;
inline constexpr uint64_t kDirectIoAllowMmap = 1ull << 36;
inline constexpr uint64_t kPassthrough = 1ull << 37;
inline constexpr uint64_t kNoExportSupport = 1ull << 38;
inline constexpr uint64_t kHasResend = 1ull << 39;
inline constexpr uint64_t kAllowIdmap = 1ull << 40;
inline constexpr uint64_t kOverIoUring = 1ull << 41;
inline constexpr uint64_t kRequestTimeout = 1ull << 42;

// "async_read,posix_locks,..." for logs and -d output.
std::string Describe(uint64_t flags);

}  // namespace fusekit::cap
