// The watcher under load. A storm: over 100,000 changes in SOURCE within a
// few seconds (tar extractions and rm -rf beside the mount) while a reader
// walks the mount; the daemon keeps serving, and once SOURCE is quiet the
// mount shows exactly what SOURCE has (a recursive compare). An overflow:
// the watch queue forced small (the kernel's sysctl, restored after), so
// that events are lost: the daemon sees the overflow, drops everything the
// kernel cached, and the view is right afterwards.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "mount_fixture.h"
#include "passthrough_fs.h"
#include "served_fs.h"
#include "source_watcher.h"

namespace passthroughfs {

std::ostream& operator<<(std::ostream& os, WatchMode m) {
  return os << (m == WatchMode::kFanotify ? "fanotify" : m == WatchMode::kInotify ? "inotify" : "?");
}

namespace {

using fusekit::testing::ChildServer;
using fusekit::testing::TempDir;
using fusekit::testing::WaitUntil;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Every entry below `root`, relative, with what a mirror must show the
// same: type, mode, size, mtime, link target or contents.
std::map<std::string, std::string> Snapshot(const std::string& root, const std::string& rel = "") {
  std::map<std::string, std::string> out;
  DIR* dir = ::opendir((root + rel).c_str());
  if (dir == nullptr) return out;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir))
    if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) names.push_back(e->d_name);
  ::closedir(dir);
  for (const auto& n : names) {
    std::string r = rel + "/" + n;
    struct stat st;
    if (::lstat((root + r).c_str(), &st) != 0) {
      out[r] = std::string("<lstat: ") + std::strerror(errno) + ">";
      continue;
    }
    std::string what = std::to_string(st.st_mode) + " " + std::to_string(st.st_size) + " " +
                       std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    if (S_ISREG(st.st_mode)) {
      what += " " + std::to_string(std::hash<std::string>()(ReadAll(root + r)));
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t len = ::readlink((root + r).c_str(), target, sizeof(target));
      what += " -> " + std::string(target, len > 0 ? static_cast<size_t>(len) : 0);
    }
    out[r] = what;
    if (S_ISDIR(st.st_mode)) out.merge(Snapshot(root, r));
  }
  return out;
}

std::string FirstDifference(const std::map<std::string, std::string>& want,
                            const std::map<std::string, std::string>& got) {
  for (const auto& [k, v] : want) {
    auto it = got.find(k);
    if (it == got.end()) return k + ": missing through the mount";
    if (it->second != v) return k + ": " + it->second + " through the mount, " + v + " in SOURCE";
  }
  for (const auto& [k, v] : got)
    if (!want.count(k)) return k + ": through the mount only";
  return "";
}

// Every inotify watch on the machine: a line "inotify wd:..." each in the
// fdinfo of the fd of its instance.
int CountInotifyWatches() {
  int n = 0;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return 0;
  while (dirent* p = ::readdir(proc)) {
    if (p->d_name[0] < '0' || p->d_name[0] > '9') continue;
    std::string dir = std::string("/proc/") + p->d_name + "/fdinfo";
    DIR* fds = ::opendir(dir.c_str());
    if (fds == nullptr) continue;
    while (dirent* f = ::readdir(fds)) {
      if (f->d_name[0] == '.') continue;
      std::ifstream in(dir + "/" + f->d_name);
      std::string line;
      while (std::getline(in, line)) n += line.rfind("inotify wd:", 0) == 0;
    }
    ::closedir(fds);
  }
  ::closedir(proc);
  return n;
}

// The id of this process's thread called `name`, or -1.
pid_t ThreadNamed(const std::string& name) {
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr) return -1;
  pid_t found = -1;
  while (dirent* e = ::readdir(tasks)) {
    if (e->d_name[0] == '.') continue;
    std::string comm = ReadAll(std::string("/proc/self/task/") + e->d_name + "/comm");
    if (comm == name + "\n") found = std::atoi(e->d_name);
  }
  ::closedir(tasks);
  return found;
}

