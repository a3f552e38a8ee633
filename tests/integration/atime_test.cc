// The mount's atime options (noatime, relatime, strictatime, nodiratime)
// against a native mount with the same options: a bind mount of a sibling
// directory on the same filesystem. Each case sets a file's (or
// directory's, or symlink's) atime, accesses it through both, and checks
// that SOURCE's atime moved through the FUSE mount exactly when the native
// mount moved it.
//
// Modes: Passthrough (reads go to the backing file), PassthroughNever and
// DirectIo (reads go to the daemon), IoUring (passthrough over
// FUSE-over-io_uring; ctest's enable_uring fixture turns the switch on). The files are created in SOURCE
// directly, so no page cache of the FUSE inode hides a first read.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "mount_fixture.h"
#include "passthrough_fs.h"
#include "served_fs.h"

namespace passthroughfs {
namespace {

using fusekit::Atime;
using fusekit::UniqueFd;
using fusekit::testing::TempDir;
using test::ApplyIoMode;
using test::IoModeName;
using test::Serve;
using test::ServedFs;
using Mode = test::IoMode;

struct Param {
  Atime atime;
  bool nodiratime;
  Mode mode;
};

std::string Name(const testing::TestParamInfo<Param>& info) {
  std::string n = info.param.atime == Atime::kNoatime       ? "Noatime"
                  : info.param.atime == Atime::kStrictatime ? "Strictatime"
                                                            : "Relatime";
  if (info.param.nodiratime) n += "Nodiratime";
  return n + IoModeName(info.param.mode);
}

unsigned long MountFlags(const Param& p) {
  unsigned long flags = p.atime == Atime::kNoatime       ? MS_NOATIME
                        : p.atime == Atime::kStrictatime ? MS_STRICTATIME
                                                         : MS_RELATIME;
  return flags | (p.nodiratime ? MS_NODIRATIME : 0);
}

constexpr time_t kLongAgo = 1'577'836'800;  // 2020-01-01: older than ctime and than a day

class AtimeOptions : public testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    if (GetParam().mode == Mode::kIoUring) SKIP_UNLESS_URING_ENABLED();
    native_ = tmp_.Sub("native");
    native_view_ = tmp_.Sub("native-view");
    source_ = tmp_.Sub("source");
    ASSERT_EQ(::mount(native_.c_str(), native_view_.c_str(), nullptr, MS_BIND, nullptr), 0)
        << std::strerror(errno);
    ASSERT_EQ(::mount(nullptr, native_view_.c_str(), nullptr,
                      MS_REMOUNT | MS_BIND | MountFlags(GetParam()), nullptr),
              0)
        << std::strerror(errno);
    FsOptions options;
    options.atime = GetParam().atime;
    options.nodiratime = GetParam().nodiratime;
    ApplyIoMode(GetParam().mode, options);
    fusekit::MountOptions mount_options;
    mount_options.atime = GetParam().atime;
    mount_options.nodiratime = GetParam().nodiratime;
    served_ = Serve(source_, options, mount_options);
    ASSERT_TRUE(served_);
  }
  void TearDown() override {
    served_.Stop();
    ::umount2(native_view_.c_str(), MNT_DETACH);
  }

