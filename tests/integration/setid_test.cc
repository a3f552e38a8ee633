// setuid and setgid bits under changes made by unprivileged users: every
// case runs twice in one test, once in a native directory and once through
// passthroughfs (allow_other, default_permissions, the daemon root), each
// as an unprivileged uid in a forked child, and both must leave the same
// bits. The kernel's own rules are the oracle, so the cases hold on any
// kernel that keeps them.
//
// Modes: Passthrough (file I/O through backing files), PassthroughNever,
// DirectIo, IoUring (passthrough over FUSE-over-io_uring; ctest's
// enable_uring fixture turns the switch on), NoDefaultPermissions
// (passthrough, allow_other without default_permissions: the source
// filesystem checks as the caller).
#include <fcntl.h>
#include <grp.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mount_fixture.h"
#include "passthrough_fs.h"
#include "served_fs.h"

namespace passthroughfs {
namespace {

using fusekit::UniqueFd;
using fusekit::testing::TempDir;

constexpr uid_t kUser = 4321;
constexpr gid_t kUserGroup = 4321;

enum class Mode { kPassthrough, kNever, kDirectIo, kIoUring, kNoDefaultPermissions };

std::string ModeName(const testing::TestParamInfo<Mode>& info) {
  switch (info.param) {
    case Mode::kPassthrough: return "Passthrough";
    case Mode::kNever: return "PassthroughNever";
    case Mode::kDirectIo: return "DirectIo";
    case Mode::kIoUring: return "IoUring";
    case Mode::kNoDefaultPermissions: return "NoDefaultPermissions";
  }
  return "?";
}

// What the unprivileged child does to the file at `path` (the other file of
// the pair, for copy_file_range, is `path` + ".from"). Returns 0 or the
// errno it failed with. Runs after fork() in a process whose parent serves
// the mount: syscalls only.
using Action = int (*)(const char* path, void* aligned_block);

int Truncate(const char* path, void*) { return ::truncate(path, 1) == 0 ? 0 : errno; }

int Ftruncate(const char* path, void*) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = ::ftruncate(fd, 2) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

int OpenTrunc(const char* path, void*) {
  int fd = ::open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

int Write(const char* path, void*) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = ::pwrite(fd, "x", 1, 1) == 1 ? 0 : errno;
  ::close(fd);
  return rc;
}

int Append(const char* path, void*) {
  int fd = ::open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = ::write(fd, "x", 1) == 1 ? 0 : errno;
  ::close(fd);
  return rc;
}

int DirectWrite(const char* path, void* block) {
  int fd = ::open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = ::pwrite(fd, block, 4096, 0) == 4096 ? 0 : errno;
  ::close(fd);
  return rc;
}

int Fallocate(const char* path, void*) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = ::fallocate(fd, 0, 0, 8192) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

int FallocateKeepSize(const char* path, void*) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 65536) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

int CopyInto(const char* path, void*) {
  char from[4096];
  size_t n = std::strlen(path);
  if (n + 6 >= sizeof(from)) return ENAMETOOLONG;
  std::memcpy(from, path, n);
  std::memcpy(from + n, ".from", 6);
  int in = ::open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) return errno;
  int out = ::open(path, O_WRONLY | O_CLOEXEC);
  if (out < 0) {
    int e = errno;
    ::close(in);
    return e;
  }
  loff_t off_in = 0, off_out = 0;
  int rc = ::copy_file_range(in, &off_in, out, &off_out, 4, 0) == 4 ? 0 : errno;
  ::close(in);
  ::close(out);
  return rc;
}

int ChmodSetgid(const char* path, void*) { return ::chmod(path, 02775) == 0 ? 0 : errno; }

int ChownToSelf(const char* path, void*) {
  return ::chown(path, kUser, kUserGroup) == 0 ? 0 : errno;
}

