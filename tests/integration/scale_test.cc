// A tree far bigger than the daemon's fd limit: 50,000 files under 50
// directories, walked (readdir and lstat of every entry) and every 100th
// file read through the mount from cold caches, with the daemon's
// RLIMIT_NOFILE at 1,024. Every call must succeed with SOURCE's bytes, and
// the daemon's fds, sampled from /proc/PID/fd all along, must stay within
// its budget (half the limit for inodes, the rest for open files and its
// own). Inodes by file handle (the fd cache evicts) and by fd (the kernel
// is asked to prune inodes, FUSE_NOTIFY_PRUNE).
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "mount_fixture.h"

namespace {

using fusekit::UniqueFd;
using fusekit::testing::BinaryPath;
using fusekit::testing::ChildServer;
using fusekit::testing::TempDir;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kDirs = 50;
constexpr int kFilesPerDir = 1000;
constexpr int kFdLimit = 1024;

std::string Name(int dir, int file) {
  return "d" + std::to_string(dir) + "/f" + std::to_string(file);
}

size_t CountFdsOf(pid_t pid) {
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return 0;
  size_t n = 0;
  while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n;
}

class Scale : public testing::TestWithParam<std::string> {};

TEST_P(Scale, FiftyThousandFilesAtAThousandFds) {
  TempDir tmp;
  const std::string source = tmp.Sub("source");
  const std::string mnt = tmp.Sub("mnt");
  for (int d = 0; d < kDirs; ++d) {
    ASSERT_EQ(::mkdir((source + "/d" + std::to_string(d)).c_str(), 0755), 0);
    for (int f = 0; f < kFilesPerDir; ++f) {
      const std::string name = Name(d, f);
      UniqueFd fd(::open((source + "/" + name).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
      ASSERT_TRUE(fd) << name << ": " << std::strerror(errno);
      ASSERT_EQ(::write(fd.get(), name.data(), name.size()), static_cast<ssize_t>(name.size()));
    }
  }
  std::string binary = BinaryPath("passthroughfs");
  ASSERT_FALSE(binary.empty());
  const std::string limit = std::to_string(kFdLimit);
  auto server = ChildServer::Start({"prlimit", "--nofile=" + limit + ":" + limit, "--", binary,
                                    "-f", "-o", "inode_handles=" + GetParam(), source, mnt},
                                   mnt);
  ASSERT_TRUE(server);
  ASSERT_TRUE(server->WaitMounted()) << server->Output();
  const pid_t pid = server->pid();
  const std::string expected_mode =
      GetParam() == "always" ? "inodes by file handle, fd cache 512" : "inodes by fd";
  ASSERT_TRUE(fusekit::testing::WaitUntil(
      [&] { return server->Output().find(expected_mode) != std::string::npos; }, seconds(10)))
      << server->Output();

  std::atomic<bool> done{false};
  std::atomic<size_t> peak{0};
  std::thread sampler([&] {
    while (!done) {
      size_t n = CountFdsOf(pid);
      if (n > peak) peak = n;
      std::this_thread::sleep_for(milliseconds(2));
    }
  });
  std::ofstream("/proc/sys/vm/drop_caches") << "3" << std::endl;

  std::map<std::string, int> errors;
  size_t stats = 0, reads = 0;
  for (int d = 0; d < kDirs; ++d) {
    const std::string dir = mnt + "/d" + std::to_string(d);
    DIR* listing = ::opendir(dir.c_str());
    if (listing == nullptr) {
      errors[std::string("opendir: ") + std::strerror(errno)]++;
      continue;
    }
    size_t entries = 0;
    for (;;) {
      errno = 0;
      dirent* e = ::readdir(listing);
      if (e == nullptr) {
        if (errno != 0) errors[std::string("readdir: ") + std::strerror(errno)]++;
        break;
      }
      if (e->d_name[0] == '.') continue;
      ++entries;
      struct stat st;
      if (::lstat((dir + "/" + e->d_name).c_str(), &st) != 0)
        errors[std::string("lstat: ") + std::strerror(errno)]++;
      ++stats;
    }
    ::closedir(listing);
    if (entries != kFilesPerDir) errors["entries missing from a listing"]++;
    for (int f = 0; f < kFilesPerDir; f += 100) {
      const std::string name = Name(d, f);
      std::ifstream in(mnt + "/" + name, std::ios::binary);
      std::string got((std::istreambuf_iterator<char>(in)), {});
      if (!in.good() && !in.eof()) errors["read: cannot open"]++;
      else if (got != name) errors["read: wrong bytes"]++;
      ++reads;
    }
  }
  done = true;
  sampler.join();
  std::cout << "[ observed ] inode_handles=" << GetParam() << ": " << stats << " lstat, " << reads
            << " reads, daemon peak " << peak << " fds (limit " << kFdLimit << ")\n";
  EXPECT_EQ(stats, static_cast<size_t>(kDirs * kFilesPerDir));
  EXPECT_TRUE(errors.empty()) << testing::PrintToString(errors);
  // Inode fds within the budget (512), and the few the walk holds open, and
  // the daemon's own (/dev/fuse clones, mount fds): far from the limit.
  EXPECT_LE(peak.load(), 512u + 64u);
  server->Signal(SIGTERM);
  EXPECT_TRUE(server->WaitExit(seconds(20)).has_value());
}

INSTANTIATE_TEST_SUITE_P(Inodes, Scale, testing::Values("always", "never"),
                         [](const testing::TestParamInfo<std::string>& p) {
                           return p.param == "always" ? "ByHandle" : "ByFd";
                         });

}  // namespace
