// File handles taken on the mount (name_to_handle_at, as knfsd and Samba
// take them) still open after the kernel forgot the inode: the daemon
// finds the node id again from the source handle it remembers. A handle
// of a file replaced or removed behind the mount answers ESTALE, never
// another file; a directory moved out of SOURCE is not reconnected.
//
// The kernel's caches are dropped (drop_caches) to make it forget the
// inodes; each case waits until the daemon has seen the FORGETs, and fails
// if they never come.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "mount_fixture.h"
#include "passthrough_fs.h"
#include "served_fs.h"

namespace passthroughfs {
namespace {

using fusekit::UniqueFd;
using fusekit::testing::TempDir;
using fusekit::testing::WaitUntil;
using std::chrono::seconds;

union Handle {
  file_handle fh;
  char room[sizeof(file_handle) + MAX_HANDLE_SZ];
};

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::string ReadFd(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::set<std::string> ListFd(int fd) {
  std::set<std::string> names;
  DIR* d = ::fdopendir(::dup(fd));
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) names.insert(e->d_name);
  ::closedir(d);
  return names;
}

class Export : public testing::TestWithParam<InodeHandles> {
 protected:
  void SetUp() override {
    source_ = tmp_.Sub("source");
    outside_ = tmp_.Sub("outside");
    FsOptions options;
    options.inode_handles = GetParam();
    served_ = test::Serve(source_, options);
    ASSERT_TRUE(served_);
    mnt_ = served_.path();
  }
  void TearDown() override {
    served_.Stop();
  }

  Handle Take(const std::string& rel) {
    Handle h{};
    h.fh.handle_bytes = MAX_HANDLE_SZ;
    int mount_id = 0;
    EXPECT_EQ(::name_to_handle_at(AT_FDCWD, (mnt_ + "/" + rel).c_str(), &h.fh, &mount_id, 0), 0)
        << rel << ": " << std::strerror(errno);
    return h;
  }

  // Until the kernel has forgotten every inode but the root.
  void ForgetAll() {
    std::ofstream("/proc/sys/vm/drop_caches") << "2" << std::endl;
    ASSERT_TRUE(WaitUntil([&] { return served_.fs().inode_count() == 1; }, seconds(20)))
        << served_.fs().inode_count() << " inodes still held after drop_caches";
  }

  // open_by_handle_at on the mount, -errno on failure.
  int Open(Handle& h, int flags) {
    UniqueFd mount_fd(::open(mnt_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    int fd = ::open_by_handle_at(mount_fd.get(), &h.fh, flags | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
  }

  TempDir tmp_;
  std::string source_, outside_, mnt_;
  test::ServedFs served_;
};

TEST_P(Export, HandlesOpenAfterTheKernelForgot) {
  WriteAll(source_ + "/f", "exported\n");
  ASSERT_EQ(::mkdir((source_ + "/d").c_str(), 0755), 0);
  WriteAll(source_ + "/d/inner", "x");
  ASSERT_EQ(::mkdir((source_ + "/a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((source_ + "/a/b").c_str(), 0755), 0);
  WriteAll(source_ + "/a/b/deep", "y");
  Handle f = Take("f"), d = Take("d"), b = Take("a/b");
  ASSERT_NO_FATAL_FAILURE(ForgetAll());

  int ff = Open(f, O_RDONLY);
  int fd = Open(d, O_RDONLY | O_DIRECTORY);
  int fb = Open(b, O_RDONLY | O_DIRECTORY);
  if (GetParam() == InodeHandles::kNever) {
    // Held by fd, a forgotten inode is forgotten for good.
    EXPECT_EQ(ff, -ESTALE);
    EXPECT_EQ(fd, -ESTALE);
    EXPECT_EQ(fb, -ESTALE);
    return;
  }
  ASSERT_GE(ff, 0) << "file: " << std::strerror(-ff);
  ASSERT_GE(fd, 0) << "directory: " << std::strerror(-fd);
  ASSERT_GE(fb, 0) << "nested directory: " << std::strerror(-fb);
  UniqueFd file(ff), dir(fd), nested(fb);
  EXPECT_EQ(ReadFd(file.get()), "exported\n");
  struct stat st, in_source;
  ASSERT_EQ(::fstat(file.get(), &st), 0);
  ASSERT_EQ(::stat((source_ + "/f").c_str(), &in_source), 0);
  EXPECT_EQ(st.st_ino, in_source.st_ino);
  EXPECT_TRUE(ListFd(dir.get()).count("inner"));
  EXPECT_TRUE(ListFd(nested.get()).count("deep"));
  EXPECT_GE(served_.fs().inodes().revived(), 3u) << "the daemon found the forgotten node ids again";
  // The same node id as before: a lookup by name finds the same inode.
  struct stat by_name;
  ASSERT_EQ(::stat((mnt_ + "/f").c_str(), &by_name), 0);
  EXPECT_EQ(by_name.st_ino, st.st_ino);
}

// Replaced behind the mount (on ext4 the new file often reuses the inode
// number, with a new generation): the old handle never opens the new file.
TEST_P(Export, AReplacedFileIsStale) {
  WriteAll(source_ + "/r", "old");
  Handle r = Take("r");
  ASSERT_NO_FATAL_FAILURE(ForgetAll());
  ASSERT_EQ(::unlink((source_ + "/r").c_str()), 0);
  WriteAll(source_ + "/r", "new");
  int fd = Open(r, O_RDONLY);
  if (fd >= 0) {
    UniqueFd opened(fd);
    ADD_FAILURE() << "the old handle opened something: \"" << ReadFd(opened.get()) << "\"";
  } else {
    EXPECT_EQ(fd, -ESTALE);
  }
  std::ifstream now(mnt_ + "/r");
  std::string text((std::istreambuf_iterator<char>(now)), {});
  EXPECT_EQ(text, "new") << "the name shows the new file";
}

// A directory moved out of SOURCE on the host after its handle was taken:
// reconnecting it would serve what lies outside.
TEST_P(Export, ADirectoryMovedOutOfSourceIsNotReconnected) {
  ASSERT_EQ(::mkdir((source_ + "/a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((source_ + "/a/leaving").c_str(), 0755), 0);
  WriteAll(source_ + "/a/leaving/secret", "outside now");
  Handle h = Take("a/leaving");
  ASSERT_NO_FATAL_FAILURE(ForgetAll());
  ASSERT_EQ(::rename((source_ + "/a/leaving").c_str(), (outside_ + "/leaving").c_str()), 0);
  int fd = Open(h, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    UniqueFd opened(fd);
    ADD_FAILURE() << "reconnected a directory outside SOURCE, listing "
                  << testing::PrintToString(ListFd(opened.get()));
  } else {
    EXPECT_EQ(fd, -ESTALE);
  }
  // The daemon refused it itself (the kernel's reconnection through ".."
  // would fail further up too, after the daemon had walked outside).
  EXPECT_EQ(served_.fs().inodes().revived(), 0u) << "the daemon revived a directory outside SOURCE";
}

INSTANTIATE_TEST_SUITE_P(Inodes, Export,
                         testing::Values(InodeHandles::kAlways, InodeHandles::kNever),
                         [](const testing::TestParamInfo<InodeHandles>& p) {
                           return p.param == InodeHandles::kAlways ? "ByHandle" : "ByFd";
                         });

}  // namespace
}  // namespace passthroughfs
