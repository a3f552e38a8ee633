// Kept backing files: an inode keeps its backing id registered after its
// last close (-o keep_backing=N), so that opening it again needs no
// BACKING_OPEN. Read through a real mount: the bytes are right after a
// reopen, and the kept id goes when SOURCE changes the file behind the
// mount, when the budget is full (least recently closed first), when the
// kernel forgets the inode, and at unmount.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "mount_fixture.h"
#include "passthrough_fs.h"
#include "served_fs.h"

namespace passthroughfs {
namespace {

using fusekit::testing::TempDir;
using fusekit::testing::WaitUntil;
using std::chrono::seconds;

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void Write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class KeptBacking : public testing::Test {
 protected:
  void Mount(size_t keep) {
    FsOptions options;
    options.keep_backing = keep;
    served_ = test::Serve(source_, options);
    ASSERT_TRUE(served_);
    if (!served_.fs().passthrough_active()) GTEST_SKIP() << "no kernel passthrough here";
  }
  // Read through the mount, once the daemon has had the RELEASE, which
  // the kernel sends after close(2) returns.
  std::string ReadClosed(const std::string& name) {
    std::string bytes = Read(Mnt(name));
    EXPECT_TRUE(WaitUntil([&] { return served_.fs().open_files() == 0; }, seconds(5)));
    return bytes;
  }
  void WriteClosed(const std::string& name, const std::string& bytes) {
    Write(Mnt(name), bytes);
    EXPECT_TRUE(WaitUntil([&] { return served_.fs().open_files() == 0; }, seconds(5)));
  }
  // SOURCE/f ("old") read once through a watched mount, its backing file
  // kept; skips where SOURCE cannot be watched.
  void KeepOneWatched() {
    Write(Src("f"), "old");
    ASSERT_NO_FATAL_FAILURE(Mount(16));
    if (!served_.fs().CachesCoherent()) GTEST_SKIP() << "SOURCE is not watched here";
    EXPECT_EQ(ReadClosed("f"), "old");
    ASSERT_EQ(served_.fs().kept_backing_files(), 1u);
  }
  bool NoneKeptSoon() const {
    return WaitUntil([&] { return served_.fs().kept_backing_files() == 0 && Registered() == 0; },
                     seconds(5));
  }
  std::string Src(const std::string& name) const { return source_ + "/" + name; }
  std::string Mnt(const std::string& name) const { return served_.path() + "/" + name; }
  uint64_t BackingOpens() const { return served_.fs().counters().backing_opens.load(); }
  uint64_t Registered() const { return served_.fs().counters().backing_files.load(); }

  TempDir tmp_;
  std::string source_ = tmp_.Sub("source");
  test::ServedFs served_;
};

TEST_F(KeptBacking, AReopenedFileReadsTheRightBytesWithoutRegisteringAgain) {
  Write(Src("f"), "first");
  ASSERT_NO_FATAL_FAILURE(Mount(16));
  EXPECT_EQ(ReadClosed("f"), "first");
  EXPECT_EQ(BackingOpens(), 1u);
  EXPECT_EQ(served_.fs().kept_backing_files(), 1u);
  EXPECT_EQ(Registered(), 1u);
  WriteClosed("f", "second, longer");  // through the kept backing file
  EXPECT_EQ(ReadClosed("f"), "second, longer");
  EXPECT_EQ(Read(Src("f")), "second, longer");
  EXPECT_EQ(BackingOpens(), 1u) << "each open registered the file again";
}

TEST_F(KeptBacking, WithoutABudgetTheLastCloseUnregisters) {
  Write(Src("f"), "bytes");
  ASSERT_NO_FATAL_FAILURE(Mount(0));
  EXPECT_EQ(ReadClosed("f"), "bytes");
  EXPECT_EQ(ReadClosed("f"), "bytes");
  EXPECT_EQ(BackingOpens(), 2u);
  EXPECT_EQ(Registered(), 0u);
}

// Passthrough writes reach SOURCE from the writer, as a change beside the
// mount would: the watcher cannot tell them apart, so a change of data
// keeps the backing file (it is SOURCE's inode, and shows what it holds;
// the first test writes through it). A change of attributes, or the name
// deleted, drops it.
TEST_F(KeptBacking, AChangeOfModeBehindTheMountDropsIt) {
  ASSERT_NO_FATAL_FAILURE(KeepOneWatched());
  if (IsSkipped()) return;
  ASSERT_EQ(::chmod(Src("f").c_str(), 0640), 0);
  EXPECT_TRUE(NoneKeptSoon())
      << "still kept after SOURCE changed the file";
  EXPECT_EQ(ReadClosed("f"), "old");
  EXPECT_EQ(BackingOpens(), 2u);
}

TEST_F(KeptBacking, ADeletionBehindTheMountDropsIt) {
  ASSERT_NO_FATAL_FAILURE(KeepOneWatched());
  if (IsSkipped()) return;
  ASSERT_EQ(::unlink(Src("f").c_str()), 0);
  EXPECT_TRUE(NoneKeptSoon())
      << "a deleted file's inode is still held by its kept backing file";
}

TEST_F(KeptBacking, PastTheBudgetTheLeastRecentlyClosedGoes) {
  for (const char* name : {"a", "b", "c"}) Write(Src(name), name);
  ASSERT_NO_FATAL_FAILURE(Mount(2));
  for (const char* name : {"a", "b", "c"}) EXPECT_EQ(ReadClosed(name), name);
  EXPECT_EQ(served_.fs().kept_backing_files(), 2u);
  EXPECT_EQ(Registered(), 2u);
  EXPECT_EQ(BackingOpens(), 3u);
  EXPECT_EQ(ReadClosed("c"), "c");  // kept
  EXPECT_EQ(BackingOpens(), 3u);
  EXPECT_EQ(ReadClosed("a"), "a");  // pushed out by c: registered again
  EXPECT_EQ(BackingOpens(), 4u);
  EXPECT_EQ(Registered(), 2u);
}

TEST_F(KeptBacking, AnInodeTheKernelForgetsTakesItAlong) {
  Write(Src("f"), "bytes");
  ASSERT_NO_FATAL_FAILURE(Mount(16));
  EXPECT_EQ(ReadClosed("f"), "bytes");
  ASSERT_EQ(served_.fs().kept_backing_files(), 1u);
  ::sync();
  EXPECT_TRUE(WaitUntil(
      [&] {
        std::ofstream("/proc/sys/vm/drop_caches") << "2";
        return served_.fs().kept_backing_files() == 0 && Registered() == 0;
      },
      seconds(10)))
      << "the kernel's FORGET left the backing file kept; " << served_.fs().StatsText();
}

TEST_F(KeptBacking, UnmountDropsEveryOne) {
  for (const char* name : {"a", "b", "c"}) Write(Src(name), name);
  ASSERT_NO_FATAL_FAILURE(Mount(16));
  for (const char* name : {"a", "b", "c"}) EXPECT_EQ(ReadClosed(name), name);
  ASSERT_EQ(Registered(), 3u);
  served_.Unmount();
  EXPECT_EQ(served_.fs().kept_backing_files(), 0u);
  EXPECT_EQ(Registered(), 0u);
}

}  // namespace
}  // namespace passthroughfs
