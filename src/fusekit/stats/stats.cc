#include "fusekit/stats.h"

#include <time.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include <fmt/format.h>

namespace fusekit {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

const char* NotifyName(uint32_t code) {
  switch (static_cast<NotifyCode>(code)) {
    case NotifyCode::kPoll: return "POLL";
    case NotifyCode::kInvalInode: return "INVAL_INODE";
    case NotifyCode::kInvalEntry: return "INVAL_ENTRY";
    case NotifyCode::kStore: return "STORE";
    case NotifyCode::kRetrieve: return "RETRIEVE";
    case NotifyCode::kDelete: return "DELETE";
    case NotifyCode::kResend: return "RESEND";
    case NotifyCode::kIncEpoch: return "INC_EPOCH";
    case NotifyCode::kPrune: return "PRUNE";
  }
  return nullptr;
}

double Micros(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

}  // namespace

// Bucket 0 holds 0 and 1 ns; above, each power of two is split in two
// halves: [2^m, 1.5·2^m) and [1.5·2^m, 2^(m+1)).
int LatencyHistogram::Bucket(uint64_t ns) {
  if (ns < 2) return 0;
  int msb = std::bit_width(ns) - 1;
  int half = static_cast<int>((ns >> (msb - 1)) & 1);
  return std::min(2 * msb + half - 1, kBuckets - 1);
}

uint64_t LatencyHistogram::BucketLow(int bucket) {
  if (bucket <= 0) return 0;
  int msb = (bucket + 1) / 2;
  uint64_t half = static_cast<uint64_t>((bucket + 1) % 2);
  return (uint64_t{1} << msb) | (half << (msb - 1));
}

uint64_t LatencyHistogram::BucketHigh(int bucket) { return BucketLow(bucket + 1); }

void LatencyHistogram::Add(uint64_t ns, uint64_t count) {
  buckets_[Bucket(ns)] += count;
  count_ += count;
  total_ns_ += ns * count;
}

LatencyHistogram LatencyHistogram::FromBuckets(const std::array<uint64_t, kBuckets>& buckets,
                                               uint64_t total_ns) {
  LatencyHistogram h;
  h.buckets_ = buckets;
  for (uint64_t n : buckets) h.count_ += n;
  h.total_ns_ = total_ns;
  return h;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int b = 0; b < kBuckets; ++b) buckets_[b] += other.buckets_[b];
  count_ += other.count_;
  total_ns_ += other.total_ns_;
}

uint64_t LatencyHistogram::Percentile(double fraction) const {
  if (count_ == 0) return 0;
  double target = std::clamp(fraction, 0.0, 1.0) * static_cast<double>(count_);
  double below = 0;
  for (int b = 0; b < kBuckets; ++b) {
    if (buckets_[b] == 0) continue;
    double in = static_cast<double>(buckets_[b]);
    if (below + in >= target) {
      if (b == kBuckets - 1) return BucketLow(b);  // open-ended
      double low = static_cast<double>(BucketLow(b));
      double high = static_cast<double>(BucketHigh(b));
      return static_cast<uint64_t>(low + (high - low) * (target - below) / in);
    }
    below += in;
  }
  return BucketLow(kBuckets - 1);
}

uint64_t StatsSnapshot::requests() const {
  uint64_t n = 0;
  for (const auto& o : opcodes) n += o.requests;
  return n;
}

uint64_t StatsSnapshot::errors() const {
  uint64_t n = 0;
  for (const auto& o : opcodes) n += o.errors;
  return n;
}

std::string FormatStats(const StatsSnapshot& s) {
  std::string out = fmt::format("session uptime_s={:.3f} requests={} errors={}\n",
                                std::chrono::duration<double>(s.uptime).count(), s.requests(),
                                s.errors());
  if (s.spins_caught + s.spins_missed > 0)
    out += fmt::format("busy_poll caught={} missed={}\n", s.spins_caught, s.spins_missed);
  for (uint32_t op = 0; op <= kMaxOpcode; ++op) {
    const OpcodeStats& o = s.opcodes[op];
    if (o.requests == 0 && o.replies == 0) continue;
    const LatencyHistogram& l = o.latency;
    out += fmt::format("opcode {} requests={} io_uring={} replies={} errors={}", OpcodeName(op),
                       o.requests, o.io_uring, o.replies, o.errors);
    if (l.count() > 0) {
      out += fmt::format(" mean_us={:.1f} p50_us={:.1f} p99_us={:.1f}",
                         Micros(l.total_ns() / l.count()), Micros(l.Percentile(0.5)),
                         Micros(l.Percentile(0.99)));
    }
    out += '\n';
  }
  for (int e = 1; e <= kMaxErrno; ++e) {
    if (s.errors_by_errno[e] == 0) continue;
    const char* name = ::strerrorname_np(e);
    out += fmt::format("errno {} count={}\n", name ? name : std::to_string(e).c_str(),
                       s.errors_by_errno[e]);
  }
  for (uint32_t c = 1; c <= kMaxNotifyCode; ++c) {
    if (s.notifications[c] == 0) continue;
    const char* name = NotifyName(c);
    out += fmt::format("notify {} count={}\n", name ? name : std::to_string(c).c_str(),
                       s.notifications[c]);
  }
  return out;
}

