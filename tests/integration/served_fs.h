// PassthroughFs served in-process over a SOURCE directory: what the suites
// that mount it and compare it with native share.
//
// Thread-safety: none; use from the test's thread.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "mount_fixture.h"
#include "passthrough_fs.h"

namespace passthroughfs::test {

// The ways of moving file data that the comparison suites run under.
enum class IoMode { kPassthrough, kNever, kDirectIo, kIoUring };

inline const char* IoModeName(IoMode mode) {
  switch (mode) {
    case IoMode::kPassthrough: return "Passthrough";
    case IoMode::kNever: return "PassthroughNever";
    case IoMode::kDirectIo: return "DirectIo";
    case IoMode::kIoUring: return "IoUring";
  }
  return "?";
}

inline void ApplyIoMode(IoMode mode, FsOptions& options) {
  options.passthrough = mode == IoMode::kNever ? PassthroughMode::kNever : PassthroughMode::kAuto;
  options.direct_io = mode == IoMode::kDirectIo;
  options.io_uring = mode == IoMode::kIoUring;
}

// Whether the kernel's FUSE-over-io_uring switch is on: ctest's
// enable_uring fixture turns it on for the suites that need it.
inline bool UringEnabled() {
  std::ifstream param("/sys/module/fuse/parameters/enable_uring");
  std::string on;
  param >> on;
  return on == "Y";
}

#define SKIP_UNLESS_URING_ENABLED()                                                  \
  do {                                                                               \
    if (!::passthroughfs::test::UringEnabled())                                   \
      GTEST_SKIP() << "enable_uring is off: run through ctest, whose fixture sets it"; \
  } while (0)

// A mounted PassthroughFs. The mount goes (its session stopped, checked
// once) before the filesystem.
class ServedFs {
 public:
  ServedFs() = default;
  ServedFs(ServedFs&&) = default;
  ServedFs& operator=(ServedFs&& other) {
    Stop();
    mount_ = std::move(other.mount_);
    fs_ = std::move(other.fs_);
    return *this;
  }
  ~ServedFs() { Stop(); }

  explicit operator bool() const { return fs_ && mount_; }
  PassthroughFs& fs() const { return *fs_; }
  const std::string& path() const { return mount_->path(); }

  // Unmounts and joins the session; a session that had to be aborted, or
  // that failed, fails the test.
  void Stop() {
    Unmount();
    fs_.reset();
  }
  // As Stop, but the filesystem stays, for a look at what it holds after.
  void Unmount() {
    if (mount_) {
      EXPECT_TRUE(mount_->Stop()) << "the session on " << mount_->path() << " did not stop cleanly";
    }
    mount_.reset();
  }

 private:
  friend ServedFs Serve(const std::string&, const FsOptions&, const fusekit::MountOptions&);
  std::unique_ptr<PassthroughFs> fs_;
  std::unique_ptr<fusekit::testing::InProcessMount> mount_;
};

// Serves `source` with `options` at a fresh mount point, and waits for
// INIT and a stat of the root. Fails the test, and returns an empty
// ServedFs, if it cannot.
inline ServedFs Serve(const std::string& source, const FsOptions& options,
                      const fusekit::MountOptions& mount_options = {}) {
  ServedFs served;
  auto fs = PassthroughFs::Create(
      fusekit::UniqueFd(::open(source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), options);
  if (!fs) {
    ADD_FAILURE() << "PassthroughFs over " << source << ": " << fs.error().message();
    return served;
  }
  served.fs_ = std::move(*fs);
  served.mount_ = fusekit::testing::InProcessMount::Start(*served.fs_, served.fs_->SessionConfig(),
                                                          mount_options);
  if (!served.mount_) return ServedFs();
  struct stat st;
  if (::stat(served.path().c_str(), &st) != 0) {
    ADD_FAILURE() << "stat " << served.path() << ": " << std::strerror(errno);
    return ServedFs();
  }
  return served;
}

}  // namespace passthroughfs::test
