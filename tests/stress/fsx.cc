// fsx: a file exerciser that checks every read against its own model of the
// file. Random pread, pwrite, truncate, fallocate (keep-size, punch-hole,
// zero-range), mmap reads and writes, fsync and reopen, on one file; any
// byte that differs from the model is reported with the operation log.
//
//   fsx FILE [operations=10000] [seed=1] [max_size=4194304]
//
// Exit 0 when every check held.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

namespace {

class Exerciser {
 public:
  Exerciser(std::string path, uint64_t seed, size_t max_size)
      : path_(std::move(path)), rng_(seed), max_size_(max_size) {}

  bool Run(long operations) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) return Fail("open", errno);
    for (long i = 0; i < operations; ++i) {
      bool ok;
      switch (rng_() % 10) {
        case 0: case 1: case 2: ok = Write(); break;
        case 3: case 4: ok = Read(); break;
        case 5: ok = Truncate(); break;
        case 6: ok = Fallocate(); break;
        case 7: ok = MapRead(); break;
        case 8: ok = MapWrite(); break;
        default: ok = SyncOrReopen(); break;
      }
      if (!ok) return false;
    }
    bool ok = CheckAll("final");
    ::close(fd_);
    return ok;
  }

 private:
  size_t Pick(size_t bound) { return bound == 0 ? 0 : rng_() % bound; }
  void Log(const std::string& line) {
    log_.push_back(line);
    if (log_.size() > 30) log_.pop_front();
  }
  bool Fail(const char* what, int error) {
    std::fprintf(stderr, "fsx %s: %s failed: %s\nlast operations:\n", path_.c_str(), what,
                 std::strerror(error));
    for (const auto& l : log_) std::fprintf(stderr, "  %s\n", l.c_str());
    return false;
  }
  bool Mismatch(const char* what, size_t offset, char got, char want) {
    std::fprintf(stderr, "fsx %s: %s: byte %zu is 0x%02x, model says 0x%02x\nlast operations:\n",
                 path_.c_str(), what, offset, static_cast<unsigned char>(got),
                 static_cast<unsigned char>(want));
    for (const auto& l : log_) std::fprintf(stderr, "  %s\n", l.c_str());
    return false;
  }

  bool Write() {
    size_t off = Pick(max_size_);
    size_t len = 1 + Pick(std::min<size_t>(256 << 10, max_size_ - off));
    std::vector<char> data(len);
    for (auto& c : data) c = static_cast<char>(rng_());
    Log("pwrite " + std::to_string(off) + " +" + std::to_string(len));
    if (::pwrite(fd_, data.data(), len, static_cast<off_t>(off)) != static_cast<ssize_t>(len))
      return Fail("pwrite", errno);
    if (model_.size() < off + len) model_.resize(off + len, 0);
    std::memcpy(model_.data() + off, data.data(), len);
    return true;
  }

  bool Read() {
    size_t off = Pick(model_.size() + 4096);
    size_t len = 1 + Pick(256 << 10);
    std::vector<char> data(len);
    Log("pread " + std::to_string(off) + " +" + std::to_string(len));
    ssize_t n = ::pread(fd_, data.data(), len, static_cast<off_t>(off));
    if (n < 0) return Fail("pread", errno);
    size_t want = off >= model_.size() ? 0 : std::min(len, model_.size() - off);
    if (static_cast<size_t>(n) != want) {
      std::fprintf(stderr, "fsx %s: pread at %zu returned %zd bytes, model says %zu\n",
                   path_.c_str(), off, n, want);
      return Fail("pread length", EIO);
    }
    for (size_t i = 0; i < want; ++i)
      if (data[i] != model_[off + i]) return Mismatch("pread", off + i, data[i], model_[off + i]);
    return true;
  }

  bool Truncate() {
    size_t size = Pick(max_size_);
    Log("ftruncate " + std::to_string(size));
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return Fail("ftruncate", errno);
    model_.resize(size, 0);
    return true;
  }

  bool Fallocate() {
    if (model_.empty()) return true;
    size_t off = Pick(model_.size());
    size_t len = 1 + Pick(model_.size() - off);
    static const int kModes[] = {FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                 FALLOC_FL_ZERO_RANGE};
    int mode = kModes[Pick(3)];
    Log("fallocate mode " + std::to_string(mode) + " " + std::to_string(off) + " +" +
        std::to_string(len));
    if (::fallocate(fd_, mode, static_cast<off_t>(off), static_cast<off_t>(len)) != 0) {
      if (errno == EOPNOTSUPP) return true;
      return Fail("fallocate", errno);
    }
    if (mode != FALLOC_FL_KEEP_SIZE) std::memset(model_.data() + off, 0, len);
    return true;
  }

  template <typename Fn>
  bool WithMap(const char* what, Fn fn) {
    if (model_.empty()) return true;
    void* map = ::mmap(nullptr, model_.size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (map == MAP_FAILED) return Fail(what, errno);
    bool ok = fn(static_cast<char*>(map));
    if (::msync(map, model_.size(), MS_SYNC) != 0) ok = ok && Fail("msync", errno);
    ::munmap(map, model_.size());
    return ok;
  }

  bool MapRead() {
    Log("mmap read " + std::to_string(model_.size()));
    return WithMap("mmap", [&](char* p) {
      size_t off = Pick(model_.size());
      size_t len = std::min<size_t>(1 + Pick(64 << 10), model_.size() - off);
      for (size_t i = off; i < off + len; ++i)
        if (p[i] != model_[i]) return Mismatch("mmap read", i, p[i], model_[i]);
      return true;
    });
  }

  bool MapWrite() {
    return WithMap("mmap", [&](char* p) {
      size_t off = Pick(model_.size());
      size_t len = std::min<size_t>(1 + Pick(64 << 10), model_.size() - off);
      Log("mmap write " + std::to_string(off) + " +" + std::to_string(len));
      for (size_t i = off; i < off + len; ++i) p[i] = model_[i] = static_cast<char>(rng_());
      return true;
    });
  }

  bool SyncOrReopen() {
    if (rng_() % 2) {
      Log("fsync");
      if (::fsync(fd_) != 0) return Fail("fsync", errno);
      return true;
    }
    Log("close and reopen");
    ::close(fd_);
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) return Fail("reopen", errno);
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Fail("fstat", errno);
    if (static_cast<size_t>(st.st_size) != model_.size()) {
      std::fprintf(stderr, "fsx %s: size %lld after reopen, model says %zu\n", path_.c_str(),
                   static_cast<long long>(st.st_size), model_.size());
      return Fail("size", EIO);
    }
    return CheckAll("reopen");
  }

  bool CheckAll(const char* what) {
    std::vector<char> data(model_.size());
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pread(fd_, data.data() + done, data.size() - done, static_cast<off_t>(done));
      if (n <= 0) return Fail("pread all", n < 0 ? errno : EIO);
      done += static_cast<size_t>(n);
    }
    for (size_t i = 0; i < data.size(); ++i)
      if (data[i] != model_[i]) return Mismatch(what, i, data[i], model_[i]);
    return true;
  }

  std::string path_;
  std::mt19937_64 rng_;
  size_t max_size_;
  int fd_ = -1;
  std::vector<char> model_;
  std::deque<std::string> log_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fsx FILE [operations] [seed] [max_size]\n");
    return 2;
  }
  long operations = argc > 2 ? std::atol(argv[2]) : 10000;
  uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
  size_t max_size = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : (4u << 20);
  Exerciser e(argv[1], seed, max_size);
  return e.Run(operations) ? 0 : 1;
}
