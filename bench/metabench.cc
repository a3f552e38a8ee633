// metabench: the metadata workloads of `make bench`, timed in-process so
// that no interpreter or fork cost lands in the figures.
//
//   metabench create|stat|list|read|delete DIR [dirs=100] [files_per_dir=100]
//   metabench statfs DIR [calls=20000]
//   metabench staleness SOURCE MOUNT [changes=200]
//
// Prints the elapsed seconds of the phase on stdout; for statfs, the
// microseconds per call: STATFS is never cached by the kernel, so through a
// FUSE mount each call is one request round trip to the daemon, the floor
// under every metadata figure. For staleness, the milliseconds from a change
// made in SOURCE (a create, then a chmod) until the mount shows it, p50 and
// p99 over all changes (5000 for a change never seen within 5 s).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "metabench: %s: %s\n", what.c_str(), std::strerror(errno));
  return 1;
}

std::string DirName(const std::string& root, int d) { return root + "/d" + std::to_string(d); }
std::string FileName(const std::string& root, int d, int f) {
  return DirName(root, d) + "/file-" + std::to_string(f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: metabench create|stat|list|read|delete DIR [dirs] [files]\n"
                 "       metabench statfs DIR [calls]\n");
    return 2;
  }
  std::string phase = argv[1];
  std::string root = argv[2];
  int dirs = argc > 3 ? std::atoi(argv[3]) : 100;
  int files = argc > 4 ? std::atoi(argv[4]) : 100;
  static const char kContent[1024] = {'x'};
  char buf[4096];

  auto start = std::chrono::steady_clock::now();
  if (phase == "create") {
    for (int d = 0; d < dirs; ++d) {
      if (::mkdir(DirName(root, d).c_str(), 0755) != 0) return Fail("mkdir " + DirName(root, d));
      for (int f = 0; f < files; ++f) {
        std::string path = FileName(root, d, f);
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) return Fail("create " + path);
        if (::write(fd, kContent, sizeof(kContent)) != sizeof(kContent)) return Fail("write " + path);
        ::close(fd);
      }
    }
  } else if (phase == "stat") {
    struct stat st;
    for (int d = 0; d < dirs; ++d)
      for (int f = 0; f < files; ++f)
        if (::stat(FileName(root, d, f).c_str(), &st) != 0) return Fail("stat");
  } else if (phase == "list") {
    long entries = 0;
    for (int d = 0; d < dirs; ++d) {
      DIR* dir = ::opendir(DirName(root, d).c_str());
      if (dir == nullptr) return Fail("opendir");
      while (::readdir(dir) != nullptr) ++entries;
      ::closedir(dir);
    }
    if (entries != static_cast<long>(dirs) * (files + 2)) {
      std::fprintf(stderr, "metabench: listed %ld entries\n", entries);
      return 1;
    }
  } else if (phase == "read") {
    for (int d = 0; d < dirs; ++d) {
      for (int f = 0; f < files; ++f) {
        int fd = ::open(FileName(root, d, f).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return Fail("open");
        if (::read(fd, buf, sizeof(buf)) != sizeof(kContent)) return Fail("read");
        ::close(fd);
      }
    }
  } else if (phase == "delete") {
    for (int d = 0; d < dirs; ++d) {
      for (int f = 0; f < files; ++f)
        if (::unlink(FileName(root, d, f).c_str()) != 0) return Fail("unlink");
      if (::rmdir(DirName(root, d).c_str()) != 0) return Fail("rmdir");
    }
  } else if (phase == "staleness") {
    if (argc < 4) return Fail("staleness SOURCE MOUNT");
    std::string mnt = argv[3];
    int changes = argc > 4 ? std::atoi(argv[4]) : 200;
    std::vector<double> ms;
    // Until `seen` holds for the mount, in milliseconds (5000 if never).
    auto time_until = [&](auto seen) {
      auto t0 = std::chrono::steady_clock::now();
      while (!seen()) {
        std::chrono::duration<double, std::milli> d = std::chrono::steady_clock::now() - t0;
        if (d.count() > 5000) return 5000.0;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      std::chrono::duration<double, std::milli> d = std::chrono::steady_clock::now() - t0;
      return d.count();
    };
    struct stat st;
    for (int i = 0; i < changes; ++i) {
      std::string name = "/stale-" + std::to_string(::getpid()) + "-" + std::to_string(i);
      (void)::stat((mnt + name).c_str(), &st);  // a negative entry in the kernel
      int fd = ::open((root + name).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) return Fail("create in SOURCE");
      ::close(fd);
      ms.push_back(time_until([&] { return ::stat((mnt + name).c_str(), &st) == 0; }));
      if (::chmod((root + name).c_str(), 0600) != 0) return Fail("chmod in SOURCE");
      ms.push_back(time_until(
          [&] { return ::stat((mnt + name).c_str(), &st) == 0 && (st.st_mode & 0777) == 0600; }));
    }
    for (int i = 0; i < changes; ++i)
      ::unlink((root + "/stale-" + std::to_string(::getpid()) + "-" + std::to_string(i)).c_str());
    std::sort(ms.begin(), ms.end());
    std::printf("%.2f %.2f\n", ms[ms.size() / 2], ms[ms.size() * 99 / 100]);
    return 0;
  } else if (phase == "statfs") {
    int calls = argc > 3 ? std::atoi(argv[3]) : 20000;
    struct statfs st;
    for (int i = 0; i < calls; ++i)
      if (::statfs(root.c_str(), &st) != 0) return Fail("statfs " + root);
    std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
    std::printf("%.3f\n", elapsed.count() / calls);
    return 0;
  } else {
    std::fprintf(stderr, "metabench: unknown phase %s\n", phase.c_str());
    return 2;
  }
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  std::printf("%.6f\n", elapsed.count());
  return 0;
}
