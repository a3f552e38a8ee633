// Live statistics, read from a running mount: exact counts for a scripted
// workload, answers while the mount is busy, and clear errors for what the
// control interface refuses (control.h; `passthroughfs stats`).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "control.h"
#include "mount_fixture.h"
#include "passthrough_fs.h"
#include "served_fs.h"

namespace passthroughfs {
namespace {

using fusekit::UniqueFd;
using fusekit::testing::BinaryPath;
using fusekit::testing::ChildServer;
using fusekit::testing::TempDir;
using fusekit::testing::WaitUntil;
using std::chrono::seconds;

// "opcode CREATE requests=100 ..." as {"opcode CREATE" -> {requests: 100}}.
using Fields = std::map<std::string, std::string>;
using Parsed = std::map<std::string, Fields>;

Parsed Parse(const std::string& text) {
  Parsed parsed;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string kind, name, word;
    words >> kind;
    if (kind != "session" && kind != "passthroughfs" && kind != "busy_poll") words >> name;
    std::string key = name.empty() ? kind : kind + " " + name;
    while (words >> word) {
      auto eq = word.find('=');
      if (eq != std::string::npos) parsed[key][word.substr(0, eq)] = word.substr(eq + 1);
    }
  }
  return parsed;
}

uint64_t Number(const Parsed& p, const std::string& key, const std::string& field) {
  auto line = p.find(key);
  if (line == p.end()) return 0;
  auto value = line->second.find(field);
  return value == line->second.end() ? 0 : std::stoull(value->second);
}

std::string ReadStats(const std::string& path) {
  std::string value(65536, '\0');
  ssize_t n = ::getxattr(path.c_str(), std::string(kStatsXattr).c_str(), value.data(), value.size());
  EXPECT_GE(n, 0) << path << ": " << std::strerror(errno);
  value.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return value;
}

struct Ran {
  int code = -1;
  std::string output;
};

Ran RunStats(std::vector<std::string> args) {
  std::vector<std::string> argv = {BinaryPath("passthroughfs"), "stats"};
  argv.insert(argv.end(), args.begin(), args.end());
  Ran ran;
  auto child = ChildServer::Start(argv, "");
  if (!child) return ran;
  auto status = child->WaitExit(seconds(20));
  ran.code = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  ran.output = child->Output();
  return ran;
}

class Statistics : public testing::Test {
 protected:
  void SetUp() override {
    source_ = tmp_.Sub("source");
    FsOptions options;
    served_ = test::Serve(source_, options);
    ASSERT_TRUE(served_);
    mnt_ = served_.path();
  }
  void TearDown() override { served_.Stop(); }