  // In `dir` (on the filesystem, not through a view): the file, directory
  // and symlink the cases use, each with atime `atime`.
  static void Prepare(const std::string& dir, timespec atime) {
    {
      UniqueFd fd(::open((dir + "/file").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755));
      ASSERT_TRUE(fd);
      ASSERT_EQ(::write(fd.get(), "#!/bin/sh\nexit 0\n", 17), 17);
    }
    ASSERT_EQ(::mkdir((dir + "/dir").c_str(), 0755), 0);
    ASSERT_EQ(::symlink("file", (dir + "/link").c_str()), 0);
    timespec times[2] = {atime, {0, UTIME_OMIT}};
    for (const char* name : {"/file", "/dir", "/link"})
      ASSERT_EQ(::utimensat(AT_FDCWD, (dir + name).c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  }

  static timespec Atime(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_atim;
  }
  static bool Moved(const std::string& path, timespec was) {
    timespec now = Atime(path);
    return now.tv_sec != was.tv_sec || now.tv_nsec != was.tv_nsec;
  }

  enum class Access { kRead, kList, kReadLink, kExec };
  static void Do(Access access, const std::string& view) {
    switch (access) {
      case Access::kRead: {
        UniqueFd fd(::open((view + "/file").c_str(), O_RDONLY | O_CLOEXEC));
        ASSERT_TRUE(fd) << view << ": " << std::strerror(errno);
        char buf[4];
        ASSERT_EQ(::read(fd.get(), buf, sizeof(buf)), 4);
        break;
      }
      case Access::kList: {
        DIR* d = ::opendir((view + "/dir").c_str());
        ASSERT_NE(d, nullptr);
        while (::readdir(d) != nullptr) {
        }
        ::closedir(d);
        break;
      }
      case Access::kReadLink: {
        char buf[64];
        ASSERT_EQ(::readlink((view + "/link").c_str(), buf, sizeof(buf)), 4);
        break;
      }
      case Access::kExec: {
        std::string path = view + "/file";
        pid_t pid = ::fork();
        if (pid == 0) {
          char* argv[] = {path.data(), nullptr};
          ::execv(path.c_str(), argv);
          ::_exit(127);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
        break;
      }
    }
  }

  // Prepares both trees with `atime`, accesses both, and compares whether
  // each atime moved.
  void Compare(timespec atime, Access access, const char* name, const std::string& what) {
    Prepare(native_, atime);
    Prepare(source_, atime);
    Do(access, native_view_);
    Do(access, served_.path());
    bool native = Moved(native_ + name, atime);
    bool mounted = Moved(source_ + name, atime);
    EXPECT_EQ(mounted, native) << what << ": the native mount " << (native ? "moved" : "kept")
                               << " atime, the FUSE mount did not";
  }

  TempDir tmp_;
  std::string native_, native_view_, source_;
  ServedFs served_;
};

timespec Future() {
  // Newer than mtime and ctime, and not older than a day: relatime keeps it.
  timespec t;
  ::clock_gettime(CLOCK_REALTIME, &t);
  t.tv_sec += 3600;
  return t;
}

TEST_P(AtimeOptions, ReadOfAFileWithAnOldAtime) {
  Compare({kLongAgo, 0}, Access::kRead, "/file", "read");
}
TEST_P(AtimeOptions, ReadOfAFileWithARecentAtime) {
  Compare(Future(), Access::kRead, "/file", "read");
}
TEST_P(AtimeOptions, ExecOfAFileWithAnOldAtime) {
  Compare({kLongAgo, 0}, Access::kExec, "/file", "exec");
}
TEST_P(AtimeOptions, ListingOfADirectoryWithAnOldAtime) {
  Compare({kLongAgo, 0}, Access::kList, "/dir", "readdir");
}
TEST_P(AtimeOptions, ListingOfADirectoryWithARecentAtime) {
  Compare(Future(), Access::kList, "/dir", "readdir");
}
TEST_P(AtimeOptions, ReadLinkOfASymlinkWithAnOldAtime) {
  Compare({kLongAgo, 0}, Access::kReadLink, "/link", "readlink");
}

INSTANTIATE_TEST_SUITE_P(
    Options, AtimeOptions,
    testing::Values(Param{Atime::kNoatime, false, Mode::kPassthrough},
                    Param{Atime::kRelatime, false, Mode::kPassthrough},
                    Param{Atime::kStrictatime, false, Mode::kPassthrough},
                    Param{Atime::kStrictatime, true, Mode::kPassthrough},
                    Param{Atime::kNoatime, false, Mode::kNever},
                    Param{Atime::kRelatime, false, Mode::kNever},
                    Param{Atime::kStrictatime, false, Mode::kNever},
                    Param{Atime::kRelatime, true, Mode::kNever},
                    Param{Atime::kNoatime, false, Mode::kDirectIo},
                    Param{Atime::kStrictatime, false, Mode::kDirectIo},
                    Param{Atime::kNoatime, false, Mode::kIoUring},
                    Param{Atime::kStrictatime, true, Mode::kIoUring}),
    Name);

}  // namespace
}  // namespace passthroughfs
