// Passthrough, proven: with kernel passthrough the daemon serves no READ or
// WRITE while reads, writes and mmap give the right bytes; without it the
// same workload reaches the daemon. Backing ids are shared per inode and
// released after the last close.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fusekit/session.h"
#include "mount_fixture.h"
#include "passthrough_file_fs.h"

namespace fusekit::testing {
namespace {

using examples::PassthroughFileFs;
using examples::PassthroughFileOptions;
using std::chrono::seconds;

constexpr size_t kFileSize = 8u << 20;

std::vector<char> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<char> out(n);
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

void WriteFile(const std::string& path, const std::vector<char>& data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd) << path << ": " << std::strerror(errno);
  ASSERT_EQ(::pwrite(fd.get(), data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
}

std::vector<char> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(fd) << path << ": " << std::strerror(errno);
  struct stat st {};
  ::fstat(fd.get(), &st);
  std::vector<char> out(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd.get(), out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  EXPECT_EQ(done, out.size());
  return out;
}

// The fs and its mount, served in-process so that the test reads the
// session's request counters and the fs's backing id count directly.
struct Served {
  Served(const std::string& source, PassthroughFileOptions options, uint32_t max_stack_depth = 1)
      : fs(UniqueFd(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)), options) {
    Config config;
    if (options.passthrough) config.want |= cap::kPassthrough;
    if (options.direct_io) config.want |= cap::kDirectIoAllowMmap;
    config.max_stack_depth = max_stack_depth;
    mount = InProcessMount::Start(fs, config);
    if (mount) {
      EXPECT_TRUE(WaitUntil([&] { return mount->session().ready(); }, seconds(10)))
          << "INIT did not complete";
    }
  }
  uint64_t reads() { return mount->session().stats().count(Opcode::READ); }
  uint64_t writes() { return mount->session().stats().count(Opcode::WRITE); }
  std::string path(const std::string& name) { return mount->path() + "/" + name; }

  PassthroughFileFs fs;
  std::unique_ptr<InProcessMount> mount;
};

// Whole-file read, 200 random-offset reads, 4 MiB of random-offset writes
// and a shared mmap read-modify-write, each checked against the bytes in
// the source directory.
void ExerciseIo(Served& served, const std::string& source) {
  const std::string src = source + "/data.bin";
  const std::string mnt = served.path("data.bin");
  auto expected = RandomBytes(kFileSize, 1);
  WriteFile(src, expected);

  EXPECT_EQ(ReadFile(mnt), expected) << "whole-file read through the mount";

  std::mt19937 rng(2);
  {
    UniqueFd fd(::open(mnt.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(fd) << std::strerror(errno);
    std::vector<char> buf(64 << 10);
    for (int i = 0; i < 200; ++i) {
      size_t len = 1 + rng() % buf.size();
      size_t off = rng() % (kFileSize - len);
      ASSERT_EQ(::pread(fd.get(), buf.data(), len, static_cast<off_t>(off)),
                static_cast<ssize_t>(len));
      ASSERT_EQ(std::memcmp(buf.data(), expected.data() + off, len), 0) << "read at " << off;
    }
    for (int i = 0; i < 64; ++i) {
      size_t len = 64 << 10;
      size_t off = rng() % (kFileSize - len);
      auto chunk = RandomBytes(len, 100 + i);
      ASSERT_EQ(::pwrite(fd.get(), chunk.data(), len, static_cast<off_t>(off)),
                static_cast<ssize_t>(len));
      std::memcpy(expected.data() + off, chunk.data(), len);
    }
    ASSERT_EQ(::fsync(fd.get()), 0);
  }
  EXPECT_EQ(ReadFile(src), expected) << "writes through the mount reached the source";

  {
    UniqueFd fd(::open(mnt.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(fd);
    void* map = ::mmap(nullptr, kFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    ASSERT_NE(map, MAP_FAILED) << std::strerror(errno);
    char* bytes = static_cast<char*>(map);
    EXPECT_EQ(std::memcmp(bytes, expected.data(), kFileSize), 0) << "mmap read";
    for (size_t off = 4096 * 3; off < kFileSize; off += 1 << 20) {
      std::memcpy(bytes + off, "MMAPWRITE", 9);
      std::memcpy(expected.data() + off, "MMAPWRITE", 9);
    }
    ASSERT_EQ(::msync(map, kFileSize, MS_SYNC), 0);
    ::munmap(map, kFileSize);
  }
  EXPECT_EQ(ReadFile(src), expected) << "mmap writes reached the source";
  EXPECT_EQ(ReadFile(mnt), expected) << "read() sees mmap writes";
}

TEST(Passthrough, DaemonServesNoReadOrWrite) {
  TempDir tmp;
  std::string source = tmp.Sub("source");
  Served served(source, {.passthrough = true});
  ASSERT_NE(served.mount, nullptr);
  ASSERT_TRUE(served.fs.passthrough_active()) << "the kernel did not grant passthrough";
  ExerciseIo(served, source);
  EXPECT_EQ(served.reads(), 0u);
  EXPECT_EQ(served.writes(), 0u);
  EXPECT_EQ(served.fs.daemon_served_opens(), 0u);
}

TEST(Passthrough, WithoutPassthroughTheDaemonServesIo) {
  TempDir tmp;
  std::string source = tmp.Sub("source");
  Served served(source, {.passthrough = false});
  ASSERT_NE(served.mount, nullptr);
  EXPECT_FALSE(served.fs.passthrough_active());
  ExerciseIo(served, source);
  EXPECT_GT(served.reads(), 0u);
  EXPECT_GT(served.writes(), 0u);
  EXPECT_EQ(served.fs.backing_ids_held(), 0u);
}

TEST(Passthrough, DirectIoSendsReadWriteToDaemonAndMmapToBackingFile) {
  TempDir tmp;
  std::string source = tmp.Sub("source");
  Served served(source, {.passthrough = true, .direct_io = true});
  ASSERT_NE(served.mount, nullptr);
  ASSERT_TRUE(served.fs.passthrough_active());
  ExerciseIo(served, source);
  EXPECT_GT(served.reads(), 0u);
  EXPECT_GT(served.writes(), 0u);
}

TEST(Passthrough, OpensOfOneInodeShareOneBackingIdReleasedAfterLastClose) {
  TempDir tmp;
  std::string source = tmp.Sub("source");
  WriteFile(source + "/a", RandomBytes(4096, 3));
  WriteFile(source + "/b", RandomBytes(4096, 4));
  Served served(source, {.passthrough = true});
  ASSERT_NE(served.mount, nullptr);
  ASSERT_TRUE(served.fs.passthrough_active());

  UniqueFd a1(::open(served.path("a").c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd a2(::open(served.path("a").c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(a1 && a2);
  EXPECT_EQ(served.fs.backing_ids_held(), 1u) << "a second open shares the inode's backing id";
  char c1, c2;
  EXPECT_EQ(::pread(a1.get(), &c1, 1, 10), 1);
  EXPECT_EQ(::pread(a2.get(), &c2, 1, 10), 1);
  EXPECT_EQ(c1, c2);

  UniqueFd b(::open(served.path("b").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(b);
  EXPECT_EQ(served.fs.backing_ids_held(), 2u);

  a1.reset();
  // RELEASE reaches the daemon asynchronously after close().
  ASSERT_TRUE(WaitUntil([&] { return served.fs.backing_ids_held() == 2; }, seconds(5)));
  a2.reset();
  EXPECT_TRUE(WaitUntil([&] { return served.fs.backing_ids_held() == 1; }, seconds(5)))
      << "the id is closed after the last release of the inode";
  b.reset();
  EXPECT_TRUE(WaitUntil([&] { return served.fs.backing_ids_held() == 0; }, seconds(5)));
  EXPECT_EQ(served.reads(), 0u);
}

TEST(Passthrough, CreateRepliesWithABackingFile) {
  TempDir tmp;
  std::string source = tmp.Sub("source");
  Served served(source, {.passthrough = true});
  ASSERT_NE(served.mount, nullptr);
  auto data = RandomBytes(1 << 20, 5);
  WriteFile(served.path("created"), data);
  EXPECT_EQ(ReadFile(source + "/created"), data);
  EXPECT_EQ(served.writes(), 0u);
  EXPECT_GT(served.mount->session().stats().count(Opcode::CREATE), 0u);
}

// A source on overlayfs is one filesystem deeper: with max_stack_depth 1
// the kernel refuses to register its files (ELOOP) and the daemon serves
// them; with max_stack_depth 2 passthrough works.
class OverlaySource {
 public:
  explicit OverlaySource(const TempDir& tmp)
      : lower_(tmp.Sub("lower")), upper_(tmp.Sub("upper")), work_(tmp.Sub("work")),
        merged_(tmp.Sub("merged")) {
    std::string opts = "lowerdir=" + lower_ + ",upperdir=" + upper_ + ",workdir=" + work_;
    mounted_ = ::mount("overlay", merged_.c_str(), "overlay", 0, opts.c_str()) == 0;
    error_ = errno;
  }
  ~OverlaySource() {
    if (mounted_) ::umount2(merged_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  int error() const { return error_; }
  const std::string& path() const { return merged_; }

 private:
  std::string lower_, upper_, work_, merged_;
  bool mounted_ = false;
  int error_ = 0;
};

TEST(Passthrough, FallsBackPerFileWhenTheKernelRefusesTheBackingFile) {
  TempDir tmp;
  OverlaySource overlay(tmp);
  if (!overlay.mounted()) GTEST_SKIP() << "cannot mount overlayfs: " << std::strerror(overlay.error());
  auto data = RandomBytes(1 << 20, 6);
  WriteFile(overlay.path() + "/f", data);
  {
    Served served(overlay.path(), {.passthrough = true}, /*max_stack_depth=*/1);
    ASSERT_NE(served.mount, nullptr);
    ASSERT_TRUE(served.fs.passthrough_active());
    EXPECT_EQ(ReadFile(served.path("f")), data);
    EXPECT_EQ(served.fs.backing_ids_held(), 0u);
    EXPECT_GT(served.fs.daemon_served_opens(), 0u);
    EXPECT_GT(served.reads(), 0u) << "the refused file is served by the daemon";
  }
  {
    Served served(overlay.path(), {.passthrough = true}, /*max_stack_depth=*/2);
    ASSERT_NE(served.mount, nullptr);
    EXPECT_EQ(ReadFile(served.path("f")), data);
    EXPECT_EQ(served.reads(), 0u) << "max_stack_depth=2 allows a source on overlayfs";
  }
}

}  // namespace
}  // namespace fusekit::testing