Stats::Stats() : started_ns_(Now()) {}

uint64_t Stats::Now() {
  timespec t;
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_nsec);
}

template <typename F>
uint64_t Stats::Sum(F field) const {
  uint64_t n = 0;
  shards_.ForEach([&](const Shard& shard) { n += field(shard).load(kRelaxed); });
  return n;
}

uint64_t Stats::count(Opcode op) const {
  auto i = static_cast<uint32_t>(op);
  if (i > kMaxOpcode) return 0;
  return Sum([i](const Shard& s) -> const auto& { return s.opcodes[i].requests; });
}

uint64_t Stats::io_uring_count(Opcode op) const {
  auto i = static_cast<uint32_t>(op);
  if (i > kMaxOpcode) return 0;
  return Sum([i](const Shard& s) -> const auto& { return s.opcodes[i].io_uring; });
}

uint64_t Stats::notifications(NotifyCode code) const {
  auto c = static_cast<uint32_t>(code);
  if (c > kMaxNotifyCode) return 0;
  return Sum([c](const Shard& s) -> const auto& { return s.notifications[c]; });
}

StatsSnapshot Stats::Snapshot() const {
  StatsSnapshot snap;
  snap.uptime = std::chrono::nanoseconds(Now() - started_ns_);
  shards_.ForEach([&](const Shard& shard) {
    for (uint32_t op = 0; op <= kMaxOpcode; ++op) {
      const OpcodeShard& from = shard.opcodes[op];
      OpcodeStats& to = snap.opcodes[op];
      to.requests += from.requests.load(kRelaxed);
      to.io_uring += from.io_uring.load(kRelaxed);
      to.replies += from.replies.load(kRelaxed);
      to.errors += from.errors.load(kRelaxed);
      std::array<uint64_t, LatencyHistogram::kBuckets> buckets;
      for (int b = 0; b < LatencyHistogram::kBuckets; ++b) buckets[b] = from.buckets[b].load(kRelaxed);
      to.latency.Merge(LatencyHistogram::FromBuckets(buckets, from.total_ns.load(kRelaxed)));
    }
    for (int e = 0; e <= kMaxErrno; ++e) snap.errors_by_errno[e] += shard.errnos[e].load(kRelaxed);
    for (uint32_t c = 0; c <= kMaxNotifyCode; ++c)
      snap.notifications[c] += shard.notifications[c].load(kRelaxed);
    snap.spins_caught += shard.spins_caught.load(kRelaxed);
    snap.spins_missed += shard.spins_missed.load(kRelaxed);
  });
  return snap;
}

void Stats::AddRequest(uint32_t opcode) {
  if (opcode <= kMaxOpcode) Bump(shards_.Local().opcodes[opcode].requests);
}

void Stats::AddIoUring(uint32_t opcode) {
  if (opcode <= kMaxOpcode) Bump(shards_.Local().opcodes[opcode].io_uring);
}

void Stats::AddNotification(NotifyCode code) {
  auto c = static_cast<uint32_t>(code);
  if (c <= kMaxNotifyCode) Bump(shards_.Local().notifications[c]);
}

void Stats::AddSpin(bool caught) {
  Shard& shard = shards_.Local();
  Bump(caught ? shard.spins_caught : shard.spins_missed);
}

void Stats::AddReply(Opcode op, int error, uint64_t latency_ns) {
  auto i = static_cast<uint32_t>(op);
  if (i > kMaxOpcode) return;
  Shard& shard = shards_.Local();
  OpcodeShard& o = shard.opcodes[i];
  Bump(o.replies);
  Bump(o.total_ns, latency_ns);
  Bump(o.buckets[LatencyHistogram::Bucket(latency_ns)]);
  if (error != 0) {
    Bump(o.errors);
    if (error > 0 && error <= kMaxErrno) Bump(shard.errnos[error]);
  }
}

}  // namespace fusekit