struct Outcome {
  int result = -1;   // the child's errno, 0 on success
  mode_t mode = 0;   // the file's permission bits afterwards
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{" << (o.result == 0 ? std::string("ok") : std::strerror(o.result)) << ", 0"
            << std::oct << o.mode << std::dec << "}";
}

// The file a case starts from.
struct Start {
  mode_t mode;
  uid_t owner;
  gid_t group;
};

class Setid : public testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    // mkdtemp makes 0700 directories: let the unprivileged user through.
    ::chmod(tmp_.path().c_str(), 0755);
    native_ = tmp_.Sub("native");
    source_ = tmp_.Sub("source");
    ::chmod(native_.c_str(), 0777);
    ::chmod(source_.c_str(), 0777);
    if (GetParam() == Mode::kIoUring) SKIP_UNLESS_URING_ENABLED();
    FsOptions options;
    switch (GetParam()) {
      case Mode::kNever: test::ApplyIoMode(test::IoMode::kNever, options); break;
      case Mode::kDirectIo: test::ApplyIoMode(test::IoMode::kDirectIo, options); break;
      case Mode::kIoUring: test::ApplyIoMode(test::IoMode::kIoUring, options); break;
      default: test::ApplyIoMode(test::IoMode::kPassthrough, options);
    }
    const bool kernel_checks = GetParam() != Mode::kNoDefaultPermissions;
    options.default_permissions = kernel_checks;
    options.no_default_permissions = !kernel_checks;
    options.allow_other = true;
    fusekit::MountOptions mount_options;
    mount_options.allow_other = true;
    mount_options.default_permissions = kernel_checks;
    served_ = test::Serve(source_, options, mount_options);
    umask_ = ::umask(022);  // Create set it to 0; the native half wants a usual one
    ASSERT_TRUE(served_);
    mnt_ = served_.path();
    ::chmod(mnt_.substr(0, mnt_.rfind('/')).c_str(), 0755);
    if (GetParam() != Mode::kNever) {
      ASSERT_TRUE(served_.fs().passthrough_active()) << served_.fs().PassthroughStatus();
    }
    ASSERT_EQ(::posix_memalign(&block_, 4096, 4096), 0);
    std::memset(block_, 'd', 4096);
  }
  void TearDown() override {
    served_.Stop();
    ::umask(umask_);
    std::free(block_);
  }

  // Runs `action` as kUser (groups: its own only) on `path`.
  int AsUser(Action action, const std::string& path) {
    const char* p = path.c_str();
    void* block = block_;
    pid_t pid = ::fork();
    if (pid == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(kUserGroup, kUserGroup, kUserGroup) != 0 ||
          ::setresuid(kUser, kUser, kUser) != 0)
        ::_exit(250);
      ::_exit(action(p, block));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 251;
  }

  // Creates `path` as root with a few bytes and `mode`.
  static void WriteAll(const std::string& path, mode_t mode) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd) << path << ": " << std::strerror(errno);
    ASSERT_EQ(::write(fd.get(), "hello", 5), 5);
    ASSERT_EQ(::fchmod(fd.get(), mode), 0);
  }

  // Prepares `name` in `dir` as root, lets kUser run `action` on it, and
  // says what came of it.
  Outcome Run(const std::string& dir, const std::string& name, const Start& start, Action action) {
    std::string path = dir + "/" + name;
    Outcome out;
    for (const std::string& file : {path, path + ".from"}) {
      UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
      EXPECT_TRUE(fd) << file << ": " << std::strerror(errno);
      if (!fd) return out;
      EXPECT_EQ(::write(fd.get(), "hello", 5), 5);
    }
    EXPECT_EQ(::chown(path.c_str(), start.owner, start.group), 0) << std::strerror(errno);
    EXPECT_EQ(::chmod(path.c_str(), start.mode), 0) << std::strerror(errno);
    EXPECT_EQ(::chmod((path + ".from").c_str(), 0644), 0);
    out.result = AsUser(action, path);
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    out.mode = st.st_mode & 07777;
    return out;
  }

  // The same case natively and through the mount; the mount must do what
  // the native filesystem did, and SOURCE must show it too.
  void Compare(const std::string& what, Action action, const std::vector<Start>& starts) {
    int i = 0;
    for (const Start& start : starts) {
      std::string name = what + "-" + std::to_string(i++);
      Outcome native = Run(native_, name, start, action);
      Outcome mounted = Run(mnt_, name, start, action);
      std::ostringstream label;
      label << what << " of a 0" << std::oct << start.mode << std::dec << " file owned by "
            << start.owner << ":" << start.group << " as uid " << kUser;
      EXPECT_EQ(mounted, native) << label.str();
      struct stat st {};
      ASSERT_EQ(::stat((source_ + "/" + name).c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 07777, mounted.mode) << label.str() << ": SOURCE shows another mode";
    }
  }

  // Writable by kUser, with each combination of the bits: a group kUser is
  // not in (root) and its own group.
  static std::vector<Start> WritableSetidFiles() {
    std::vector<Start> starts;
    for (gid_t group : {gid_t{0}, kUserGroup}) {
      for (mode_t mode : {06666, 06676, 06777, 04666, 02666, 02676}) {
        starts.push_back({mode, 0, group});
      }
    }
    return starts;
  }

  TempDir tmp_;
  std::string native_, source_, mnt_;
  test::ServedFs served_;
  mode_t umask_ = 022;
  void* block_ = nullptr;
};

