#include "fusekit/session/busy_poll.h"

#include <thread>

#include <gtest/gtest.h>

namespace fusekit {
namespace {

using std::chrono::microseconds;

constexpr int64_t kUs = 1000;

TEST(BusyPollTest, OffSpinsNever) {
  BusyPoll off(microseconds(0));
  EXPECT_FALSE(off.enabled());
  off.NoteRequest(1 * kUs);
  off.NoteRequest(2 * kUs);
  EXPECT_FALSE(off.TryBegin());
}

TEST(BusyPollTest, OneWorkerSpinsAtATime) {
  BusyPoll poll(microseconds(50));
  EXPECT_TRUE(poll.TryBegin());
  EXPECT_FALSE(poll.TryBegin());
  poll.End(/*caught=*/true);
  EXPECT_TRUE(poll.TryBegin());
  poll.End(/*caught=*/true);
}

TEST(BusyPollTest, AMissHalvesTheWindowUntilItStops) {
  BusyPoll poll(microseconds(16));
  std::vector<int64_t> windows;
  while (poll.TryBegin()) {
    windows.push_back(poll.window().count());
    poll.End(/*caught=*/false);
  }
  // 16, 8, 4, 2 us; then below the shortest worth spinning.
  EXPECT_EQ(windows, (std::vector<int64_t>{16 * kUs, 8 * kUs, 4 * kUs, 2 * kUs}));
  EXPECT_FALSE(poll.TryBegin()) << "an idle mount must not spin";
}

TEST(BusyPollTest, RequestsFarApartStopTheSpinningAndCloseOnesStartIt) {
  BusyPoll poll(microseconds(50));
  poll.NoteRequest(1'000 * kUs);
  poll.NoteRequest(2'000 * kUs);  // 1 ms after the last: no burst
  EXPECT_FALSE(poll.TryBegin());
  poll.NoteRequest(2'020 * kUs);  // 20 us after: a burst
  ASSERT_TRUE(poll.TryBegin());
  EXPECT_EQ(poll.window().count(), 50 * kUs);
  poll.End(/*caught=*/false);
}

TEST(BusyPollTest, ACatchRestoresTheWholeWindow) {
  BusyPoll poll(microseconds(40));
  ASSERT_TRUE(poll.TryBegin());
  poll.End(/*caught=*/false);
  EXPECT_EQ(poll.window().count(), 20 * kUs);
  ASSERT_TRUE(poll.TryBegin());
  poll.End(/*caught=*/true);
  EXPECT_EQ(poll.window().count(), 40 * kUs);
}

TEST(BusyPollTest, ManyThreadsNeverHoldTheTokenTogether) {
  BusyPoll poll(microseconds(50));
  std::atomic<int> holders{0};
  std::atomic<bool> overlap{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        if (!poll.TryBegin()) continue;
        if (holders.fetch_add(1) != 0) overlap = true;
        holders.fetch_sub(1);
        poll.End(/*caught=*/true);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(overlap.load());
}

}  // namespace
}  // namespace fusekit
