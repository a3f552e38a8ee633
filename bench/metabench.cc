// metabench: the metadata workloads of `make bench`, timed in-process so
// that no interpreter or fork cost lands in the figures.
//
//   metabench create|stat|list|read|delete DIR [dirs=100] [files_per_dir=100]
//   metabench statfs DIR [calls=20000]
//
// Prints the elapsed seconds of the phase on stdout; for statfs, the
// microseconds per call: STATFS is never cached by the kernel, so through a
// FUSE mount each call is one request round trip to the daemon, the floor
// under every metadata figure.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <chrono>
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