TEST_P(Setid, Truncate) { Compare("truncate", Truncate, WritableSetidFiles()); }
TEST_P(Setid, Ftruncate) { Compare("ftruncate", Ftruncate, WritableSetidFiles()); }
TEST_P(Setid, OpenWithOTrunc) { Compare("otrunc", OpenTrunc, WritableSetidFiles()); }
TEST_P(Setid, Write) { Compare("write", Write, WritableSetidFiles()); }
TEST_P(Setid, Append) { Compare("append", Append, WritableSetidFiles()); }
TEST_P(Setid, DirectWrite) { Compare("odirect", DirectWrite, WritableSetidFiles()); }
TEST_P(Setid, Fallocate) { Compare("fallocate", Fallocate, WritableSetidFiles()); }
TEST_P(Setid, FallocateKeepSize) { Compare("fallocate-keep", FallocateKeepSize, WritableSetidFiles()); }
TEST_P(Setid, CopyFileRangeTarget) { Compare("copy", CopyInto, WritableSetidFiles()); }

// The owner, not in the file's group, asks for setgid: natively the bit is
// dropped.
TEST_P(Setid, ChmodByANonMember) {
  Compare("chmod", ChmodSetgid, {{0755, kUser, 0}, {0775, kUser, kUserGroup}});
}

// chown by the owner to its own group kills setuid, and setgid where the
// kernel's rules say so.
TEST_P(Setid, ChownByTheOwner) {
  Compare("chown", ChownToSelf,
          {{06755, kUser, 0}, {06745, kUser, 0}, {04755, kUser, 0}, {02755, kUser, 0},
           {06755, kUser, kUserGroup}, {02745, kUser, kUserGroup}});
}

// The bits are given while the file is open for writing (through
// passthrough, where the mode allows it), then the open file is written:
// an unprivileged writer clears them, as natively.
TEST_P(Setid, BitsGivenWhileOpenAreClearedByTheNextUnprivilegedWrite) {
  auto run = [&](const std::string& dir) {
    std::string path = dir + "/given-while-open";
    WriteAll(path, 0666);
    int opened[2], go[2];
    EXPECT_EQ(::pipe2(opened, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(go, O_CLOEXEC), 0);
    const char* p = path.c_str();
    pid_t pid = ::fork();
    if (pid == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(kUserGroup, kUserGroup, kUserGroup) != 0 ||
          ::setresuid(kUser, kUser, kUser) != 0)
        ::_exit(250);
      int fd = ::open(p, O_WRONLY | O_CLOEXEC);
      if (fd < 0) ::_exit(251);
      char c = 0;
      if (::write(opened[1], &c, 1) != 1 || ::read(go[0], &c, 1) != 1) ::_exit(252);
      ::_exit(::pwrite(fd, "x", 1, 0) == 1 ? 0 : 253);
    }
    char c;
    EXPECT_EQ(::read(opened[0], &c, 1), 1);
    EXPECT_EQ(::chmod(path.c_str(), 06777), 0);
    EXPECT_EQ(::write(go[1], &c, 1), 1);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    for (int fd : {opened[0], opened[1], go[0], go[1]}) ::close(fd);
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  };
  mode_t native = run(native_);
  EXPECT_EQ(native, 0777u) << "the kernel's own rule";
  EXPECT_EQ(run(mnt_), native);
  if (GetParam() == Mode::kPassthrough || GetParam() == Mode::kIoUring) {
    EXPECT_GT(served_.fs().counters().passthrough_opens.load(), 0u) << "the write went through passthrough";
  }
}

// A root writer keeps the bits natively. Through the mount it does too,
// except where the bits were given while the file was open for writing
// through passthrough: its backing file writes as a writer without
// CAP_FSETID, so the bits go (the one case where the mount clears more than
// the kernel would; the safe side).
TEST_P(Setid, RootWriterKeepsBitsExceptThoseGivenWhileOpenThroughPassthrough) {
  for (const std::string& dir : {native_, mnt_}) {
    std::string path = dir + "/root-writer";
    WriteAll(path, 06755);
    {
      UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
      ASSERT_TRUE(fd);
      ASSERT_EQ(::pwrite(fd.get(), "x", 1, 0), 1);
    }
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 06755u) << path << ": a root writer of a setid file";

    std::string later = dir + "/root-writer-later";
    WriteAll(later, 0755);
    UniqueFd fd(::open(later.c_str(), O_WRONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    ASSERT_EQ(::fchmod(fd.get(), 06755), 0);
    ASSERT_EQ(::pwrite(fd.get(), "x", 1, 0), 1);
    fd.reset();
    ASSERT_EQ(::stat(later.c_str(), &st), 0);
    bool cleared = dir == mnt_ && GetParam() != Mode::kNever && GetParam() != Mode::kDirectIo;
    EXPECT_EQ(st.st_mode & 07777, cleared ? 0755u : 06755u) << later;
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, Setid,
                         testing::Values(Mode::kPassthrough, Mode::kNever, Mode::kDirectIo,
                                         Mode::kIoUring, Mode::kNoDefaultPermissions),
                         ModeName);

}  // namespace
}  // namespace passthroughfs