  TempDir tmp_;
  std::string source_;
  std::string mnt_;
  test::ServedFs served_;
};

TEST_F(Statistics, CountsAScriptedWorkloadExactly) {
  Parsed before = Parse(ReadStats(mnt_));
  for (int i = 0; i < 100; ++i) {
    std::string name = mnt_ + "/f" + std::to_string(i);
    UniqueFd fd(::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd) << name << ": " << std::strerror(errno);
  }
  ASSERT_EQ(::mkdir((mnt_ + "/d").c_str(), 0755), 0);
  ASSERT_EQ(::mknod((mnt_ + "/d/x").c_str(), S_IFREG | 0644, 0), 0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(::rmdir((mnt_ + "/d").c_str()), -1);
    ASSERT_EQ(errno, ENOTEMPTY);
  }
  // RELEASE is sent after close() returns.
  ASSERT_TRUE(WaitUntil([&] { return served_.fs().counters().passthrough_opens +
                                         served_.fs().counters().daemon_opens >= 100 &&
                                     Number(Parse(ReadStats(mnt_)), "opcode RELEASE", "replies") -
                                             Number(before, "opcode RELEASE", "replies") >= 100; },
                        seconds(10)));

  std::string text = ReadStats(mnt_);
  Parsed after = Parse(text);
  auto delta = [&](const std::string& key, const std::string& field) {
    return Number(after, key, field) - Number(before, key, field);
  };
  EXPECT_EQ(delta("opcode CREATE", "requests"), 100u) << text;
  EXPECT_EQ(delta("opcode CREATE", "replies"), 100u) << text;
  EXPECT_EQ(delta("opcode CREATE", "errors"), 0u) << text;
  EXPECT_EQ(delta("opcode RELEASE", "requests"), 100u) << text;
  EXPECT_EQ(delta("opcode MKDIR", "requests"), 1u) << text;
  EXPECT_EQ(delta("opcode MKNOD", "requests"), 1u) << text;
  EXPECT_EQ(delta("opcode RMDIR", "requests"), 3u) << text;
  EXPECT_EQ(delta("opcode RMDIR", "errors"), 3u) << text;
  EXPECT_EQ(delta("errno ENOTEMPTY", "count"), 3u) << text;
  EXPECT_EQ(delta("passthroughfs", "opens_passthrough") + delta("passthroughfs", "opens_daemon"),
            100u)
      << text;
  // Each create went through the daemon: its time is there, and ordered.
  EXPECT_GT(std::stod(after["opcode CREATE"]["mean_us"]), 0.0) << text;
  EXPECT_LE(std::stod(after["opcode CREATE"]["p50_us"]), std::stod(after["opcode CREATE"]["p99_us"]))
      << text;
  // The daemon's own view agrees with the text.
  EXPECT_EQ(Number(after, "passthroughfs", "inodes"), served_.fs().inode_count()) << text;
  EXPECT_GT(Number(after, "session", "requests"), 200u) << text;
}

TEST_F(Statistics, AnswersWhileTheMountIsBusy) {
  for (int i = 0; i < 20; ++i) {
    std::ofstream(source_ + "/f" + std::to_string(i)) << "data " << i;
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 3; ++t) {
    load.emplace_back([&, t] {
      char buf[64];
      for (int i = 0; !stop; ++i) {
        std::string name = mnt_ + "/f" + std::to_string((i + t) % 20);
        UniqueFd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd) (void)!::read(fd.get(), buf, sizeof(buf));
        struct stat st;
        ::stat((mnt_ + "/missing" + std::to_string(i % 50)).c_str(), &st);
        ++done;
      }
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return done > 100; }, seconds(10)));
  uint64_t last = 0;
  for (int i = 0; i < 20; ++i) {
    Parsed p = Parse(ReadStats(mnt_));
    uint64_t requests = Number(p, "session", "requests");
    EXPECT_GT(requests, last) << "the counts move while the load runs";
    last = requests;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Ran ran = RunStats({mnt_});
  stop = true;
  for (auto& t : load) t.join();
  EXPECT_EQ(ran.code, 0) << ran.output;
  Parsed p = Parse(ran.output);
  EXPECT_GT(Number(p, "opcode OPEN", "requests"), 0u) << ran.output;
  EXPECT_GT(Number(p, "passthroughfs", "inodes"), 1u) << ran.output;
}

TEST_F(Statistics, RefusalsAreClear) {
  ASSERT_EQ(::mkdir((mnt_ + "/sub").c_str(), 0755), 0);
  const std::string name(kStatsXattr);
  EXPECT_EQ(::setxattr(mnt_.c_str(), name.c_str(), "x", 1, 0), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::removexattr(mnt_.c_str(), name.c_str()), -1);
  EXPECT_EQ(errno, EPERM);
  char small[8];
  EXPECT_EQ(::getxattr(mnt_.c_str(), name.c_str(), small, sizeof(small)), -1);
  EXPECT_EQ(errno, ERANGE);
  // A size probe leaves room for counters that move before the read.
  ssize_t probed = ::getxattr(mnt_.c_str(), name.c_str(), nullptr, 0);
  EXPECT_GT(probed, static_cast<ssize_t>(ReadStats(mnt_).size()));
  // Only the root answers; it does not list the name.
  EXPECT_EQ(::getxattr((mnt_ + "/sub").c_str(), name.c_str(), nullptr, 0), -1);
  char list[4096];
  ssize_t n = ::listxattr(mnt_.c_str(), list, sizeof(list));
  ASSERT_GE(n, 0) << std::strerror(errno);
  EXPECT_EQ(std::string(list, static_cast<size_t>(n)).find(name), std::string::npos);

  Ran sub = RunStats({mnt_ + "/sub"});
  EXPECT_EQ(sub.code, 1);
  EXPECT_NE(sub.output.find(mnt_ + "/sub is not the root of a passthroughfs mount"),
            std::string::npos)
      << sub.output;
  Ran missing = RunStats({tmp_.path() + "/nowhere"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.output.find(tmp_.path() + "/nowhere: getxattr user.passthroughfs.stats: No such file"),
            std::string::npos)
      << missing.output;
  Ran usage = RunStats({});
  EXPECT_EQ(usage.code, 2);
  EXPECT_NE(usage.output.find("usage: passthroughfs stats MOUNTPOINT"), std::string::npos)
      << usage.output;
  Ran help = RunStats({"--help"});
  EXPECT_EQ(help.code, 0) << help.output;
}

// -o xattr=off: every xattr request answers ENOSYS, so the kernel stops
// sending them, the security.capability GETXATTR before the first write of
// each new file included; xattr calls then fail with EOPNOTSUPP. With
// xattrs on, each new file written costs that GETXATTR: the comparison
// shows what the option spares.
uint64_t GetxattrsFor20WrittenFiles(bool xattrs, int& setxattr_errno) {
  TempDir tmp;
  FsOptions options;
  options.xattrs = xattrs;
  test::ServedFs served = test::Serve(tmp.Sub("source"), options);
  EXPECT_TRUE(served);
  if (!served) return 0;
  for (int i = 0; i < 20; ++i) {
    std::string name = served.path() + "/f" + std::to_string(i);
    UniqueFd fd(::open(name.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    EXPECT_TRUE(fd) << name;
    EXPECT_EQ(::write(fd.get(), "x", 1), 1);
  }
  setxattr_errno = ::setxattr((served.path() + "/f0").c_str(), "user.k", "v", 1, 0) == 0 ? 0 : errno;
  return Number(Parse(served.fs().StatsText()), "opcode GETXATTR", "requests");
}

TEST(XattrOff, SparesTheGetxattrOfEachNewFile) {
  int on_errno = -1, off_errno = -1;
  uint64_t on = GetxattrsFor20WrittenFiles(true, on_errno);
  uint64_t off = GetxattrsFor20WrittenFiles(false, off_errno);
  EXPECT_GE(on, 20u) << "with xattrs, one GETXATTR (security.capability) per new file written";
  EXPECT_LE(off, 1u) << "the first ENOSYS should have stopped them";
  EXPECT_EQ(on_errno, 0);
  EXPECT_EQ(off_errno, EOPNOTSUPP);
}

// readdirplus=auto (ListingAdvisor): a walk that wants names (find) gets
// listings without lookups, and the daemon looks entries up once they are
// statted after a listing (ls -l): counted in the daemon's statistics.
TEST(Listings, NamesForFindLookupsForLsL) {
  TempDir tmp;
  std::string source = tmp.Sub("source");
  for (int d = 0; d < 8; ++d) {
    std::string dir = source + "/d" + std::to_string(d);
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    for (int f = 0; f < 40; ++f) std::ofstream(dir + "/f" + std::to_string(f)) << f;
  }
  test::ServedFs served = test::Serve(source, FsOptions{});
  ASSERT_TRUE(served);
  auto run = [&](std::vector<std::string> argv) {
    auto child = ChildServer::Start(argv, "");
    ASSERT_TRUE(child);
    auto status = child->WaitExit(seconds(20));
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << child->Output();
  };
  auto stats = [&] { return Parse(served.fs().StatsText()); };
  run({"find", served.path()});
  Parsed after_find = stats();
  EXPECT_EQ(Number(after_find, "passthroughfs", "listings"), 9u);
  EXPECT_EQ(Number(after_find, "passthroughfs", "listings_looked_up"), 0u);
  // The 8 directories find walked into; none of the 320 files.
  EXPECT_EQ(Number(after_find, "opcode LOOKUP", "requests"), 8u);
  std::ofstream("/proc/sys/vm/drop_caches") << "2" << std::endl;
  ASSERT_TRUE(WaitUntil([&] { return served.fs().inode_count() <= 1; }, seconds(10)));
  for (int d = 0; d < 8; ++d) run({"ls", "-l", served.path() + "/d" + std::to_string(d)});
  Parsed after_ls = stats();
  EXPECT_GE(Number(after_ls, "passthroughfs", "listings_looked_up"), 6u) << served.fs().StatsText();
  // The first listing after find is names only and pays a lookup per
  // entry; the rest come with their entries.
  EXPECT_LE(Number(after_ls, "opcode LOOKUP", "requests") - Number(after_find, "opcode LOOKUP", "requests"),
            8u + 40u + 8u)
      << served.fs().StatsText();
}

// Busy polling (-o busy_poll, on by default) spins only while requests
// come close together: a daemon left idle after a burst uses no CPU that
// /proc/PID/stat can see over 5 s (its clock ticks are 10 ms).
TEST(IdleDaemon, UsesNoCpuAfterABurst) {
  TempDir tmp;
  std::string source = tmp.Sub("source");
  std::string mnt = tmp.Sub("mnt");
  // Not watched: a fanotify watcher sees every change on the filesystem,
  // other tests' included, and would work while the daemon idles.
  auto daemon = ChildServer::Start(
      {BinaryPath("passthroughfs"), "-f", "-o", "watch=off", source, mnt}, mnt);
  ASSERT_TRUE(daemon);
  ASSERT_TRUE(daemon->WaitMounted()) << daemon->Output();
  for (int i = 0; i < 3000; ++i) {
    struct stat st;
    ASSERT_NE(::stat((mnt + "/none" + std::to_string(i)).c_str(), &st), 0);
  }
  Parsed burst = Parse(ReadStats(mnt));
  EXPECT_GT(Number(burst, "busy_poll", "caught"), 0u) << "the burst never met a spinning worker";
  auto cpu_ticks = [&] {
    std::ifstream in("/proc/" + std::to_string(daemon->pid()) + "/stat");
    std::string line((std::istreambuf_iterator<char>(in)), {});
    // Past "pid (comm) ", the state is field 3; utime and stime are 14, 15.
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string field;
    uint64_t ticks = 0;
    for (int n = 3; n <= 15 && fields >> field; ++n)
      if (n >= 14) ticks += std::stoull(field);
    return ticks;
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  uint64_t before = cpu_ticks();
  std::this_thread::sleep_for(seconds(5));
  uint64_t used = cpu_ticks() - before;
  // ThreadSanitizer's runtime has a thread of its own in the daemon that
  // wakes on a timer (20 ms in 5 s seen); a spinning worker would use
  // about 5,000 ms either way.
#if defined(__SANITIZE_THREAD__)
  constexpr uint64_t kIdleTicks = 5;
#else
  constexpr uint64_t kIdleTicks = 1;
#endif
  EXPECT_LE(used, kIdleTicks) << used * 10 << " ms of CPU in 5 s idle";
  auto umount = ChildServer::Start({"umount", mnt}, "");
  ASSERT_TRUE(umount);
  EXPECT_TRUE(umount->WaitExit(seconds(20)));
  EXPECT_TRUE(daemon->WaitExit(seconds(20)));
}

}  // namespace
}  // namespace passthroughfs