int RunCommand(std::vector<std::string> argv) {
  auto child = ChildServer::Start(std::move(argv), "");
  if (!child) return -1;
  auto status = child->WaitExit(seconds(120));
  return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

class WatcherLoad : public testing::TestWithParam<WatchMode> {
 protected:
  void SetUp() override { source_ = tmp_.Sub("source"); }
  void Mount() {
    FsOptions options;
    options.watch = GetParam();
    served_ = test::Serve(source_, options);
    ASSERT_TRUE(served_);
    ASSERT_NE(served_.fs().coherence(), nullptr) << served_.fs().PassthroughStatus();
  }
  void TearDown() override {
    served_.Stop();
    for (auto& [path, value] : saved_sysctls_) std::ofstream(path) << value;
  }
  // Sets a sysctl for this test; TearDown puts it back.
  void SetSysctl(const std::string& path, const std::string& value) {
    if (!saved_sysctls_.count(path)) {
      std::ifstream in(path);
      std::string old;
      in >> old;
      saved_sysctls_[path] = old;
    }
    std::ofstream(path) << value;
  }
  // Until the watcher has seen no event for a while (SOURCE quiet, every
  // event handled, repeats sent).
  void WaitQuiet() {
    uint64_t seen = served_.fs().coherence()->invalidator().events_seen();
    for (int quiet = 0; quiet < 4;) {
      std::this_thread::sleep_for(milliseconds(100));
      uint64_t now = served_.fs().coherence()->invalidator().events_seen();
      quiet = now == seen ? quiet + 1 : 0;
      seen = now;
    }
  }

  TempDir tmp_;
  std::string source_;
  test::ServedFs served_;
  std::map<std::string, std::string> saved_sysctls_;
};

// Extractions of /usr/include (about 9,400 entries, 65,000 events each
// with fanotify). The sanitizers slow every event tenfold: there, one
// round of its linux/ headers (about 800 entries) keeps CI's time.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kStormRounds = 1;
constexpr const char* kStormTree = "include/linux";
constexpr uint64_t kStormEvents = 4'000;
constexpr size_t kStormEntries = 1'000;  // two extractions of it in the end
#else
constexpr int kStormRounds = 3;
constexpr const char* kStormTree = "include";
constexpr uint64_t kStormEvents = 100'000;
constexpr size_t kStormEntries = 10'000;
#endif

TEST_P(WatcherLoad, StormBesideTheMountEndsInTheSameView) {
  std::string tarball = tmp_.path() + "/include.tar";
  ASSERT_EQ(RunCommand({"tar", "-C", "/usr", "-cf", tarball, kStormTree}), 0);
  ASSERT_NO_FATAL_FAILURE(Mount());
  const std::string mnt = served_.path();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, errors{0};
  // The reader walks the mount over and over, so that the kernel caches
  // (and the daemon watches) what the storm changes.
  std::thread reader([&] {
    while (!stop) {
      auto seen = Snapshot(mnt);
      reads += seen.size();
      for (auto& [k, v] : seen) errors += v.rfind("<lstat", 0) == 0 && v.find("No such") == std::string::npos;
    }
  });
  uint64_t before = served_.fs().coherence()->invalidator().events_seen();
  auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < kStormRounds; ++round) {
    ASSERT_EQ(RunCommand({"tar", "-C", source_, "-xf", tarball}), 0);
    if (round < kStormRounds - 1) {
      ASSERT_EQ(RunCommand({"rm", "-rf", source_ + "/include"}), 0);
    }
  }
  ASSERT_EQ(RunCommand({"tar", "-C", source_, "--transform=s/^include/again/", "-xf", tarball}), 0);
  // A last state unlike any the reader saw: tar restores the archive's
  // mtimes and bytes, so a tree extracted again looks as before.
  ASSERT_EQ(RunCommand({"chmod", "-R", "go-r", source_ + "/include"}), 0);
  ASSERT_EQ(RunCommand({"find", source_ + "/again", "-name", "*.h", "-exec", "touch", "-d",
                        "2001-02-03", "{}", "+"}),
            0);
  ASSERT_EQ(::rename((source_ + "/include/linux").c_str(), (source_ + "/include/moved").c_str()), 0);
  ASSERT_EQ(RunCommand({"rm", "-rf", source_ + "/again/sys"}), 0);
  double storm_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stop = true;
  reader.join();
  WaitQuiet();
  uint64_t events = served_.fs().coherence()->invalidator().events_seen() - before;
  std::cout << "[ observed ] " << GetParam() << ": " << events << " events in " << storm_s
            << " s, reader saw " << reads << " entries, " << errors << " errors, "
            << served_.fs().coherence()->invalidator().overflows() << " overflows\n";
  if (GetParam() == WatchMode::kFanotify) {
    EXPECT_GT(events, kStormEvents) << "not a storm";
  }
  EXPECT_EQ(errors.load(), 0u);
  auto want = Snapshot(source_);
  auto got = Snapshot(mnt);
  EXPECT_GT(want.size(), kStormEntries);
  EXPECT_EQ(FirstDifference(want, got), "");
}

