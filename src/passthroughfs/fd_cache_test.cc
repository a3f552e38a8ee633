#include "fd_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace passthroughfs {
namespace {

using fusekit::UniqueFd;

UniqueFd Fd() { return UniqueFd(::open("/", O_PATH | O_CLOEXEC)); }

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(FdCacheTest, KeepsAtMostItsCapacityLeastRecentlyUsedFirstOut) {
  FdCache cache(2);
  int a = cache.Insert(1, Fd())->get();
  int b = cache.Insert(2, Fd())->get();
  ASSERT_NE(cache.Find(1), nullptr);  // 1 is now the most recent
  cache.Insert(3, Fd());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Find(2), nullptr) << "the least recently used went";
  EXPECT_FALSE(IsOpen(b)) << "and its fd was closed";
  EXPECT_NE(cache.Find(1), nullptr);
  EXPECT_TRUE(IsOpen(a));
}

TEST(FdCacheTest, AnFdInUseOutlivesItsEviction) {
  FdCache cache(2);
  FdCache::Fd held = cache.Insert(1, Fd());
  int fd = held->get();
  cache.Insert(2, Fd());
  cache.Insert(3, Fd());
  EXPECT_EQ(cache.Find(1), nullptr);
  EXPECT_TRUE(IsOpen(fd)) << "closed while in use";
  held.reset();
  EXPECT_FALSE(IsOpen(fd));
}

TEST(FdCacheTest, TheFirstInsertWins) {
  FdCache cache(2);
  int first = cache.Insert(7, Fd())->get();
  UniqueFd second = Fd();
  int second_fd = second.get();
  EXPECT_EQ(cache.Insert(7, std::move(second))->get(), first);
  EXPECT_FALSE(IsOpen(second_fd)) << "the loser is closed";
  EXPECT_EQ(cache.size(), 1u);
}

TEST(FdCacheTest, EraseAndEvict) {
  FdCache cache(1000);
  for (uint64_t k = 0; k < 1000; ++k) cache.Insert(k, Fd());
  EXPECT_EQ(cache.size(), 1000u);
  cache.Erase(5);
  EXPECT_EQ(cache.Find(5), nullptr);
  EXPECT_EQ(cache.size(), 999u);
  EXPECT_EQ(cache.Evict(100), 100u);
  EXPECT_EQ(cache.size(), 899u);
  cache.Insert(5000, Fd());
  cache.Insert(5001, Fd());
  EXPECT_LE(cache.size(), 1000u);
}

}  // namespace
}  // namespace passthroughfs
