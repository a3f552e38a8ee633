#include "listing_advisor.h"

#include <gtest/gtest.h>

namespace passthroughfs {
namespace {

TEST(ListingAdvisorTest, NamesOnlyUntilAListingIsFollowedByLookups) {
  ListingAdvisor advisor;
  for (uint64_t dir = 10; dir < 20; ++dir) {
    EXPECT_FALSE(advisor.StartListing(dir));  // find, ls
    advisor.Listed(dir, 4);
  }
  advisor.ChildLookedUp(19);  // ls -l: the entries of the last listing are statted
  EXPECT_FALSE(advisor.looking_up()) << "one lookup in four entries";
  advisor.ChildLookedUp(19);
  EXPECT_TRUE(advisor.looking_up());
  EXPECT_TRUE(advisor.StartListing(20));
}

TEST(ListingAdvisorTest, LookupsOfAFewEntriesDoNotCount) {
  ListingAdvisor advisor;
  EXPECT_FALSE(advisor.StartListing(10));
  advisor.Listed(10, 60);
  advisor.Listed(10, 40);  // a second batch
  for (int i = 0; i < 49; ++i) advisor.ChildLookedUp(10);  // find: the subdirectories
  EXPECT_FALSE(advisor.looking_up());
  advisor.ChildLookedUp(10);
  EXPECT_TRUE(advisor.looking_up());
}

TEST(ListingAdvisorTest, LookupsElsewhereDoNotCount) {
  ListingAdvisor advisor;
  EXPECT_FALSE(advisor.StartListing(10));
  advisor.ChildLookedUp(11);  // a path walk through another directory
  EXPECT_FALSE(advisor.StartListing(12));
}

TEST(ListingAdvisorTest, WhileLookingUpOneListingInKProbeEveryProbes) {
  ListingAdvisor advisor;
  EXPECT_FALSE(advisor.StartListing(1));
  advisor.ChildLookedUp(1);
  unsigned names_only = 0;
  for (uint64_t dir = 2; dir < 2 + 4 * ListingAdvisor::kProbeEvery; ++dir) {
    if (!advisor.StartListing(dir)) {
      ++names_only;
      advisor.ChildLookedUp(dir);  // still wanted
    }
  }
  EXPECT_EQ(names_only, 4u);
  EXPECT_TRUE(advisor.looking_up());
}

TEST(ListingAdvisorTest, AProbeWithoutLookupsGoesBackToNamesOnly) {
  ListingAdvisor advisor;
  EXPECT_FALSE(advisor.StartListing(1));
  advisor.ChildLookedUp(1);
  uint64_t dir = 2;
  while (advisor.StartListing(dir)) ++dir;  // the probe: no lookups follow
  EXPECT_FALSE(advisor.StartListing(dir + 1));
  EXPECT_FALSE(advisor.looking_up());
}

}  // namespace
}  // namespace passthroughfs
