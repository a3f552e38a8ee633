// churn: namespace operations in one directory checked against a model of
// what the directory holds: create, write, rename (plain, NOREPLACE,
// EXCHANGE), link, unlink, mkdir, rmdir, xattrs, truncate, fallocate, flock,
// and a readdir that must list exactly the model's names.
//
//   churn DIR [operations=5000] [seed=1]
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>

namespace {

enum class Kind { kFile, kDir };

class Churn {
 public:
  Churn(std::string dir, uint64_t seed) : dir_(std::move(dir)), rng_(seed) {}

  bool Run(long operations) {
    if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) return Fail("mkdir root");
    for (long i = 0; i < operations; ++i) {
      if (!Step()) return false;
      if (i % 200 == 0 && !CheckListing()) return false;
    }
    return CheckListing();
  }

 private:
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string NewName() { return "n" + std::to_string(next_++); }
  bool Fail(const std::string& what) {
    std::fprintf(stderr, "churn %s: %s: %s\n", dir_.c_str(), what.c_str(), std::strerror(errno));
    return false;
  }
  // A random existing name of `kind`, or "" when there is none.
  std::string Pick(Kind kind) {
    std::vector<std::string> names;
    for (const auto& [n, k] : model_)
      if (k == kind) names.push_back(n);
    return names.empty() ? "" : names[rng_() % names.size()];
  }

  bool Step() {
    switch (rng_() % 12) {
      case 0: case 1: {  // create and write
        std::string n = NewName();
        int fd = ::open(Path(n).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) return Fail("create " + n);
        char buf[512];
        std::memset(buf, 'c', sizeof(buf));
        bool ok = ::write(fd, buf, sizeof(buf)) == sizeof(buf);
        ::close(fd);
        if (!ok) return Fail("write " + n);
        model_[n] = Kind::kFile;
        return true;
      }
      case 2: {  // unlink
        std::string n = Pick(Kind::kFile);
        if (n.empty()) return true;
        if (::unlink(Path(n).c_str()) != 0) return Fail("unlink " + n);
        model_.erase(n);
        return true;
      }
      case 3: {  // rename to a new name
        std::string n = Pick(Kind::kFile);
        if (n.empty()) return true;
        std::string to = NewName();
        if (::rename(Path(n).c_str(), Path(to).c_str()) != 0) return Fail("rename " + n);
        model_.erase(n);
        model_[to] = Kind::kFile;
        return true;
      }
      case 4: {  // RENAME_NOREPLACE onto an existing file must fail
        std::string a = Pick(Kind::kFile), b = Pick(Kind::kFile);
        if (a.empty() || b.empty() || a == b) return true;
        if (::renameat2(AT_FDCWD, Path(a).c_str(), AT_FDCWD, Path(b).c_str(), RENAME_NOREPLACE) == 0 ||
            errno != EEXIST)
          return Fail("RENAME_NOREPLACE " + a + " -> " + b + " did not fail with EEXIST");
        return true;
      }
      case 5: {  // RENAME_EXCHANGE of a file and a directory swaps kinds
        std::string a = Pick(Kind::kFile), b = Pick(Kind::kDir);
        if (a.empty() || b.empty()) return true;
        if (::renameat2(AT_FDCWD, Path(a).c_str(), AT_FDCWD, Path(b).c_str(), RENAME_EXCHANGE) != 0)
          return Fail("RENAME_EXCHANGE");
        model_[a] = Kind::kDir;
        model_[b] = Kind::kFile;
        return true;
      }
      case 6: {  // hard link
        std::string n = Pick(Kind::kFile);
        if (n.empty()) return true;
        std::string to = NewName();
        if (::link(Path(n).c_str(), Path(to).c_str()) != 0) return Fail("link " + n);
        model_[to] = Kind::kFile;
        return true;
      }
      case 7: {  // mkdir, or rmdir of an empty one
        if (rng_() % 2) {
          std::string n = NewName();
          if (::mkdir(Path(n).c_str(), 0755) != 0) return Fail("mkdir " + n);
          model_[n] = Kind::kDir;
        } else {
          std::string n = Pick(Kind::kDir);
          if (n.empty()) return true;
          if (::rmdir(Path(n).c_str()) != 0) return Fail("rmdir " + n);
          model_.erase(n);
        }
        return true;
      }
      case 8: {  // xattr round trip
        std::string n = Pick(Kind::kFile);
        if (n.empty()) return true;
        std::string value = "v" + std::to_string(rng_());
        if (::setxattr(Path(n).c_str(), "user.churn", value.data(), value.size(), 0) != 0)
          return Fail("setxattr " + n);
        char got[64];
        ssize_t len = ::getxattr(Path(n).c_str(), "user.churn", got, sizeof(got));
        if (len != static_cast<ssize_t>(value.size()) || std::memcmp(got, value.data(), len) != 0)
          return Fail("getxattr " + n + " gave another value");
        return true;
      }
      case 9: {  // truncate and fallocate
        std::string n = Pick(Kind::kFile);
        if (n.empty()) return true;
        off_t size = static_cast<off_t>(rng_() % 65536);
        if (::truncate(Path(n).c_str(), size) != 0) return Fail("truncate " + n);
        int fd = ::open(Path(n).c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) return Fail("open " + n);
        bool ok = ::fallocate(fd, 0, 0, size + 4096) == 0 || errno == EOPNOTSUPP;
        struct stat st;
        ok = ok && ::fstat(fd, &st) == 0 && st.st_size >= size;
        ::close(fd);
        if (!ok) return Fail("fallocate " + n);
        return true;
      }
      case 10: {  // flock is exclusive between two open file descriptions
        std::string n = Pick(Kind::kFile);
        if (n.empty()) return true;
        int a = ::open(Path(n).c_str(), O_RDONLY | O_CLOEXEC);
        int b = ::open(Path(n).c_str(), O_RDONLY | O_CLOEXEC);
        bool ok = a >= 0 && b >= 0 && ::flock(a, LOCK_EX | LOCK_NB) == 0 &&
                  ::flock(b, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
        if (a >= 0) ::close(a);
        if (b >= 0) ::close(b);
        if (!ok) return Fail("flock " + n);
        return true;
      }
      default: {  // stat must agree with the model
        for (const auto& [n, k] : model_) {
          struct stat st;
          if (::lstat(Path(n).c_str(), &st) != 0) return Fail("lstat " + n);
          if ((k == Kind::kDir) != S_ISDIR(st.st_mode)) return Fail("kind of " + n);
        }
        return true;
      }
    }
  }

  bool CheckListing() {
    DIR* d = ::opendir(dir_.c_str());
    if (d == nullptr) return Fail("opendir");
    std::set<std::string> seen;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") seen.insert(n);
    }
    ::closedir(d);
    std::set<std::string> want;
    for (const auto& [n, k] : model_) want.insert(n);
    if (seen != want) {
      std::fprintf(stderr, "churn %s: readdir lists %zu names, model has %zu\n", dir_.c_str(),
                   seen.size(), want.size());
      return false;
    }
    return true;
  }

  std::string dir_;
  std::mt19937_64 rng_;
  uint64_t next_ = 0;
  std::map<std::string, Kind> model_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: churn DIR [operations] [seed]\n");
    return 2;
  }
  long operations = argc > 2 ? std::atol(argv[2]) : 5000;
  uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
  return Churn(argv[1], seed).Run(operations) ? 0 : 1;
}
