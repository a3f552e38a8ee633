#include "kept_backings.h"

#include <gtest/gtest.h>

namespace passthroughfs {
namespace {

using fusekit::NodeId;

TEST(KeptBackingsTest, TheLeastRecentlyKeptIsPushedOutPastTheCapacity) {
  KeptBackings kept(2);
  EXPECT_EQ(kept.Keep(NodeId(10)), std::nullopt);
  EXPECT_EQ(kept.Keep(NodeId(11)), std::nullopt);
  EXPECT_EQ(kept.Keep(NodeId(12)), NodeId(10));
  EXPECT_EQ(kept.size(), 2u);
  EXPECT_FALSE(kept.Take(NodeId(10)));
}

TEST(KeptBackingsTest, KeepingAgainMakesANodeTheMostRecent) {
  KeptBackings kept(2);
  (void)kept.Keep(NodeId(10));
  (void)kept.Keep(NodeId(11));
  EXPECT_EQ(kept.Keep(NodeId(10)), std::nullopt);
  EXPECT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept.Keep(NodeId(12)), NodeId(11));
}

TEST(KeptBackingsTest, ATakenNodeIsNoLongerCounted) {
  KeptBackings kept(2);
  (void)kept.Keep(NodeId(10));
  (void)kept.Keep(NodeId(11));
  EXPECT_TRUE(kept.Take(NodeId(10)));
  EXPECT_FALSE(kept.Take(NodeId(10)));
  EXPECT_EQ(kept.Keep(NodeId(12)), std::nullopt);
  EXPECT_EQ(kept.size(), 2u);
}

TEST(KeptBackingsTest, TakeAllEmptiesOldestFirst) {
  KeptBackings kept(8);
  for (uint64_t id : {5, 3, 9}) (void)kept.Keep(NodeId(id));
  EXPECT_EQ(kept.TakeAll(), (std::vector<NodeId>{NodeId(5), NodeId(3), NodeId(9)}));
  EXPECT_EQ(kept.size(), 0u);
  EXPECT_FALSE(kept.Take(NodeId(3)));
}

TEST(KeptBackingsTest, ACapacityOfZeroKeepsNothing) {
  KeptBackings kept(0);
  EXPECT_EQ(kept.Keep(NodeId(7)), NodeId(7));
  EXPECT_EQ(kept.size(), 0u);
}

}  // namespace
}  // namespace passthroughfs
