// Stats, LatencyHistogram and PerThread: exact counts from many threads,
// bucket bounds, percentiles, and the text `passthroughfs stats` prints.
#include "fusekit/stats.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <thread>
#include <vector>

namespace fusekit {
namespace {

TEST(LatencyHistogram, BucketsTileTheRangeTwoToAnOctave) {
  EXPECT_EQ(LatencyHistogram::Bucket(0), 0);
  EXPECT_EQ(LatencyHistogram::Bucket(1), 0);
  for (int b = 1; b < LatencyHistogram::kBuckets - 1; ++b) {
    uint64_t low = LatencyHistogram::BucketLow(b);
    uint64_t high = LatencyHistogram::BucketHigh(b);
    ASSERT_LT(low, high) << b;
    EXPECT_EQ(LatencyHistogram::Bucket(low), b) << low;
    EXPECT_EQ(LatencyHistogram::Bucket(high - 1), b) << high - 1;
    EXPECT_EQ(LatencyHistogram::Bucket(high), b + 1) << high;
    // Two to an octave: no bucket is wider than half its low end (above
    // the first few).
    if (low >= 4) {
      EXPECT_LE(high - low, low / 2 + 1) << b;
    }
  }
  // Beyond 17 s, the last bucket.
  EXPECT_EQ(LatencyHistogram::Bucket(UINT64_MAX), LatencyHistogram::kBuckets - 1);
  EXPECT_GE(LatencyHistogram::BucketLow(LatencyHistogram::kBuckets - 1), 17'000'000'000u);
}

TEST(LatencyHistogram, PercentilesFallInTheRightBucket) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(0.5), 0u);
  for (int i = 0; i < 990; ++i) h.Add(10'000);  // 10 µs
  for (int i = 0; i < 10; ++i) h.Add(5'000'000);  // 5 ms
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.total_ns(), 990u * 10'000 + 10u * 5'000'000);
  uint64_t p50 = h.Percentile(0.5);
  EXPECT_GE(p50, LatencyHistogram::BucketLow(LatencyHistogram::Bucket(10'000)));
  EXPECT_LT(p50, LatencyHistogram::BucketHigh(LatencyHistogram::Bucket(10'000)));
  uint64_t p999 = h.Percentile(0.999);
  EXPECT_GE(p999, LatencyHistogram::BucketLow(LatencyHistogram::Bucket(5'000'000)));
  EXPECT_LT(p999, LatencyHistogram::BucketHigh(LatencyHistogram::Bucket(5'000'000)));
  EXPECT_LT(h.Percentile(0.98), 20'000u);
}

TEST(LatencyHistogram, MergeAddsBucketsAndTotals) {
  LatencyHistogram a, b;
  a.Add(100);
  b.Add(100, 3);
  b.Add(1'000'000);
  a.Merge(b);
  EXPECT_EQ(a.count(), 5u);
  EXPECT_EQ(a.total_ns(), 400u + 1'000'000);
  EXPECT_EQ(a.bucket(LatencyHistogram::Bucket(100)), 4u);
}

// Eight threads, each recording into its own shard: the merged counts are
// exact, and the per-opcode latencies add up.
TEST(Stats, CountsFromManyThreadsAreExact) {
  Stats stats;
  constexpr int kThreads = 8;
  constexpr int kEach = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&stats, t] {
      for (int i = 0; i < kEach; ++i) {
        stats.AddRequest(static_cast<uint32_t>(Opcode::LOOKUP));
        stats.AddReply(Opcode::LOOKUP, i % 10 == 0 ? ENOENT : 0, 1000 + t);
      }
      stats.AddNotification(NotifyCode::kInvalEntry);
    });
  }
  // Snapshots taken while they record never see more than was recorded.
  for (int i = 0; i < 50; ++i) {
    auto snap = stats.Snapshot();
    ASSERT_LE(snap.of(Opcode::LOOKUP).replies, uint64_t{kThreads} * kEach);
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(stats.count(Opcode::LOOKUP), uint64_t{kThreads} * kEach);
  EXPECT_EQ(stats.notifications(NotifyCode::kInvalEntry), uint64_t{kThreads});
  auto snap = stats.Snapshot();
  const OpcodeStats& lookup = snap.of(Opcode::LOOKUP);
  EXPECT_EQ(lookup.replies, uint64_t{kThreads} * kEach);
  EXPECT_EQ(lookup.errors, uint64_t{kThreads} * kEach / 10);
  EXPECT_EQ(snap.errors_by_errno[ENOENT], uint64_t{kThreads} * kEach / 10);
  EXPECT_EQ(lookup.latency.count(), uint64_t{kThreads} * kEach);
  uint64_t total = 0;
  for (int t = 0; t < kThreads; ++t) total += uint64_t{kEach} * (1000 + t);
  EXPECT_EQ(lookup.latency.total_ns(), total);
  EXPECT_EQ(snap.of(Opcode::GETATTR).requests, 0u);
}

// One thread recording into two instances alternately, and into more
// instances than its cache holds, still counts each exactly.
TEST(Stats, AThreadRecordingIntoManyInstancesCountsEach) {
  std::vector<std::unique_ptr<Stats>> many;
  for (int i = 0; i < 20; ++i) many.push_back(std::make_unique<Stats>());
  for (int round = 0; round < 5; ++round)
    for (auto& s : many) s->AddRequest(static_cast<uint32_t>(Opcode::READ));
  for (auto& s : many) EXPECT_EQ(s->count(Opcode::READ), 5u);
}

TEST(Stats, OutOfRangeCodesAreIgnored) {
  Stats stats;
  stats.AddRequest(kMaxOpcode + 1);
  stats.AddIoUring(4096);
  stats.AddReply(static_cast<Opcode>(9999), EIO, 1);
  stats.AddReply(Opcode::READ, 600, 1);  // counted as an error, not by errno
  auto snap = stats.Snapshot();
  EXPECT_EQ(snap.requests(), 0u);
  EXPECT_EQ(snap.of(Opcode::READ).errors, 1u);
  EXPECT_EQ(snap.errors_by_errno[EIO], 0u);
}

TEST(FormatStats, OneLinePerOpcodeSeenThenErrnosAndNotifications) {
  Stats stats;
  for (int i = 0; i < 4; ++i) {
    stats.AddRequest(static_cast<uint32_t>(Opcode::GETATTR));
    stats.AddReply(Opcode::GETATTR, i == 0 ? EACCES : 0, 20'000);
  }
  stats.AddNotification(NotifyCode::kPrune);
  std::string text = FormatStats(stats.Snapshot());
  EXPECT_NE(text.find("session uptime_s="), std::string::npos) << text;
  EXPECT_NE(text.find(" requests=4 errors=1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("opcode GETATTR requests=4 io_uring=0 replies=4 errors=1 mean_us=20.0 p50_us="),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("errno EACCES count=1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("notify PRUNE count=1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("LOOKUP"), std::string::npos) << "opcodes not seen are left out";
}

}  // namespace
}  // namespace fusekit