TEST_P(WatcherLoad, OverflowDropsEverythingAndTheViewIsRightAfterwards) {
  const std::string sysctl = GetParam() == WatchMode::kFanotify
                                 ? "/proc/sys/fs/fanotify/max_queued_events"
                                 : "/proc/sys/fs/inotify/max_queued_events";
  if (::access(sysctl.c_str(), W_OK) != 0) GTEST_SKIP() << sysctl << " cannot be set";
  // Taken when the watcher starts: the queue holds 16 events at most.
  SetSysctl(sysctl, "16");
  for (int i = 0; i < 20; ++i) {
    std::ofstream(source_ + "/f" + std::to_string(i)) << "old";
  }
  ASSERT_NO_FATAL_FAILURE(Mount());
  const std::string mnt = served_.path();
  auto warm = Snapshot(mnt);  // the kernel caches every entry and file
  ASSERT_EQ(warm.size(), 20u);
  // The watcher must fall behind by 16 events. Left at its priority, on two
  // CPUs, it can keep up with a loop of creates (it did, under ASan); at
  // SCHED_IDLE it runs only when the two creating processes leave a CPU.
  pid_t watcher = ThreadNamed(kWatcherThreadName);
  ASSERT_GT(watcher, 0) << "no thread named " << kWatcherThreadName;
  sched_param idle{};
  ASSERT_EQ(::sched_setscheduler(watcher, SCHED_IDLE, &idle), 0) << std::strerror(errno);
  ASSERT_EQ(RunCommand({"sh", "-c",
                        "cd '" + source_ + "' && (seq -f n%g 0 2999 | xargs touch) & "
                        "(cd '" + source_ + "' && seq -f m%g 0 2999 | xargs touch) & wait"}),
            0);
  ASSERT_EQ(::sched_setscheduler(watcher, SCHED_OTHER, &idle), 0) << std::strerror(errno);
  for (int i = 0; i < 20; ++i) std::ofstream(source_ + "/f" + std::to_string(i)) << "new!";
  // Asked at once: the grace is a few seconds, which the comparison below
  // can outlast under the sanitizers.
  bool short_lived_after_overflow = false;
  ASSERT_TRUE(WaitUntil(
      [&] {
        if (served_.fs().coherence()->invalidator().overflows() == 0) return false;
        short_lived_after_overflow = !served_.fs().CachesCoherent();
        return true;
      },
      seconds(5)))
      << "the queue never overflowed: nothing was tested";
  EXPECT_TRUE(short_lived_after_overflow);
  WaitQuiet();
  EXPECT_EQ(FirstDifference(Snapshot(source_), Snapshot(mnt)), "");
  // Only for a while: long-lived again once the grace has passed.
  EXPECT_TRUE(WaitUntil([&] { return served_.fs().CachesCoherent(); }, seconds(15)));
}

// inotify's limit on watches reached: a directory cannot be watched, so the
// daemon cannot promise coherence and goes back to short-lived caches (and
// says so once); changes then show once the 1 s timeouts pass.
TEST_P(WatcherLoad, AWatchThatCannotBeAddedMakesCachesShortLived) {
  if (GetParam() != WatchMode::kInotify) GTEST_SKIP() << "fanotify watches filesystems, not directories";
  const std::string sysctl = "/proc/sys/fs/inotify/max_user_watches";
  if (::access(sysctl.c_str(), W_OK) != 0) GTEST_SKIP() << sysctl << " cannot be set";
  for (int i = 0; i < 40; ++i) ::mkdir((source_ + "/d" + std::to_string(i)).c_str(), 0755);
  ASSERT_NO_FATAL_FAILURE(Mount());
  ASSERT_TRUE(served_.fs().CachesCoherent());
  // Room for the watches the machine holds now (all users: a floor for
  // root's), and a few more.
  SetSysctl(sysctl, std::to_string(CountInotifyWatches() + 8));
  const int in_use = CountInotifyWatches();
  const std::string mnt = served_.path();
  for (int i = 0; i < 40; ++i) {
    struct stat st;
    ASSERT_EQ(::stat((mnt + "/d" + std::to_string(i)).c_str(), &st), 0);
  }
  EXPECT_FALSE(served_.fs().CachesCoherent()) << "40 directories watched within a limit of " << in_use + 8;
  // Short timeouts: a change the watcher misses still shows.
  ::chmod((source_ + "/d39").c_str(), 0700);
  EXPECT_TRUE(WaitUntil(
      [&] {
        struct stat st;
        return ::stat((mnt + "/d39").c_str(), &st) == 0 && (st.st_mode & 0777) == 0700;
      },
      seconds(3)));
}

INSTANTIATE_TEST_SUITE_P(Watchers, WatcherLoad,
                         testing::Values(WatchMode::kFanotify, WatchMode::kInotify),
                         [](const testing::TestParamInfo<WatchMode>& p) {
                           return p.param == WatchMode::kFanotify ? "Fanotify" : "Inotify";
                         });

}  // namespace
}  // namespace passthroughfs
