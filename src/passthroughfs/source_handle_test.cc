#include "source_handle.h"

#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include <gtest/gtest.h>

namespace passthroughfs {
namespace {

std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i);
  return b;
}

// Inline up to 22 bytes, on the heap beyond: copies, moves and equality
// hold either way (ASan checks the heap side).
TEST(SourceHandleTest, CopiesAndMovesKeepTheBytes) {
  for (size_t n : {size_t{8}, size_t{22}, size_t{23}, size_t{64}}) {
    auto bytes = Bytes(n, 3);
    SourceHandle a = SourceHandle::FromBytes(1, bytes);
    EXPECT_EQ(std::vector<uint8_t>(a.bytes().begin(), a.bytes().end()), bytes) << n;
    SourceHandle copy = a;
    EXPECT_EQ(copy, a) << n;
    EXPECT_EQ(copy.Hash(), a.Hash());
    SourceHandle moved = std::move(copy);
    EXPECT_EQ(moved, a) << n;
    EXPECT_TRUE(copy.empty());  // NOLINT: moved-from is empty, by contract
    moved = SourceHandle::FromBytes(1, Bytes(n, 4));
    EXPECT_FALSE(moved == a) << n;
    moved = a;
    EXPECT_EQ(moved, a);
  }
  EXPECT_FALSE(SourceHandle::FromBytes(1, Bytes(8, 0)) == SourceHandle::FromBytes(2, Bytes(8, 0)))
      << "another type is another handle";
}

TEST(SourceHandleTest, OfAFileOpensThatFile) {
  if (::geteuid() != 0) GTEST_SKIP() << "open_by_handle_at needs CAP_DAC_READ_SEARCH";
  char tmpl[] = "/tmp/source-handle.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  fusekit::UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  fusekit::UniqueFd f(::openat(d.get(), "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(f);
  int mount_id = 0;
  auto h = SourceHandle::Of(d.get(), "f", &mount_id);
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_GT(mount_id, 0);
  auto opened = h->Open(d.get(), O_PATH);
  ASSERT_TRUE(opened) << opened.error().message();
  struct stat a, b;
  ASSERT_EQ(::fstat(opened->get(), &a), 0);
  ASSERT_EQ(::fstat(f.get(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  ASSERT_EQ(::unlinkat(d.get(), "f", 0), 0);
  f.reset();
  opened->reset();
  auto gone = h->Open(d.get(), O_PATH);
  EXPECT_FALSE(gone);
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace passthroughfs
