// The passthroughfs behaviour suite: every case runs natively in a SOURCE
// directory (the reference) and through PassthroughFs mounted over SOURCE in
// each serving mode, and checks the same observable behaviour, plus, through
// the mount, that SOURCE shows what the mount did (bytes, inode numbers,
// attributes).
//
// Modes:
//   Native          the test works in SOURCE itself
//   Passthrough     default FsOptions (passthrough=auto): file I/O through
//                   kernel passthrough; the daemon must see no READ/WRITE
//   PassthroughNever  passthrough=never: the daemon serves file I/O
//   DirectIo        direct_io: read/write through the daemon, mmap through
//                   the backing file
//   CacheNever      cache=never: timeouts 0 and direct I/O; changes made in
//                   SOURCE behind the mount are seen at once (SourceChanges)
//   Writeback       passthrough=never with writeback cache: only the
//                   WritebackCache cases (Native beside it)
//   IoUring         Passthrough served over FUSE-over-io_uring
//   IoUringNever    PassthroughNever over io_uring: READ/WRITE data in the
//                   ring buffers
//   InodesByFd      Passthrough with inode_handles=never: each inode holds
//                   an O_PATH fd (the other modes hold inodes by handle)
//   TinyFdCache     Passthrough with inode_handles=always and fd_cache=8:
//                   inode fds are evicted and reopened by handle all the time
// The IoUring modes need the kernel's enable_uring switch on: ctest's
// enable_uring fixture turns it on (tests/integration/passthroughfs.cmake).
//
// Nothing here depends on speed: the only waits are for asynchronous
// RELEASEs, bounded by generous timeouts.
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fs_behaviour_helpers.h"
#include "fusekit/session.h"
#include "mount_fixture.h"
#include "passthrough_fs.h"

namespace fsbehaviour {
namespace {

using fusekit::Opcode;
using fusekit::testing::InProcessMount;
using fusekit::testing::CountOpenFds;
using fusekit::testing::IsMounted;
using fusekit::testing::TempDir;
using fusekit::testing::WaitUntil;
using passthroughfs::CacheMode;
using passthroughfs::FsOptions;
using passthroughfs::PassthroughFs;
using passthroughfs::PassthroughMode;

constexpr off_t kKiB = 1024;
constexpr off_t kMiB = 1024 * kKiB;
constexpr off_t kGiB = 1024 * kMiB;

// kWriteback (passthrough=never with writeback cache) serves only the
// WritebackCache cases: with it the kernel keeps mtime, ctime and st_blocks
// itself until it writes back, so the attribute comparisons of the main
// suite do not apply.
enum class Mode {
  kNative,
  kPassthrough,
  kNever,
  kDirectIo,
  kCacheNever,
  kWriteback,
  kIoUring,
  kIoUringNever,
  kInodesByFd,
  kTinyFdCache
};

bool OverIoUring(Mode m) { return m == Mode::kIoUring || m == Mode::kIoUringNever; }
// The modes whose file I/O the daemon serves.
bool DaemonServed(Mode m) {
  return m == Mode::kNever || m == Mode::kWriteback || m == Mode::kIoUringNever;
}
// The modes whose read/write go through passthrough.
bool PassthroughIo(Mode m) {
  return m == Mode::kPassthrough || m == Mode::kIoUring || m == Mode::kInodesByFd ||
         m == Mode::kTinyFdCache;
}

std::string ModeName(Mode m) {
  switch (m) {
    case Mode::kNative: return "Native";
    case Mode::kPassthrough: return "Passthrough";
    case Mode::kNever: return "PassthroughNever";
    case Mode::kDirectIo: return "DirectIo";
    case Mode::kCacheNever: return "CacheNever";
    case Mode::kWriteback: return "Writeback";
    case Mode::kIoUring: return "IoUring";
    case Mode::kIoUringNever: return "IoUringNever";
    case Mode::kInodesByFd: return "InodesByFd";
    case Mode::kTinyFdCache: return "TinyFdCache";
  }
  return "?";
}

void PrintTo(Mode m, std::ostream* os) { *os << ModeName(m); }

// One mode's world: SOURCE, and for the mounted modes PassthroughFs served
// in-process over it. Member order matters: the mount goes before the fs,
// the temp dir (which holds SOURCE and the mount point) last.
class Fixture {
 public:
  explicit Fixture(Mode mode) : mode_(mode) {}

  void Start() {
    fds_before_ = CountOpenFds();
    tmp_ = std::make_unique<TempDir>();
    source_ = tmp_->Sub("source");
    if (mode_ == Mode::kNative) {
      root_ = source_;
      old_umask_ = ::umask(022);
      return;
    }
    if (OverIoUring(mode_)) {
      std::ifstream param("/sys/module/fuse/parameters/enable_uring");
      std::string on;
      param >> on;
      if (on != "Y") GTEST_SKIP() << "enable_uring is off: run through ctest, whose fixture sets it";
    }
    FsOptions options;
    options.io_uring = OverIoUring(mode_);
    if (mode_ == Mode::kNever || mode_ == Mode::kIoUringNever)
      options.passthrough = PassthroughMode::kNever;
    if (mode_ == Mode::kDirectIo) options.direct_io = true;
    if (mode_ == Mode::kInodesByFd) options.inode_handles = passthroughfs::InodeHandles::kNever;
    if (mode_ == Mode::kTinyFdCache) {
      // Eviction all the time: every few calls reopen an inode by handle.
      options.inode_handles = passthroughfs::InodeHandles::kAlways;
      options.fd_cache = 8;
    }
    if (mode_ == Mode::kCacheNever) options.cache = CacheMode::kNever;
    if (mode_ == Mode::kWriteback) {
      options.passthrough = PassthroughMode::kNever;
      options.writeback = true;
    }
    UniqueFd source_fd(::open(source_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(source_fd) << source_ << ": " << std::strerror(errno);
    auto fs = PassthroughFs::Create(std::move(source_fd), options);
    ASSERT_TRUE(fs) << fs.error().message();
    fs_ = std::move(*fs);
    // PassthroughFs::Create sets the (process-wide) umask to 0 for the
    // daemon; the tests set the one they want. The daemon applying the
    // same mask again to what the kernel already masked changes nothing.
    old_umask_ = ::umask(022);
    fusekit::MountOptions mount_options;
    mount_options.fsname = source_;
    mount_options.subtype = "passthroughfs";
    mount_ = InProcessMount::Start(*fs_, fs_->SessionConfig(), mount_options);
    ASSERT_NE(mount_, nullptr);
    root_ = mount_->path();
    // The first request waits for INIT, which runs PassthroughFs::Init
    // before any worker serves this GETATTR.
    struct stat st;
    ASSERT_EQ(::stat(root_.c_str(), &st), 0) << root_ << ": " << std::strerror(errno);
    if (!DaemonServed(mode_)) {
      ASSERT_TRUE(fs_->passthrough_active()) << fs_->PassthroughStatus();
    } else {
      ASSERT_FALSE(fs_->passthrough_active());
    }
    if (OverIoUring(mode_)) {
      ASSERT_TRUE(mount_->session().connection().io_uring()) << "io_uring not agreed at INIT";
      ASSERT_GT(mount_->session().stats().io_uring_count(Opcode::GETATTR) +
                    mount_->session().stats().io_uring_count(Opcode::LOOKUP),
                0u)
          << "the first request did not come over a ring";
    }
  }

  // Checks what must hold after every case in this mode, then unmounts.
  void Finish(bool check_io_counters) {
    if (mount_) {
      if (PassthroughIo(mode_) && check_io_counters) {
        EXPECT_EQ(reads(), 0u) << "passthrough: the daemon served a READ";
        EXPECT_EQ(writes(), 0u) << "passthrough: the daemon served a WRITE";
      }
      if (DaemonServed(mode_)) {
        EXPECT_EQ(fs_->counters().passthrough_opens.load(), 0u);
      }
      if (mode_ == Mode::kTinyFdCache) {
        EXPECT_TRUE(fs_->inodes().handles());
        // The cache's 8, and one fd per mount for open_by_handle_at.
        EXPECT_LE(fs_->inodes().fd_count(), 8u + 1) << "inode fds beyond the budget";
      }
      // Every file the case opened is closed: once the kernel's
      // (asynchronous) RELEASEs arrive, the backing files left are the
      // kept ones, and the end of the session drops those.
      EXPECT_TRUE(WaitUntil(
          [&] {
            return fs_->open_files() == 0 &&
                   fs_->counters().backing_files.load() == fs_->kept_backing_files();
          },
          std::chrono::seconds(30)))
          << fs_->counters().backing_files.load() << " backing files registered, "
          << fs_->kept_backing_files() << " kept, " << fs_->open_files() << " files open";
      EXPECT_TRUE(mount_->Stop()) << "the session did not stop cleanly";
      EXPECT_EQ(fs_->counters().backing_files.load(), 0u) << "backing files left after the session";
      EXPECT_FALSE(IsMounted(root_)) << root_ << " still mounted";
      mount_.reset();
      fs_.reset();
      // Every fd the daemon held (inodes, open files, directories, backing
      // files, the device) is closed once it is gone.
      EXPECT_EQ(CountOpenFds(), fds_before_) << "fds leaked";
    }
    if (old_umask_) ::umask(*old_umask_);
    tmp_.reset();
  }

  Mode mode() const { return mode_; }
  bool native() const { return mode_ == Mode::kNative; }
  const std::string& root() const { return root_; }
  const std::string& source() const { return source_; }
  uint64_t reads() const { return mount_ ? mount_->session().stats().count(Opcode::READ) : 0; }
  uint64_t writes() const { return mount_ ? mount_->session().stats().count(Opcode::WRITE) : 0; }
  PassthroughFs* fs() const { return fs_.get(); }

 private:
  Mode mode_;
  std::unique_ptr<TempDir> tmp_;
  std::string source_;
  std::string root_;
  std::unique_ptr<PassthroughFs> fs_;
  std::unique_ptr<InProcessMount> mount_;
  std::optional<mode_t> old_umask_;
  size_t fds_before_ = 0;
};

class FsBehaviour : public ::testing::TestWithParam<Mode> {
 protected:
  FsBehaviour() : fx_(GetParam()) {}
  void SetUp() override { fx_.Start(); }
  void TearDown() override { fx_.Finish(check_io_counters_); }

  bool native() const { return fx_.native(); }
  Mode mode() const { return fx_.mode(); }
  // A path below the test's working root (the mount, or SOURCE natively).
  std::string P(const std::string& rel) const { return fx_.root() + "/" + rel; }
  // The same path in SOURCE.
  std::string S(const std::string& rel) const { return fx_.source() + "/" + rel; }
  const std::string& root() const { return fx_.root(); }

  Fixture fx_;
  bool check_io_counters_ = true;
};

// ------------------------------------------------------------------ readdir

// Names, d_ino and d_type through the mount equal SOURCE's, and so do the
// st_ino, size and mtime of every entry; d_ino equals the entry's st_ino.
void ExpectSameListing(const std::string& dir, const std::string& source_dir,
                       size_t expected_entries) {
  auto got = ListDir(dir);
  auto want = ListDir(source_dir);
  EXPECT_EQ(got.size(), expected_entries);
  EXPECT_EQ(got.size(), want.size());
  for (const auto& [name, entry] : want) {
    auto it = got.find(name);
    if (it == got.end()) {
      ADD_FAILURE() << dir << ": no entry " << name;
      continue;
    }
    EXPECT_EQ(it->second, entry) << dir << "/" << name;
    if (name == "." || name == "..") continue;
    struct stat g = LStat(dir + "/" + name);
    struct stat w = LStat(source_dir + "/" + name);
    EXPECT_EQ(g.st_ino, it->second.ino) << name << ": st_ino vs d_ino";
    EXPECT_EQ(g.st_ino, w.st_ino) << name;
    EXPECT_EQ(g.st_size, w.st_size) << name;
    EXPECT_EQ(g.st_mode, w.st_mode) << name;
    EXPECT_TRUE(SameTime(g.st_mtim, w.st_mtim)) << name << ": mtime " << Show(g.st_mtim)
                                                << " vs " << Show(w.st_mtim);
  }
  for (const auto& [name, entry] : got) {
    EXPECT_TRUE(want.count(name)) << dir << ": unexpected entry " << name;
  }
}

TEST_P(FsBehaviour, ReadDirSmall) {
  ASSERT_EQ(::mkdir(P("small").c_str(), 0755), 0) << std::strerror(errno);
  WriteFile(P("small/a"), "abc");
  WriteFile(P("small/b"), Pattern(1000, 1));
  ASSERT_EQ(::mkdir(P("small/sub").c_str(), 0700), 0);
  ASSERT_EQ(::symlink("a", P("small/link").c_str()), 0);
  ASSERT_EQ(::mkfifo(P("small/fifo").c_str(), 0600), 0);
  // Distinct, sub-second mtimes.
  timespec times[2] = {{1'600'000'000, 111}, {1'600'000'001, 222'333'444}};
  ASSERT_EQ(::utimensat(AT_FDCWD, P("small/a").c_str(), times, 0), 0);

  ExpectSameListing(P("small"), S("small"), 7);
  auto listing = ListDir(P("small"));
  EXPECT_EQ(listing["a"].type, DT_REG);
  EXPECT_EQ(listing["sub"].type, DT_DIR);
  EXPECT_EQ(listing["link"].type, DT_LNK);
  EXPECT_EQ(listing["fifo"].type, DT_FIFO);
  EXPECT_EQ(listing["."].ino, LStat(P("small")).st_ino);
  EXPECT_EQ(LStat(P("small/a")).st_mtim.tv_nsec, 222'333'444);
  // An empty directory lists "." and ".." only.
  EXPECT_EQ(ListDir(P("small/sub")).size(), 2u);
}

std::string LongName(int i) {
  std::string n = "entry-" + std::to_string(i) + "-";
  n.resize(220, static_cast<char>('a' + i % 26));
  return n;
}

TEST_P(FsBehaviour, ReadDirThousandLongNames) {
  constexpr int kEntries = 1000;
  ASSERT_EQ(::mkdir(P("big").c_str(), 0755), 0) << std::strerror(errno);
  for (int i = 0; i < kEntries; ++i) {
    std::string name = P("big/" + LongName(i));
    if (i % 10 == 9) {
      ASSERT_EQ(::mkdir(name.c_str(), 0755), 0) << name << ": " << std::strerror(errno);
    } else {
      ASSERT_NO_FATAL_FAILURE(WriteFile(name, std::string(static_cast<size_t>(i % 97), 'x')));
    }
  }
  ExpectSameListing(P("big"), S("big"), kEntries + 2);

  // telldir/seekdir and rewinddir across the several READDIR requests a
  // directory this size takes.
  DIR* dir = ::opendir(P("big").c_str());
  ASSERT_NE(dir, nullptr);
  std::vector<std::string> order;
  long mark = -1;
  std::string after_mark;
  while (dirent* e = ::readdir(dir)) {
    order.push_back(e->d_name);
    if (order.size() == 600) mark = ::telldir(dir);
  }
  ASSERT_EQ(order.size(), static_cast<size_t>(kEntries + 2));
  ASSERT_NE(mark, -1);
  ::seekdir(dir, mark);
  dirent* e = ::readdir(dir);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(std::string(e->d_name), order[600]) << "seekdir to a telldir cookie";
  ::rewinddir(dir);
  size_t again = 0;
  while (::readdir(dir) != nullptr) ++again;
  EXPECT_EQ(again, order.size()) << "after rewinddir";
  ::closedir(dir);
}

// ------------------------------------------------------------ file I/O

TEST_P(FsBehaviour, OpenReadWriteSeek) {
  UniqueFd fd = Open(P("f"), O_RDWR | O_CREAT | O_EXCL, 0644);
  ASSERT_TRUE(fd) << std::strerror(errno);
  ASSERT_EQ(::write(fd.get(), "hello world", 11), 11);
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_CUR), 11);
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_SET), 0);
  char buf[64] = {};
  ASSERT_EQ(::read(fd.get(), buf, 5), 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
  EXPECT_EQ(::lseek(fd.get(), -5, SEEK_END), 6);
  ASSERT_EQ(::read(fd.get(), buf, sizeof(buf)), 5);
  EXPECT_EQ(std::string(buf, 5), "world");
  EXPECT_EQ(::read(fd.get(), buf, sizeof(buf)), 0) << "at EOF";
  EXPECT_EQ(::lseek(fd.get(), 3, SEEK_SET), 3);
  ASSERT_EQ(::write(fd.get(), "XY", 2), 2);
  EXPECT_EQ(::lseek(fd.get(), 2, SEEK_CUR), 7);
  ASSERT_EQ(::pwrite(fd.get(), "!", 1, 10), 1);
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_CUR), 7) << "pwrite leaves the offset alone";
  ASSERT_EQ(::pread(fd.get(), buf, sizeof(buf), 0), 11);
  EXPECT_EQ(std::string(buf, 11), "helXY worl!");
  // A write past EOF leaves a gap of zeros.
  EXPECT_EQ(::lseek(fd.get(), 100, SEEK_SET), 100);
  ASSERT_EQ(::write(fd.get(), "Z", 1), 1);
  EXPECT_EQ(FStat(fd.get()).st_size, 101);
  FSB_ASSERT_OK(::fsync(fd.get()));
  FSB_EXPECT_ERRNO(::lseek(fd.get(), -1, SEEK_SET), EINVAL);
  fd.reset();

  std::string want = "helXY worl!" + std::string(89, '\0') + "Z";
  EXPECT_EQ(ReadFile(P("f")), want);
  EXPECT_EQ(ReadFile(S("f")), want) << "SOURCE holds what was written through the mount";
  ExpectSameAttrs(P("f"), S("f"));

  // Access modes are enforced.
  UniqueFd ro = Open(P("f"), O_RDONLY);
  ASSERT_TRUE(ro);
  FSB_EXPECT_ERRNO(::write(ro.get(), "x", 1), EBADF);
  UniqueFd wo = Open(P("f"), O_WRONLY);
  ASSERT_TRUE(wo);
  FSB_EXPECT_ERRNO(::read(wo.get(), buf, 1), EBADF);
  // O_TRUNC empties it.
  UniqueFd tr = Open(P("f"), O_WRONLY | O_TRUNC);
  ASSERT_TRUE(tr);
  EXPECT_EQ(FStat(tr.get()).st_size, 0);
  EXPECT_EQ(LStat(S("f")).st_size, 0);
}

TEST_P(FsBehaviour, AppendWritesAtEnd) {
  WriteFile(P("log"), "start\n");
  UniqueFd a = Open(P("log"), O_WRONLY | O_APPEND);
  UniqueFd b = Open(P("log"), O_RDWR | O_APPEND);
  ASSERT_TRUE(a && b) << std::strerror(errno);
  ASSERT_EQ(::write(a.get(), "a\n", 2), 2);
  EXPECT_EQ(::lseek(a.get(), 0, SEEK_CUR), 8);
  ASSERT_EQ(::write(b.get(), "b\n", 2), 2);
  EXPECT_EQ(::lseek(b.get(), 0, SEEK_CUR), 10);
  ASSERT_EQ(::write(a.get(), "c\n", 2), 2);
  EXPECT_EQ(::lseek(a.get(), 0, SEEK_CUR), 12);
  // Seeking back does not matter with O_APPEND, nor does pwrite's offset
  // (Linux appends).
  EXPECT_EQ(::lseek(b.get(), 0, SEEK_SET), 0);
  ASSERT_EQ(::write(b.get(), "d\n", 2), 2);
  ASSERT_EQ(::pwrite(a.get(), "P", 1, 0), 1);
  char buf[32] = {};
  ASSERT_EQ(::pread(b.get(), buf, sizeof(buf), 0), 15);
  EXPECT_EQ(std::string(buf, 15), "start\na\nb\nc\nd\nP");
  a.reset();
  b.reset();
  EXPECT_EQ(ReadFile(S("log")), "start\na\nb\nc\nd\nP");
  ExpectSameAttrs(P("log"), S("log"));
}

TEST_P(FsBehaviour, CreateHonoursMode) {
  FSB_EXPECT_ERRNO(::access(P("new").c_str(), F_OK), ENOENT);
  struct stat st;
  FSB_EXPECT_ERRNO(::stat(P("new").c_str(), &st), ENOENT);
  FSB_EXPECT_ERRNO(::open(P("new").c_str(), O_RDONLY | O_CLOEXEC), ENOENT);

  ::umask(0);
  UniqueFd fd = Open(P("new"), O_WRONLY | O_CREAT | O_EXCL, 0640);
  ASSERT_TRUE(fd) << std::strerror(errno);
  struct stat f = FStat(fd.get());
  EXPECT_TRUE(S_ISREG(f.st_mode));
  EXPECT_EQ(f.st_mode & 07777, 0640u);
  EXPECT_EQ(f.st_size, 0);
  EXPECT_EQ(f.st_nlink, 1u);
  EXPECT_EQ(f.st_uid, ::geteuid());
  struct stat s = LStat(S("new"));
  EXPECT_TRUE(S_ISREG(s.st_mode));
  EXPECT_EQ(s.st_mode & 07777, 0640u);
  EXPECT_EQ(f.st_ino, s.st_ino) << "st_ino through the mount is SOURCE's";
  ExpectSameAttrs(P("new"), S("new"));
  FSB_EXPECT_ERRNO(::open(P("new").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600), EEXIST);

  // The umask applies once.
  ::umask(027);
  UniqueFd g = Open(P("masked"), O_RDWR | O_CREAT, 0666);
  ASSERT_TRUE(g);
  EXPECT_EQ(FStat(g.get()).st_mode & 07777, 0640u);
  EXPECT_EQ(LStat(S("masked")).st_mode & 07777, 0640u);
  ::umask(022);
  // Unusual bits are kept: setgid, sticky, none at all.
  ::umask(0);
  UniqueFd h = Open(P("odd"), O_RDWR | O_CREAT, 02701);
  ASSERT_TRUE(h);
  EXPECT_EQ(LStat(P("odd")).st_mode & 07777, 02701u);
  EXPECT_EQ(LStat(S("odd")).st_mode & 07777, 02701u);
  UniqueFd z = Open(P("zero"), O_RDWR | O_CREAT, 0);
  ASSERT_TRUE(z) << "root creates a mode-0 file and gets it open";
  EXPECT_EQ(LStat(P("zero")).st_mode & 07777, 0u);
  ::umask(022);

  FSB_EXPECT_ERRNO(::open(P("missing/x").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644), ENOENT);
  FSB_EXPECT_ERRNO(::open(P("new/x").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644), ENOTDIR);
  std::string too_long(256, 'n');
  FSB_EXPECT_ERRNO(::open(P(too_long).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644),
                   ENAMETOOLONG);
}

TEST_P(FsBehaviour, MkdirRmdir) {
  nlink_t root_links = LStat(root()).st_nlink;
  ::umask(0);
  ASSERT_EQ(::mkdir(P("d").c_str(), 0750), 0) << std::strerror(errno);
  ::umask(022);
  struct stat d = LStat(P("d"));
  EXPECT_TRUE(S_ISDIR(d.st_mode));
  EXPECT_EQ(d.st_mode & 07777, 0750u);
  EXPECT_EQ(d.st_nlink, 2u);
  ExpectSameAttrs(P("d"), S("d"));
  EXPECT_EQ(LStat(root()).st_nlink, root_links + 1) << "the parent's link count";
  FSB_EXPECT_ERRNO(::mkdir(P("d").c_str(), 0755), EEXIST);
  FSB_EXPECT_ERRNO(::mkdir(P("nope/d").c_str(), 0755), ENOENT);

  ASSERT_EQ(::mkdir(P("d/inner").c_str(), 0755), 0);
  WriteFile(P("d/file"), "x");
  EXPECT_EQ(LStat(P("d")).st_nlink, 3u);
  FSB_EXPECT_ERRNO(::rmdir(P("d").c_str()), ENOTEMPTY);
  FSB_EXPECT_ERRNO(::rmdir(P("d/file").c_str()), ENOTDIR);
  FSB_EXPECT_ERRNO(::rmdir(P("d/inner/.").c_str()), EINVAL);
  ASSERT_EQ(::rmdir(P("d/inner").c_str()), 0);
  FSB_EXPECT_ERRNO(::rmdir(P("d").c_str()), ENOTEMPTY);
  ASSERT_EQ(::unlink(P("d/file").c_str()), 0);
  ASSERT_EQ(::rmdir(P("d").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(Exists(P("d")));
  EXPECT_FALSE(Exists(S("d")));
  FSB_EXPECT_ERRNO(::rmdir(P("d").c_str()), ENOENT);
  EXPECT_EQ(LStat(root()).st_nlink, root_links);

  // A setgid directory passes its group, and setgid to subdirectories.
  ASSERT_EQ(::mkdir(P("g").c_str(), 0755), 0);
  ASSERT_EQ(::chown(P("g").c_str(), 0, 5000), 0);
  ASSERT_EQ(::chmod(P("g").c_str(), 02775), 0);
  ASSERT_EQ(::mkdir(P("g/sub").c_str(), 0755), 0);
  WriteFile(P("g/file"), "f");
  EXPECT_EQ(LStat(P("g/sub")).st_gid, 5000u);
  EXPECT_EQ(LStat(P("g/sub")).st_mode & 07777, 02755u);
  EXPECT_EQ(LStat(P("g/file")).st_gid, 5000u);
  ExpectSameAttrs(P("g/sub"), S("g/sub"));
  ExpectSameAttrs(P("g/file"), S("g/file"));
}

TEST_P(FsBehaviour, Unlink) {
  WriteFile(P("f"), "data");
  ASSERT_EQ(::unlink(P("f").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(Exists(P("f")));
  EXPECT_FALSE(Exists(S("f")));
  FSB_EXPECT_ERRNO(::unlink(P("f").c_str()), ENOENT);
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0);
  FSB_EXPECT_ERRNO(::unlink(P("d").c_str()), EISDIR);
  // The name can be reused at once, for a new file.
  WriteFile(P("f"), "new");
  EXPECT_EQ(ReadFile(P("f")), "new");
  ExpectSameAttrs(P("f"), S("f"));
}

TEST_P(FsBehaviour, SymlinkReadlink) {
  ASSERT_EQ(::symlink("target", P("l").c_str()), 0) << std::strerror(errno);
  char buf[PATH_MAX];
  ASSERT_EQ(::readlink(P("l").c_str(), buf, sizeof(buf)), 6);
  EXPECT_EQ(std::string(buf, 6), "target");
  ASSERT_EQ(::readlink(P("l").c_str(), buf, 3), 3) << "truncated to the buffer";
  EXPECT_EQ(std::string(buf, 3), "tar");
  struct stat l = LStat(P("l"));
  EXPECT_TRUE(S_ISLNK(l.st_mode));
  EXPECT_EQ(l.st_size, 6);
  ExpectSameAttrs(P("l"), S("l"));
  ASSERT_EQ(::readlink(S("l").c_str(), buf, sizeof(buf)), 6);
  struct stat st;
  FSB_EXPECT_ERRNO(::stat(P("l").c_str(), &st), ENOENT);  // dangling
  WriteFile(P("target"), "through the link");
  ASSERT_EQ(::stat(P("l").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_ino, LStat(S("target")).st_ino);
  EXPECT_EQ(ReadFile(P("l")), "through the link");
  FSB_EXPECT_ERRNO(::readlink(P("target").c_str(), buf, sizeof(buf)), EINVAL);
  FSB_EXPECT_ERRNO(::symlink("x", P("target").c_str()), EEXIST);
  FSB_EXPECT_ERRNO(::open(P("l").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC), ELOOP);
  // O_CREAT through a dangling symlink creates its target; with O_EXCL it
  // does not.
  ASSERT_EQ(::symlink("created-by-open", P("dangling").c_str()), 0);
  FSB_EXPECT_ERRNO(::open(P("dangling").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644),
                   EEXIST);
  {
    UniqueFd fd = Open(P("dangling"), O_WRONLY | O_CREAT, 0644);
    ASSERT_TRUE(fd) << std::strerror(errno);
    ASSERT_TRUE(PWriteAll(fd.get(), "via link", 0));
  }
  EXPECT_TRUE(S_ISREG(LStat(S("created-by-open")).st_mode));
  EXPECT_EQ(ReadFile(S("created-by-open")), "via link");
  EXPECT_TRUE(S_ISLNK(LStat(P("dangling")).st_mode));

  // A long absolute target, and a link to a directory.
  std::string target = "/" + std::string(300, 't') + "/" + std::string(200, 'u');
  ASSERT_EQ(::symlink(target.c_str(), P("long").c_str()), 0);
  ssize_t n = ::readlink(P("long").c_str(), buf, sizeof(buf));
  ASSERT_EQ(n, static_cast<ssize_t>(target.size()));
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), target);
  ASSERT_EQ(::mkdir(P("dir").c_str(), 0755), 0);
  WriteFile(P("dir/inside"), "in");
  ASSERT_EQ(::symlink("dir", P("dirlink").c_str()), 0);
  EXPECT_EQ(ReadFile(P("dirlink/inside")), "in");
}

TEST_P(FsBehaviour, HardLinkCounts) {
  WriteFile(P("a"), "shared");
  ASSERT_EQ(::link(P("a").c_str(), P("b").c_str()), 0) << std::strerror(errno);
  struct stat a = LStat(P("a"));
  struct stat b = LStat(P("b"));
  EXPECT_EQ(a.st_nlink, 2u);
  EXPECT_EQ(b.st_nlink, 2u);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(LStat(S("a")).st_nlink, 2u);
  EXPECT_EQ(LStat(S("b")).st_ino, a.st_ino);
  ExpectSameAttrs(P("b"), S("b"));
  {
    UniqueFd fd = Open(P("b"), O_WRONLY | O_APPEND);
    ASSERT_TRUE(fd);
    ASSERT_EQ(::write(fd.get(), "+", 1), 1);
  }
  EXPECT_EQ(ReadFile(P("a")), "shared+") << "one inode under two names";
  ASSERT_EQ(::link(P("a").c_str(), P("c").c_str()), 0);
  EXPECT_EQ(LStat(P("a")).st_nlink, 3u);
  ASSERT_EQ(::unlink(P("b").c_str()), 0);
  ASSERT_EQ(::unlink(P("c").c_str()), 0);
  EXPECT_EQ(LStat(P("a")).st_nlink, 1u);
  EXPECT_EQ(LStat(S("a")).st_nlink, 1u);
  ExpectSameAttrs(P("a"), S("a"));

  FSB_EXPECT_ERRNO(::link(P("missing").c_str(), P("x").c_str()), ENOENT);
  WriteFile(P("other"), "o");
  FSB_EXPECT_ERRNO(::link(P("a").c_str(), P("other").c_str()), EEXIST);
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0);
  FSB_EXPECT_ERRNO(::link(P("d").c_str(), P("dlink").c_str()), EPERM);
  // A hard link to a symlink links the symlink itself.
  ASSERT_EQ(::symlink("a", P("sym").c_str()), 0);
  ASSERT_EQ(::linkat(AT_FDCWD, P("sym").c_str(), AT_FDCWD, P("sym2").c_str(), 0), 0)
      << std::strerror(errno);
  EXPECT_TRUE(S_ISLNK(LStat(P("sym2")).st_mode));
  EXPECT_EQ(LStat(P("sym2")).st_ino, LStat(S("sym")).st_ino);
  EXPECT_EQ(LStat(P("sym")).st_nlink, 2u);
}

TEST_P(FsBehaviour, ChmodChown) {
  WriteFile(P("f"), "x");
  ASSERT_EQ(::chmod(P("f").c_str(), 0604), 0) << std::strerror(errno);
  EXPECT_EQ(LStat(P("f")).st_mode & 07777, 0604u);
  EXPECT_EQ(LStat(S("f")).st_mode & 07777, 0604u);
  ASSERT_EQ(::chmod(P("f").c_str(), 04755), 0);
  EXPECT_EQ(LStat(P("f")).st_mode & 07777, 04755u);
  EXPECT_EQ(LStat(S("f")).st_mode & 07777, 04755u);
  {
    UniqueFd fd = Open(P("f"), O_RDONLY);
    ASSERT_TRUE(fd);
    ASSERT_EQ(::fchmod(fd.get(), 0640), 0) << std::strerror(errno);
    EXPECT_EQ(FStat(fd.get()).st_mode & 07777, 0640u);
    ASSERT_EQ(::fchown(fd.get(), 4321, static_cast<gid_t>(-1)), 0) << std::strerror(errno);
    EXPECT_EQ(FStat(fd.get()).st_uid, 4321u);
  }
  EXPECT_EQ(LStat(S("f")).st_mode & 07777, 0640u);
  EXPECT_EQ(LStat(S("f")).st_uid, 4321u);
  ASSERT_EQ(::chown(P("f").c_str(), 1234, 5678), 0) << std::strerror(errno);
  struct stat st = LStat(P("f"));
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  ExpectSameAttrs(P("f"), S("f"));
  ASSERT_EQ(::chown(P("f").c_str(), static_cast<uid_t>(-1), 99), 0);
  EXPECT_EQ(LStat(P("f")).st_uid, 1234u) << "-1 leaves the owner";
  EXPECT_EQ(LStat(P("f")).st_gid, 99u);
  // chown by root of a setuid file: the kernel drops setuid, natively and
  // through the mount alike.
  ASSERT_EQ(::chmod(P("f").c_str(), 06755), 0);
  ASSERT_EQ(::chown(P("f").c_str(), 1000, 1000), 0);
  EXPECT_EQ(LStat(P("f")).st_mode & 07777, LStat(S("f")).st_mode & 07777);
  EXPECT_EQ(LStat(P("f")).st_mode & 06000, 0u) << "chown clears setuid/setgid";

  // lchown changes the symlink, not its target; chmod of a directory.
  ASSERT_EQ(::symlink("f", P("l").c_str()), 0);
  ASSERT_EQ(::lchown(P("l").c_str(), 777, 888), 0) << std::strerror(errno);
  EXPECT_EQ(LStat(P("l")).st_uid, 777u);
  EXPECT_EQ(LStat(S("l")).st_gid, 888u);
  EXPECT_EQ(LStat(P("f")).st_uid, 1000u);
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0);
  ASSERT_EQ(::chmod(P("d").c_str(), 01777), 0);
  EXPECT_EQ(LStat(P("d")).st_mode & 07777, 01777u);
  ExpectSameAttrs(P("d"), S("d"));
  FSB_EXPECT_ERRNO(::chmod(P("missing").c_str(), 0644), ENOENT);
}

TEST_P(FsBehaviour, UtimensatNanoseconds) {
  WriteFile(P("f"), "t");
  timespec set[2] = {{1'000'000'000, 123'456'789}, {1'500'000'000, 987'654'321}};
  ASSERT_EQ(::utimensat(AT_FDCWD, P("f").c_str(), set, 0), 0) << std::strerror(errno);
  struct stat st = LStat(P("f"));
  EXPECT_TRUE(SameTime(st.st_atim, set[0])) << Show(st.st_atim);
  EXPECT_TRUE(SameTime(st.st_mtim, set[1])) << Show(st.st_mtim);
  struct stat src = LStat(S("f"));
  EXPECT_TRUE(SameTime(src.st_atim, set[0])) << Show(src.st_atim);
  EXPECT_TRUE(SameTime(src.st_mtim, set[1])) << Show(src.st_mtim);

  // UTIME_OMIT leaves atime; mtime changes.
  timespec omit_atime[2] = {{0, UTIME_OMIT}, {1'700'000'000, 1}};
  ASSERT_EQ(::utimensat(AT_FDCWD, P("f").c_str(), omit_atime, 0), 0);
  st = LStat(P("f"));
  EXPECT_TRUE(SameTime(st.st_atim, set[0])) << Show(st.st_atim);
  EXPECT_TRUE(SameTime(st.st_mtim, omit_atime[1])) << Show(st.st_mtim);
  EXPECT_TRUE(SameTime(LStat(S("f")).st_atim, set[0]));

  // UTIME_NOW for mtime, UTIME_OMIT for atime: mtime lands between the
  // (coarse) clock before and the clock after; atime unchanged.
  timespec before, after;
  ::clock_gettime(CLOCK_REALTIME_COARSE, &before);
  timespec now_mtime[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  ASSERT_EQ(::utimensat(AT_FDCWD, P("f").c_str(), now_mtime, 0), 0);
  ::clock_gettime(CLOCK_REALTIME, &after);
  st = LStat(P("f"));
  auto ns = [](const timespec& t) { return static_cast<__int128>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; };
  EXPECT_GE(ns(st.st_mtim), ns(before)) << Show(st.st_mtim) << " before " << Show(before);
  EXPECT_LE(ns(st.st_mtim), ns(after)) << Show(st.st_mtim) << " after " << Show(after);
  EXPECT_TRUE(SameTime(st.st_atim, set[0])) << Show(st.st_atim);
  src = LStat(S("f"));
  EXPECT_TRUE(SameTime(st.st_mtim, src.st_mtim)) << Show(st.st_mtim) << " vs " << Show(src.st_mtim);

  // Both UTIME_NOW (NULL times), through an open fd.
  {
    UniqueFd fd = Open(P("f"), O_RDONLY);
    ASSERT_TRUE(fd);
    ::clock_gettime(CLOCK_REALTIME_COARSE, &before);
    ASSERT_EQ(::futimens(fd.get(), nullptr), 0) << std::strerror(errno);
    st = FStat(fd.get());
    EXPECT_GE(ns(st.st_atim), ns(before));
    EXPECT_GE(ns(st.st_mtim), ns(before));
    timespec fd_set[2] = {{2'000'000'000, 5}, {2'000'000'001, 999'999'999}};
    ASSERT_EQ(::futimens(fd.get(), fd_set), 0) << std::strerror(errno);
    st = FStat(fd.get());
    EXPECT_TRUE(SameTime(st.st_atim, fd_set[0])) << Show(st.st_atim);
    EXPECT_TRUE(SameTime(st.st_mtim, fd_set[1])) << Show(st.st_mtim);
  }
  src = LStat(S("f"));
  EXPECT_EQ(src.st_mtim.tv_nsec, 999'999'999);
  EXPECT_EQ(src.st_atim.tv_nsec, 5);

  // A symlink's own times (AT_SYMLINK_NOFOLLOW), its target untouched.
  ASSERT_EQ(::symlink("f", P("l").c_str()), 0);
  timespec link_times[2] = {{1'234'567'890, 42}, {1'234'567'891, 43}};
  ASSERT_EQ(::utimensat(AT_FDCWD, P("l").c_str(), link_times, AT_SYMLINK_NOFOLLOW), 0)
      << std::strerror(errno);
  EXPECT_TRUE(SameTime(LStat(P("l")).st_mtim, link_times[1]));
  EXPECT_TRUE(SameTime(LStat(S("l")).st_mtim, link_times[1]));
  EXPECT_EQ(LStat(P("f")).st_mtim.tv_nsec, 999'999'999);
  // A directory's times.
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0);
  ASSERT_EQ(::utimensat(AT_FDCWD, P("d").c_str(), set, 0), 0);
  EXPECT_TRUE(SameTime(LStat(P("d")).st_mtim, set[1]));
  ExpectSameAttrs(P("d"), S("d"));
}

TEST_P(FsBehaviour, TruncateByPathAndFd) {
  std::string data = Pattern(10000, 7);
  WriteFile(P("f"), data);
  ASSERT_EQ(::truncate(P("f").c_str(), 20000), 0) << std::strerror(errno);
  std::string want = data + std::string(10000, '\0');
  EXPECT_EQ(LStat(P("f")).st_size, 20000);
  EXPECT_EQ(ReadFile(P("f")), want) << "grown with zeros";
  EXPECT_EQ(ReadFile(S("f")), want);
  ASSERT_EQ(::truncate(P("f").c_str(), 5000), 0);
  want = data.substr(0, 5000);
  EXPECT_EQ(LStat(P("f")).st_size, 5000);
  EXPECT_EQ(ReadFile(P("f")), want);
  EXPECT_EQ(ReadFile(S("f")), want);
  {
    UniqueFd fd = Open(P("f"), O_RDWR);
    ASSERT_TRUE(fd);
    char c;
    ASSERT_EQ(::pread(fd.get(), &c, 1, 4999), 1);  // pages cached before growing
    ASSERT_EQ(::ftruncate(fd.get(), 8192), 0) << std::strerror(errno);
    EXPECT_EQ(FStat(fd.get()).st_size, 8192);
    auto got = PReadUpTo(fd.get(), 10000, 0);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, want + std::string(8192 - 5000, '\0'));
    ASSERT_EQ(::ftruncate(fd.get(), 100), 0);
    EXPECT_EQ(FStat(fd.get()).st_size, 100);
    got = PReadUpTo(fd.get(), 10000, 0);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, data.substr(0, 100));
    // Writing past the shrunk end leaves zeros, not the old bytes.
    ASSERT_EQ(::pwrite(fd.get(), "E", 1, 200), 1);
    got = PReadUpTo(fd.get(), 10000, 0);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, data.substr(0, 100) + std::string(100, '\0') + "E");
    ASSERT_EQ(::ftruncate(fd.get(), 0), 0);
    EXPECT_EQ(FStat(fd.get()).st_size, 0);
  }
  EXPECT_EQ(ReadFile(S("f")), "");
  ExpectSameAttrs(P("f"), S("f"));
  {
    UniqueFd ro = Open(P("f"), O_RDONLY);
    ASSERT_TRUE(ro);
    FSB_EXPECT_ERRNO(::ftruncate(ro.get(), 10), EINVAL);
  }
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0);
  FSB_EXPECT_ERRNO(::truncate(P("d").c_str(), 0), EISDIR);
  FSB_EXPECT_ERRNO(::truncate(P("missing").c_str(), 0), ENOENT);
  FSB_EXPECT_ERRNO(::truncate(P("f").c_str(), -1), EINVAL);
}

TEST_P(FsBehaviour, UnlinkWhileOpen) {
  WriteFile(P("f"), "data");
  UniqueFd fd = Open(P("f"), O_RDWR);
  ASSERT_TRUE(fd);
  ino_t ino = FStat(fd.get()).st_ino;
  ASSERT_EQ(::unlink(P("f").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(Exists(P("f")));
  EXPECT_FALSE(Exists(S("f")));
  auto got = PReadUpTo(fd.get(), 100, 0);
  ASSERT_TRUE(got) << std::strerror(errno);
  EXPECT_EQ(*got, "data");
  ASSERT_TRUE(PWriteAll(fd.get(), "more", 4)) << std::strerror(errno);
  got = PReadUpTo(fd.get(), 100, 0);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "datamore");
  struct stat st = FStat(fd.get());
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(st.st_size, 8);
  EXPECT_EQ(st.st_ino, ino);
  ASSERT_EQ(::ftruncate(fd.get(), 2), 0) << std::strerror(errno);
  EXPECT_EQ(FStat(fd.get()).st_size, 2);
  ASSERT_EQ(::fchmod(fd.get(), 0600), 0) << std::strerror(errno);
  EXPECT_EQ(FStat(fd.get()).st_mode & 07777, 0600u);
  // A new file under the old name is another inode.
  WriteFile(P("f"), "new file");
  EXPECT_EQ(ReadFile(P("f")), "new file");
  got = PReadUpTo(fd.get(), 100, 0);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "da");
  // And a second open of the unlinked file, through /proc.
  UniqueFd again = Open("/proc/self/fd/" + std::to_string(fd.get()), O_RDONLY);
  ASSERT_TRUE(again) << std::strerror(errno);
  got = PReadUpTo(again.get(), 100, 0);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "da");
}

// ------------------------------------------------------------------ rename

TEST_P(FsBehaviour, RenameFilesAndDirectories) {
  WriteFile(P("a"), "A");
  WriteFile(P("b"), "B");
  ino_t ino_a = LStat(P("a")).st_ino;
  ASSERT_EQ(::rename(P("a").c_str(), P("c").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(Exists(P("a")));
  EXPECT_FALSE(Exists(S("a")));
  EXPECT_EQ(LStat(P("c")).st_ino, ino_a);
  EXPECT_EQ(LStat(S("c")).st_ino, ino_a);
  EXPECT_EQ(ReadFile(P("c")), "A");
  // Over an existing file, which goes away.
  ASSERT_EQ(::rename(P("c").c_str(), P("b").c_str()), 0);
  EXPECT_FALSE(Exists(P("c")));
  EXPECT_EQ(LStat(P("b")).st_ino, ino_a);
  EXPECT_EQ(ReadFile(P("b")), "A");
  EXPECT_EQ(ReadFile(S("b")), "A");
  ASSERT_EQ(::rename(P("b").c_str(), P("b").c_str()), 0) << "renaming onto itself";
  EXPECT_EQ(ReadFile(P("b")), "A");

  // Directories, with what is inside, across directories.
  ASSERT_EQ(::mkdir(P("d1").c_str(), 0755), 0);
  WriteFile(P("d1/inside"), "in");
  ino_t ino_d1 = LStat(P("d1")).st_ino;
  ASSERT_EQ(::rename(P("d1").c_str(), P("d2").c_str()), 0);
  EXPECT_EQ(ReadFile(P("d2/inside")), "in");
  ASSERT_EQ(::mkdir(P("p").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(P("p/q").c_str(), 0755), 0);
  ASSERT_EQ(::rename(P("d2").c_str(), P("p/q/moved").c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(LStat(P("p/q/moved")).st_ino, ino_d1);
  EXPECT_EQ(ReadFile(P("p/q/moved/inside")), "in");
  EXPECT_EQ(ReadFile(S("p/q/moved/inside")), "in");
  EXPECT_FALSE(Exists(S("d2")));
  // ".." of the moved directory is its new parent.
  EXPECT_EQ(LStat(P("p/q/moved/..")).st_ino, LStat(S("p/q")).st_ino);
  ExpectSameAttrs(P("p/q"), S("p/q"));

  // A directory into its own subdirectory, and the type mismatches.
  FSB_EXPECT_ERRNO(::rename(P("p").c_str(), P("p/q/x").c_str()), EINVAL);
  FSB_EXPECT_ERRNO(::rename(P("p").c_str(), P("p/q").c_str()), EINVAL);
  FSB_EXPECT_ERRNO(::rename(P("p/q").c_str(), P("p").c_str()), ENOTEMPTY);
  FSB_EXPECT_ERRNO(::rename(P("p").c_str(), P("b").c_str()), ENOTDIR);
  FSB_EXPECT_ERRNO(::rename(P("b").c_str(), P("p").c_str()), EISDIR);
  FSB_EXPECT_ERRNO(::rename(P("missing").c_str(), P("x").c_str()), ENOENT);
  ASSERT_EQ(::mkdir(P("empty").c_str(), 0755), 0);
  ASSERT_EQ(::rename(P("p").c_str(), P("empty").c_str()), 0) << "over an empty directory";
  EXPECT_EQ(ReadFile(P("empty/q/moved/inside")), "in");

  // An open file follows its inode across a rename.
  UniqueFd fd = Open(P("b"), O_RDWR);
  ASSERT_TRUE(fd);
  ASSERT_EQ(::rename(P("b").c_str(), P("empty/q/b2").c_str()), 0);
  ASSERT_TRUE(PWriteAll(fd.get(), "Z", 1));
  fd.reset();
  EXPECT_EQ(ReadFile(S("empty/q/b2")), "AZ");
}

TEST_P(FsBehaviour, RenameNoReplace) {
  WriteFile(P("a"), "A");
  WriteFile(P("b"), "B");
  FSB_EXPECT_ERRNO(::renameat2(AT_FDCWD, P("a").c_str(), AT_FDCWD, P("b").c_str(),
                               RENAME_NOREPLACE),
                   EEXIST);
  EXPECT_EQ(ReadFile(P("a")), "A");
  EXPECT_EQ(ReadFile(P("b")), "B");
  EXPECT_EQ(ReadFile(S("b")), "B");
  ASSERT_EQ(::renameat2(AT_FDCWD, P("a").c_str(), AT_FDCWD, P("c").c_str(), RENAME_NOREPLACE),
            0)
      << std::strerror(errno);
  EXPECT_FALSE(Exists(P("a")));
  EXPECT_EQ(ReadFile(P("c")), "A");
  EXPECT_EQ(ReadFile(S("c")), "A");
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0);
  FSB_EXPECT_ERRNO(::renameat2(AT_FDCWD, P("c").c_str(), AT_FDCWD, P("d").c_str(),
                               RENAME_NOREPLACE),
                   EEXIST);
}

TEST_P(FsBehaviour, RenameExchange) {
  WriteFile(P("f"), "file");
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0);
  WriteFile(P("d/child"), "child");
  ino_t ino_f = LStat(P("f")).st_ino;
  ino_t ino_d = LStat(P("d")).st_ino;
  ASSERT_EQ(::renameat2(AT_FDCWD, P("f").c_str(), AT_FDCWD, P("d").c_str(), RENAME_EXCHANGE), 0)
      << std::strerror(errno);
  EXPECT_TRUE(S_ISDIR(LStat(P("f")).st_mode));
  EXPECT_TRUE(S_ISREG(LStat(P("d")).st_mode));
  EXPECT_EQ(LStat(P("f")).st_ino, ino_d);
  EXPECT_EQ(LStat(P("d")).st_ino, ino_f);
  EXPECT_EQ(ReadFile(P("f/child")), "child");
  EXPECT_EQ(ReadFile(P("d")), "file");
  EXPECT_EQ(ReadFile(S("f/child")), "child");
  EXPECT_EQ(ReadFile(S("d")), "file");
  ExpectSameAttrs(P("f"), S("f"));
  ExpectSameAttrs(P("d"), S("d"));
  // Two files, across directories.
  WriteFile(P("g"), "g");
  ASSERT_EQ(::renameat2(AT_FDCWD, P("g").c_str(), AT_FDCWD, P("f/child").c_str(),
                        RENAME_EXCHANGE),
            0);
  EXPECT_EQ(ReadFile(P("g")), "child");
  EXPECT_EQ(ReadFile(P("f/child")), "g");
  EXPECT_EQ(ReadFile(S("g")), "child");
  FSB_EXPECT_ERRNO(::renameat2(AT_FDCWD, P("g").c_str(), AT_FDCWD, P("missing").c_str(),
                               RENAME_EXCHANGE),
                   ENOENT);
  FSB_EXPECT_ERRNO(::renameat2(AT_FDCWD, P("g").c_str(), AT_FDCWD, P("d").c_str(),
                               RENAME_EXCHANGE | RENAME_NOREPLACE),
                   EINVAL);
}

TEST_P(FsBehaviour, RenameWhiteout) {
  if (::geteuid() != 0) GTEST_SKIP() << "RENAME_WHITEOUT needs CAP_MKNOD (run as root)";
  WriteFile(P("a"), "A");
  int rc = ::renameat2(AT_FDCWD, P("a").c_str(), AT_FDCWD, P("b").c_str(), RENAME_WHITEOUT);
  int err = errno;
  if (rc != 0 && native() && (err == EINVAL || err == EOPNOTSUPP)) {
    GTEST_SKIP() << "the source filesystem refuses RENAME_WHITEOUT: " << std::strerror(err);
  }
  ASSERT_EQ(rc, 0) << std::strerror(err);
  EXPECT_EQ(ReadFile(P("b")), "A");
  EXPECT_EQ(ReadFile(S("b")), "A");
  // The old name is now a whiteout: a character device 0:0.
  struct stat w = LStat(P("a"));
  EXPECT_TRUE(S_ISCHR(w.st_mode)) << std::oct << w.st_mode;
  EXPECT_EQ(w.st_rdev, makedev(0, 0));
  struct stat sw = LStat(S("a"));
  EXPECT_TRUE(S_ISCHR(sw.st_mode));
  EXPECT_EQ(sw.st_rdev, makedev(0, 0));
  EXPECT_EQ(w.st_ino, sw.st_ino);
  auto listing = ListDir(P("."));
  EXPECT_EQ(listing["a"].type, DT_CHR);
  // RENAME_WHITEOUT with RENAME_EXCHANGE is invalid.
  FSB_EXPECT_ERRNO(::renameat2(AT_FDCWD, P("b").c_str(), AT_FDCWD, P("a").c_str(),
                               RENAME_WHITEOUT | RENAME_EXCHANGE),
                   EINVAL);
}

// ------------------------------------------------------------------ special files

TEST_P(FsBehaviour, MknodFifo) {
  ::umask(0);
  ASSERT_EQ(::mkfifo(P("fifo").c_str(), 0640), 0) << std::strerror(errno);
  ASSERT_EQ(::mknod(P("fifo2").c_str(), S_IFIFO | 0600, 0), 0) << std::strerror(errno);
  ::umask(022);
  struct stat st = LStat(P("fifo"));
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_TRUE(S_ISFIFO(LStat(S("fifo")).st_mode));
  EXPECT_TRUE(S_ISFIFO(LStat(P("fifo2")).st_mode));
  ExpectSameAttrs(P("fifo"), S("fifo"));
  // A working pipe.
  UniqueFd fd = Open(P("fifo"), O_RDWR | O_NONBLOCK);
  ASSERT_TRUE(fd) << std::strerror(errno);
  ASSERT_EQ(::write(fd.get(), "pipe", 4), 4);
  char buf[8];
  ASSERT_EQ(::read(fd.get(), buf, sizeof(buf)), 4);
  EXPECT_EQ(std::string(buf, 4), "pipe");
  FSB_EXPECT_ERRNO(::read(fd.get(), buf, sizeof(buf)), EAGAIN);
  FSB_EXPECT_ERRNO(::mkfifo(P("fifo").c_str(), 0600), EEXIST);
}

TEST_P(FsBehaviour, MknodUnixSocket) {
  ASSERT_EQ(::mknod(P("sock").c_str(), S_IFSOCK | 0600, 0), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISSOCK(LStat(P("sock")).st_mode));
  EXPECT_TRUE(S_ISSOCK(LStat(S("sock")).st_mode));
  ExpectSameAttrs(P("sock"), S("sock"));
  ASSERT_EQ(::unlink(P("sock").c_str()), 0);

  // bind() creates the socket file; connect() through the same path works.
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = P("bound");
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd server(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(server);
  ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0)
      << std::strerror(errno);
  ASSERT_EQ(::listen(server.get(), 1), 0);
  EXPECT_TRUE(S_ISSOCK(LStat(P("bound")).st_mode));
  EXPECT_TRUE(S_ISSOCK(LStat(S("bound")).st_mode));
  UniqueFd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(client);
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0)
      << std::strerror(errno);
  UniqueFd conn(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn);
  ASSERT_EQ(::send(client.get(), "ping", 4, 0), 4);
  char buf[8];
  ASSERT_EQ(::recv(conn.get(), buf, sizeof(buf), 0), 4);
  EXPECT_EQ(std::string(buf, 4), "ping");
  FSB_EXPECT_ERRNO(::bind(UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)).get(),
                          reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
                   EADDRINUSE);
}

TEST_P(FsBehaviour, MknodCharDevice) {
  if (::geteuid() != 0) GTEST_SKIP() << "mknod of a device needs CAP_MKNOD (run as root)";
  dev_t null_dev = makedev(1, 3);  // /dev/null
  ASSERT_EQ(::mknod(P("null").c_str(), S_IFCHR | 0666, null_dev), 0) << std::strerror(errno);
  struct stat st = LStat(P("null"));
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, null_dev);
  EXPECT_EQ(LStat(S("null")).st_rdev, null_dev);
  ExpectSameAttrs(P("null"), S("null"));
  // Opening it opens the device, not a file.
  UniqueFd fd = Open(P("null"), O_RDWR);
  ASSERT_TRUE(fd) << std::strerror(errno);
  EXPECT_EQ(::write(fd.get(), "discard", 7), 7);
  char c;
  EXPECT_EQ(::read(fd.get(), &c, 1), 0);
  // A device number with a large major and a minor above 255.
  dev_t odd = makedev(300, 70000);
  ASSERT_EQ(::mknod(P("odd").c_str(), S_IFCHR | 0600, odd), 0) << std::strerror(errno);
  EXPECT_EQ(LStat(P("odd")).st_rdev, odd);
  EXPECT_EQ(LStat(S("odd")).st_rdev, odd);
  EXPECT_EQ(major(LStat(P("odd")).st_rdev), 300u);
  EXPECT_EQ(minor(LStat(P("odd")).st_rdev), 70000u);
  // And a block device node.
  ASSERT_EQ(::mknod(P("blk").c_str(), S_IFBLK | 0600, makedev(7, 200)), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISBLK(LStat(P("blk")).st_mode));
  EXPECT_EQ(LStat(P("blk")).st_rdev, makedev(7, 200));
  ExpectSameAttrs(P("blk"), S("blk"));
}

TEST_P(FsBehaviour, TmpFileThenLinkat) {
  ::umask(0);
  UniqueFd fd(::open(root().c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0640));
  ::umask(022);
  ASSERT_TRUE(fd) << "O_TMPFILE: " << std::strerror(errno);
  ASSERT_TRUE(PWriteAll(fd.get(), "temporary", 0));
  struct stat st = FStat(fd.get());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(st.st_size, 9);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(ListDir(root()).size(), 2u) << "an O_TMPFILE file has no name";
  EXPECT_EQ(ListDir(fx_.source()).size(), 2u);

  std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
  ASSERT_EQ(::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, P("linked").c_str(), AT_SYMLINK_FOLLOW), 0)
      << std::strerror(errno);
  struct stat linked = LStat(P("linked"));
  EXPECT_TRUE(S_ISREG(linked.st_mode));
  EXPECT_EQ(linked.st_ino, st.st_ino);
  EXPECT_EQ(linked.st_nlink, 1u);
  EXPECT_EQ(linked.st_size, 9);
  EXPECT_EQ(ReadFile(P("linked")), "temporary");
  EXPECT_EQ(ReadFile(S("linked")), "temporary");
  EXPECT_EQ(LStat(S("linked")).st_ino, st.st_ino);
  ExpectSameAttrs(P("linked"), S("linked"));
  EXPECT_EQ(FStat(fd.get()).st_nlink, 1u);
  // Writes through the tmpfile fd show under the new name.
  ASSERT_TRUE(PWriteAll(fd.get(), "!", 9));
  fd.reset();
  EXPECT_EQ(ReadFile(S("linked")), "temporary!");

  // O_EXCL makes it unlinkable.
  UniqueFd excl(::open(root().c_str(), O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600));
  ASSERT_TRUE(excl) << std::strerror(errno);
  proc = "/proc/self/fd/" + std::to_string(excl.get());
  FSB_EXPECT_ERRNO(
      ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, P("never").c_str(), AT_SYMLINK_FOLLOW), ENOENT);
  EXPECT_FALSE(Exists(S("never")));
  // O_TMPFILE needs write access.
  FSB_EXPECT_ERRNO(::open(root().c_str(), O_TMPFILE | O_RDONLY | O_CLOEXEC, 0600), EINVAL);
}

// ------------------------------------------------------------------ xattrs

TEST_P(FsBehaviour, Xattrs) {
  WriteFile(P("f"), "x");
  const std::string f = P("f");
  if (::setxattr(f.c_str(), "user.test", "value1", 6, 0) != 0) {
    int err = errno;
    if (native() && (err == ENOTSUP)) GTEST_SKIP() << "SOURCE has no user xattrs";
    FAIL() << "setxattr: " << std::strerror(err);
  }
  EXPECT_EQ(::getxattr(f.c_str(), "user.test", nullptr, 0), 6) << "size probe";
  char buf[8192];
  ASSERT_EQ(::getxattr(f.c_str(), "user.test", buf, sizeof(buf)), 6);
  EXPECT_EQ(std::string(buf, 6), "value1");
  FSB_EXPECT_ERRNO(::getxattr(f.c_str(), "user.test", buf, 3), ERANGE);
  EXPECT_EQ(::getxattr(S("f").c_str(), "user.test", buf, sizeof(buf)), 6) << "in SOURCE";

  ASSERT_EQ(::setxattr(f.c_str(), "user.empty", "", 0, 0), 0) << std::strerror(errno);
  EXPECT_EQ(::getxattr(f.c_str(), "user.empty", buf, sizeof(buf)), 0);
  std::string big = Pattern(4000, 3);
  ASSERT_EQ(::setxattr(f.c_str(), "user.big", big.data(), big.size(), 0), 0)
      << std::strerror(errno);
  ASSERT_EQ(::getxattr(f.c_str(), "user.big", buf, sizeof(buf)), 4000);
  EXPECT_EQ(std::string(buf, 4000), big);

  // List: probe, then the names; too small a buffer is ERANGE.
  ssize_t list_size = ::listxattr(f.c_str(), nullptr, 0);
  ASSERT_GT(list_size, 0) << std::strerror(errno);
  ssize_t n = ::listxattr(f.c_str(), buf, sizeof(buf));
  ASSERT_EQ(n, list_size);
  std::set<std::string> names;
  for (ssize_t i = 0; i < n;) {
    std::string name(buf + i);
    names.insert(name);
    i += static_cast<ssize_t>(name.size()) + 1;
  }
  EXPECT_EQ(names, (std::set<std::string>{"user.test", "user.empty", "user.big"}));
  FSB_EXPECT_ERRNO(::listxattr(f.c_str(), buf, 1), ERANGE);

  // XATTR_CREATE on an existing name, XATTR_REPLACE on a missing one.
  FSB_EXPECT_ERRNO(::setxattr(f.c_str(), "user.test", "v", 1, XATTR_CREATE), EEXIST);
  FSB_EXPECT_ERRNO(::setxattr(f.c_str(), "user.missing", "v", 1, XATTR_REPLACE), ENODATA);
  ASSERT_EQ(::setxattr(f.c_str(), "user.test", "replaced", 8, XATTR_REPLACE), 0);
  ASSERT_EQ(::getxattr(f.c_str(), "user.test", buf, sizeof(buf)), 8);
  EXPECT_EQ(std::string(buf, 8), "replaced");
  ASSERT_EQ(::setxattr(f.c_str(), "user.created", "c", 1, XATTR_CREATE), 0);
  FSB_EXPECT_ERRNO(::getxattr(f.c_str(), "user.missing", buf, sizeof(buf)), ENODATA);
  FSB_EXPECT_ERRNO(::getxattr(f.c_str(), "user.missing", nullptr, 0), ENODATA);

  // Remove.
  ASSERT_EQ(::removexattr(f.c_str(), "user.test"), 0) << std::strerror(errno);
  FSB_EXPECT_ERRNO(::getxattr(f.c_str(), "user.test", buf, sizeof(buf)), ENODATA);
  FSB_EXPECT_ERRNO(::removexattr(f.c_str(), "user.test"), ENODATA);
  FSB_EXPECT_ERRNO(::getxattr(S("f").c_str(), "user.test", buf, sizeof(buf)), ENODATA);
  EXPECT_EQ(::getxattr(S("f").c_str(), "user.created", buf, sizeof(buf)), 1);

  // Through an fd, and on a directory.
  {
    UniqueFd fd = Open(f, O_RDONLY);
    ASSERT_TRUE(fd);
    ASSERT_EQ(::fsetxattr(fd.get(), "user.fd", "viafd", 5, 0), 0) << std::strerror(errno);
    ASSERT_EQ(::fgetxattr(fd.get(), "user.fd", buf, sizeof(buf)), 5);
    EXPECT_EQ(std::string(buf, 5), "viafd");
    EXPECT_GT(::flistxattr(fd.get(), buf, sizeof(buf)), 0);
    ASSERT_EQ(::fremovexattr(fd.get(), "user.fd"), 0);
  }
  EXPECT_EQ(::getxattr(S("f").c_str(), "user.fd", buf, sizeof(buf)), -1);
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0);
  ASSERT_EQ(::setxattr(P("d").c_str(), "user.dir", "D", 1, 0), 0) << std::strerror(errno);
  EXPECT_EQ(::getxattr(S("d").c_str(), "user.dir", buf, sizeof(buf)), 1);
  // user.* xattrs are not allowed on symlinks; lgetxattr does not follow.
  ASSERT_EQ(::symlink("f", P("l").c_str()), 0);
  FSB_EXPECT_ERRNO(::lsetxattr(P("l").c_str(), "user.x", "v", 1, 0), EPERM);
  FSB_EXPECT_ERRNO(::lgetxattr(P("l").c_str(), "user.created", buf, sizeof(buf)), ENODATA);
  EXPECT_EQ(::getxattr(P("l").c_str(), "user.created", buf, sizeof(buf)), 1) << "follows";
  // A trusted.* attribute, as root.
  ASSERT_EQ(::setxattr(f.c_str(), "trusted.t", "T", 1, 0), 0) << std::strerror(errno);
  EXPECT_EQ(::getxattr(S("f").c_str(), "trusted.t", buf, sizeof(buf)), 1);
}

// ------------------------------------------------------------------ locks

struct LockReport {
  int open_errno = 0;
  int setlk_rc = 0;
  int setlk_errno = 0;
  int getlk_rc = 0;
  short getlk_type = 0;
  pid_t getlk_pid = 0;
  off_t getlk_start = 0;
  off_t getlk_len = 0;
  int other_range_rc = 0;
  int other_range_errno = 0;
};

// Forks a child that opens `path` and tries to write-lock [start, start+len),
// reports F_GETLK on it, and write-locks [100, 110). The child only makes
// async-signal-safe calls: this process serves the mount on other threads.
LockReport TryLockInChild(const std::string& path, off_t start, off_t len) {
  LockReport report;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return report;
  }
  const char* c_path = path.c_str();
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return report;
  }
  if (pid == 0) {
    LockReport r;
    int fd = ::open(c_path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      r.open_errno = errno;
    } else {
      struct flock fl {};
      fl.l_type = F_WRLCK;
      fl.l_whence = SEEK_SET;
      fl.l_start = start;
      fl.l_len = len;
      r.setlk_rc = ::fcntl(fd, F_SETLK, &fl);
      r.setlk_errno = errno;
      struct flock probe {};
      probe.l_type = F_WRLCK;
      probe.l_whence = SEEK_SET;
      probe.l_start = start;
      probe.l_len = len;
      r.getlk_rc = ::fcntl(fd, F_GETLK, &probe);
      r.getlk_type = probe.l_type;
      r.getlk_pid = probe.l_pid;
      r.getlk_start = probe.l_start;
      r.getlk_len = probe.l_len;
      struct flock other {};
      other.l_type = F_WRLCK;
      other.l_whence = SEEK_SET;
      other.l_start = 100;
      other.l_len = 10;
      r.other_range_rc = ::fcntl(fd, F_SETLK, &other);
      r.other_range_errno = errno;
      ::close(fd);
    }
    ssize_t ignored = ::write(pipe_fds[1], &r, sizeof(r));
    (void)ignored;
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  // A safety net only (the child answers in milliseconds): should a FUSE
  // request of the child never be answered, kill it rather than hang the
  // suite and leave the mount behind.
  pollfd pfd{pipe_fds[0], POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&pfd, 1, 120'000);
  } while (ready < 0 && errno == EINTR);
  ssize_t n = -1;
  if (ready == 1) {
    do {
      n = ::read(pipe_fds[0], &report, sizeof(report));
    } while (n < 0 && errno == EINTR);
  } else {
    ADD_FAILURE() << "the child did not report within 120 s; killing it";
    ::kill(pid, SIGKILL);
  }
  ::close(pipe_fds[0]);
  EXPECT_EQ(n, static_cast<ssize_t>(sizeof(report))) << "the child's report";
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  return report;
}

TEST_P(FsBehaviour, PosixLocksBetweenProcesses) {
  WriteFile(P("f"), std::string(200, 'l'));
  UniqueFd fd = Open(P("f"), O_RDWR);
  ASSERT_TRUE(fd);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 10;
  fl.l_len = 20;
  ASSERT_EQ(::fcntl(fd.get(), F_SETLK, &fl), 0) << std::strerror(errno);

  LockReport r = TryLockInChild(P("f"), 15, 5);
  EXPECT_EQ(r.open_errno, 0) << std::strerror(r.open_errno);
  EXPECT_EQ(r.setlk_rc, -1) << "the range is held by the parent";
  EXPECT_TRUE(r.setlk_errno == EAGAIN || r.setlk_errno == EACCES) << std::strerror(r.setlk_errno);
  EXPECT_EQ(r.getlk_rc, 0);
  EXPECT_EQ(r.getlk_type, F_WRLCK);
  EXPECT_EQ(r.getlk_pid, ::getpid()) << "F_GETLK names the holder";
  EXPECT_EQ(r.getlk_start, 10);
  EXPECT_EQ(r.getlk_len, 20);
  EXPECT_EQ(r.other_range_rc, 0) << "a disjoint range is free: " << std::strerror(r.other_range_errno);

  // A read lock by the parent still excludes the child's write lock; after
  // unlocking, the child gets it.
  fl.l_type = F_RDLCK;
  ASSERT_EQ(::fcntl(fd.get(), F_SETLK, &fl), 0);
  r = TryLockInChild(P("f"), 15, 5);
  EXPECT_EQ(r.setlk_rc, -1);
  EXPECT_EQ(r.getlk_type, F_RDLCK);
  fl.l_type = F_UNLCK;
  ASSERT_EQ(::fcntl(fd.get(), F_SETLK, &fl), 0);
  r = TryLockInChild(P("f"), 15, 5);
  EXPECT_EQ(r.setlk_rc, 0) << std::strerror(r.setlk_errno);
  EXPECT_EQ(r.getlk_type, F_UNLCK) << "no conflicting lock left";
  // The parent's own F_GETLK sees no conflict with itself.
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = 0;
  probe.l_len = 0;
  ASSERT_EQ(::fcntl(fd.get(), F_GETLK, &probe), 0);
  EXPECT_EQ(probe.l_type, F_UNLCK);
}

TEST_P(FsBehaviour, FlockBetweenOpenFileDescriptions) {
  WriteFile(P("f"), "flock");
  UniqueFd a = Open(P("f"), O_RDONLY);
  UniqueFd b = Open(P("f"), O_RDONLY);
  ASSERT_TRUE(a && b);
  ASSERT_EQ(::flock(a.get(), LOCK_EX), 0) << std::strerror(errno);
  FSB_EXPECT_ERRNO(::flock(b.get(), LOCK_EX | LOCK_NB), EWOULDBLOCK);
  FSB_EXPECT_ERRNO(::flock(b.get(), LOCK_SH | LOCK_NB), EWOULDBLOCK);
  // A dup shares the open file description, and so the lock.
  UniqueFd a2(::fcntl(a.get(), F_DUPFD_CLOEXEC, 0));
  ASSERT_TRUE(a2);
  EXPECT_EQ(::flock(a2.get(), LOCK_EX | LOCK_NB), 0) << std::strerror(errno);
  ASSERT_EQ(::flock(a.get(), LOCK_UN), 0);
  ASSERT_EQ(::flock(b.get(), LOCK_SH | LOCK_NB), 0) << std::strerror(errno);
  EXPECT_EQ(::flock(a.get(), LOCK_SH | LOCK_NB), 0) << "shared locks coexist";
  FSB_EXPECT_ERRNO(::flock(a.get(), LOCK_EX | LOCK_NB), EWOULDBLOCK);
  // Closing the last fd of a description drops its lock.
  b.reset();
  EXPECT_EQ(::flock(a.get(), LOCK_EX | LOCK_NB), 0) << std::strerror(errno);
}

// ------------------------------------------------------------------ fallocate, holes

TEST_P(FsBehaviour, FallocateModes) {
  UniqueFd fd = Open(P("f"), O_RDWR | O_CREAT, 0644);
  ASSERT_TRUE(fd);
  // Default mode: allocates and extends.
  ASSERT_EQ(::fallocate(fd.get(), 0, 0, kMiB), 0) << std::strerror(errno);
  struct stat st = FStat(fd.get());
  EXPECT_EQ(st.st_size, kMiB);
  EXPECT_GE(st.st_blocks, kMiB / 512);
  auto got = PReadUpTo(fd.get(), kMiB, 0);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, std::string(kMiB, '\0'));
  ExpectSameAttrs(P("f"), S("f"));

  // KEEP_SIZE: allocates past EOF, size unchanged.
  ASSERT_EQ(::fallocate(fd.get(), FALLOC_FL_KEEP_SIZE, kMiB, kMiB), 0) << std::strerror(errno);
  st = FStat(fd.get());
  EXPECT_EQ(st.st_size, kMiB);
  EXPECT_GE(st.st_blocks, 2 * kMiB / 512);
  ExpectSameAttrs(P("f"), S("f"));

  // PUNCH_HOLE|KEEP_SIZE: zeros, blocks freed, size unchanged.
  std::string data = Pattern(kMiB, 9);
  ASSERT_TRUE(PWriteAll(fd.get(), data, 0));
  blkcnt_t before = FStat(fd.get()).st_blocks;
  ASSERT_EQ(::fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 64 * kKiB,
                        128 * kKiB),
            0)
      << std::strerror(errno);
  std::memset(data.data() + 64 * kKiB, 0, 128 * kKiB);
  st = FStat(fd.get());
  EXPECT_EQ(st.st_size, kMiB);
  EXPECT_EQ(st.st_blocks, before - 128 * kKiB / 512);
  got = PReadUpTo(fd.get(), 2 * kMiB, 0);
  ASSERT_TRUE(got);
  EXPECT_TRUE(*got == data) << "punched range reads as zeros, the rest intact";
  FSB_EXPECT_ERRNO(::fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE, 0, 4096), EOPNOTSUPP);

  // ZERO_RANGE: zeros in place; past EOF without KEEP_SIZE it extends.
  ASSERT_EQ(::fallocate(fd.get(), FALLOC_FL_ZERO_RANGE, 512 * kKiB, 64 * kKiB), 0)
      << std::strerror(errno);
  std::memset(data.data() + 512 * kKiB, 0, 64 * kKiB);
  EXPECT_EQ(FStat(fd.get()).st_size, kMiB);
  ASSERT_EQ(::fallocate(fd.get(), FALLOC_FL_ZERO_RANGE, kMiB - 4096, 8192), 0)
      << std::strerror(errno);
  std::memset(data.data() + kMiB - 4096, 0, 4096);
  data += std::string(4096, '\0');
  EXPECT_EQ(FStat(fd.get()).st_size, kMiB + 4096);
  got = PReadUpTo(fd.get(), 2 * kMiB, 0);
  ASSERT_TRUE(got);
  EXPECT_TRUE(*got == data);
  fd.reset();
  EXPECT_TRUE(ReadFile(S("f")) == data) << "SOURCE has the same bytes";
  ExpectSameAttrs(P("f"), S("f"));
  // On a file opened read-only: EBADF.
  UniqueFd ro = Open(P("f"), O_RDONLY);
  ASSERT_TRUE(ro);
  FSB_EXPECT_ERRNO(::fallocate(ro.get(), 0, 0, 4096), EBADF);
}

TEST_P(FsBehaviour, SeekDataAndHole) {
  UniqueFd fd = Open(P("sparse"), O_RDWR | O_CREAT, 0644);
  ASSERT_TRUE(fd);
  ASSERT_EQ(::ftruncate(fd.get(), 4 * kMiB), 0);
  std::string a = Pattern(4096, 1), b = Pattern(8192, 2);
  ASSERT_TRUE(PWriteAll(fd.get(), a, kMiB));
  ASSERT_TRUE(PWriteAll(fd.get(), b, 3 * kMiB));
  ASSERT_EQ(::fsync(fd.get()), 0);

  UniqueFd src = Open(S("sparse"), O_RDONLY);
  ASSERT_TRUE(src);
  struct Probe {
    off_t from;
    int whence;
    off_t want;  // -1: ENXIO
  };
  const Probe probes[] = {
      {0, SEEK_DATA, kMiB},
      {kMiB, SEEK_HOLE, kMiB + 4096},
      {kMiB + 100, SEEK_DATA, kMiB + 100},
      {kMiB + 4096, SEEK_DATA, 3 * kMiB},
      {0, SEEK_HOLE, 0},
      {3 * kMiB, SEEK_HOLE, 3 * kMiB + 8192},
      {3 * kMiB + 8192, SEEK_DATA, -1},
      {3 * kMiB + 8192, SEEK_HOLE, 3 * kMiB + 8192},
      {4 * kMiB, SEEK_HOLE, -1},
      {5 * kMiB, SEEK_DATA, -1},
  };
  for (const auto& p : probes) {
    const char* w = p.whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE";
    off_t in_source = ::lseek(src.get(), p.from, p.whence);
    if (p.want < 0) {
      FSB_EXPECT_ERRNO(::lseek(fd.get(), p.from, p.whence), ENXIO);
      EXPECT_EQ(in_source, -1);
    } else {
      EXPECT_EQ(::lseek(fd.get(), p.from, p.whence), p.want) << w << " from " << p.from;
      EXPECT_EQ(in_source, p.want) << "SOURCE: " << w << " from " << p.from;
    }
  }
  // The offset is where SEEK_DATA put it: read() gets the data there.
  ASSERT_EQ(::lseek(fd.get(), kMiB + 4096, SEEK_DATA), 3 * kMiB);
  std::string buf(8192, '\0');
  ASSERT_EQ(::read(fd.get(), buf.data(), buf.size()), 8192);
  EXPECT_TRUE(buf == b);
  EXPECT_EQ(LStat(P("sparse")).st_blocks, LStat(S("sparse")).st_blocks);
  EXPECT_LT(LStat(P("sparse")).st_blocks, 4 * kMiB / 512) << "still sparse";
}

TEST_P(FsBehaviour, FileBeyond4GiB) {
  const off_t at = 5 * kGiB;
  std::string data = Pattern(8192, 11);
  {
    UniqueFd fd = Open(P("huge"), O_RDWR | O_CREAT, 0644);
    ASSERT_TRUE(fd);
    ASSERT_TRUE(PWriteAll(fd.get(), data, at)) << std::strerror(errno);
    EXPECT_EQ(FStat(fd.get()).st_size, at + 8192);
    EXPECT_EQ(::lseek(fd.get(), 0, SEEK_END), at + 8192);
    auto got = PReadUpTo(fd.get(), 8192, at);
    ASSERT_TRUE(got);
    EXPECT_TRUE(*got == data);
    got = PReadUpTo(fd.get(), 4096, 4 * kGiB);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, std::string(4096, '\0'));
    got = PReadUpTo(fd.get(), 100, at + 8192);
    ASSERT_TRUE(got);
    EXPECT_TRUE(got->empty()) << "EOF past the end";
    // Reads straddling 4 GiB boundaries and the data's start.
    ASSERT_TRUE(PWriteAll(fd.get(), "edge", 4 * kGiB - 2));
    got = PReadUpTo(fd.get(), 4, 4 * kGiB - 2);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, "edge");
  }
  EXPECT_EQ(LStat(P("huge")).st_size, at + 8192);
  EXPECT_EQ(LStat(S("huge")).st_size, at + 8192);
  UniqueFd src = Open(S("huge"), O_RDONLY);
  ASSERT_TRUE(src);
  auto got = PReadUpTo(src.get(), 8192, at);
  ASSERT_TRUE(got);
  EXPECT_TRUE(*got == data) << "SOURCE has the bytes at 5 GiB";
  got = PReadUpTo(src.get(), 4, 4 * kGiB - 2);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "edge");
  ASSERT_EQ(::truncate(P("huge").c_str(), 4 * kGiB + 1), 0) << std::strerror(errno);
  EXPECT_EQ(LStat(P("huge")).st_size, 4 * kGiB + 1);
  EXPECT_EQ(LStat(S("huge")).st_size, 4 * kGiB + 1);
  ExpectSameAttrs(P("huge"), S("huge"));
}

TEST_P(FsBehaviour, CopyFileRange) {
  std::string data = Pattern(kMiB, 21);
  WriteFile(P("a"), data);
  WriteFile(P("b"), "");
  UniqueFd in = Open(P("a"), O_RDONLY);
  UniqueFd out = Open(P("b"), O_RDWR);
  ASSERT_TRUE(in && out);
  loff_t off_in = 4096, off_out = 0;
  size_t copied = 0;
  while (copied < 256 * 1024) {
    ssize_t n = ::copy_file_range(in.get(), &off_in, out.get(), &off_out, 256 * 1024 - copied, 0);
    ASSERT_GT(n, 0) << std::strerror(errno);
    copied += static_cast<size_t>(n);
  }
  EXPECT_EQ(off_in, 4096 + 256 * 1024);
  EXPECT_EQ(off_out, 256 * 1024);
  EXPECT_EQ(FStat(out.get()).st_size, 256 * 1024);
  std::string want = data.substr(4096, 256 * 1024);
  auto got = PReadUpTo(out.get(), kMiB, 0);
  ASSERT_TRUE(got);
  EXPECT_TRUE(*got == want) << "copied bytes read back through the mount";
  EXPECT_TRUE(ReadFile(S("b")) == want) << "and in SOURCE";

  // With the files' own offsets, appending at an offset past EOF.
  ASSERT_EQ(::lseek(in.get(), 0, SEEK_SET), 0);
  ASSERT_EQ(::lseek(out.get(), 512 * 1024, SEEK_SET), 512 * 1024);
  ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, 1000, 0);
  ASSERT_EQ(n, 1000) << std::strerror(errno);
  EXPECT_EQ(::lseek(in.get(), 0, SEEK_CUR), 1000);
  EXPECT_EQ(::lseek(out.get(), 0, SEEK_CUR), 512 * 1024 + 1000);
  want += std::string(512 * 1024 - want.size(), '\0') + data.substr(0, 1000);
  got = PReadUpTo(out.get(), kMiB, 0);
  ASSERT_TRUE(got);
  EXPECT_TRUE(*got == want);
  EXPECT_EQ(FStat(out.get()).st_size, 512 * 1024 + 1000);
  ExpectSameAttrs(P("b"), S("b"));
  // Past the source's EOF: nothing to copy.
  loff_t eof = kMiB;
  EXPECT_EQ(::copy_file_range(in.get(), &eof, out.get(), nullptr, 100, 0), 0);
  // Overlapping ranges of one file are refused.
  UniqueFd rw = Open(P("a"), O_RDWR);
  ASSERT_TRUE(rw);
  loff_t o1 = 0, o2 = 100;
  FSB_EXPECT_ERRNO(::copy_file_range(rw.get(), &o1, rw.get(), &o2, 200, 0), EINVAL);
  FSB_EXPECT_ERRNO(::copy_file_range(out.get(), nullptr, in.get(), nullptr, 10, 0), EBADF);
}

// ------------------------------------------------------------------ statfs, access

TEST_P(FsBehaviour, StatfsAndAccess) {
  struct statvfs got {}, want {};
  ASSERT_EQ(::statvfs(root().c_str(), &got), 0) << std::strerror(errno);
  ASSERT_EQ(::statvfs(fx_.source().c_str(), &want), 0);
  EXPECT_EQ(got.f_bsize, want.f_bsize);
  EXPECT_EQ(got.f_frsize, want.f_frsize);
  EXPECT_EQ(got.f_blocks, want.f_blocks);
  EXPECT_EQ(got.f_files, want.f_files);
  EXPECT_EQ(got.f_namemax, want.f_namemax);

  WriteFile(P("f"), "x", 0644);
  WriteFile(P("x"), "x", 0755);
  EXPECT_EQ(::access(P("f").c_str(), R_OK | W_OK), 0) << std::strerror(errno);
  // Not even root may execute a file without any x bit.
  FSB_EXPECT_ERRNO(::access(P("f").c_str(), X_OK), EACCES);
  EXPECT_EQ(::access(P("x").c_str(), X_OK), 0) << std::strerror(errno);
  FSB_EXPECT_ERRNO(::access(P("missing").c_str(), F_OK), ENOENT);
  ASSERT_EQ(::chmod(P("f").c_str(), 0), 0);
  EXPECT_EQ(::access(P("f").c_str(), R_OK | W_OK), 0) << "root reads and writes mode 0";
  EXPECT_EQ(ReadFile(P("f")), "x");
}

// ------------------------------------------------------------------ statx

void ExpectSameStatx(const struct statx& got, const struct statx& want, const std::string& what) {
  EXPECT_EQ(got.stx_mask & STATX_BASIC_STATS, static_cast<unsigned>(STATX_BASIC_STATS)) << what;
  EXPECT_EQ(got.stx_mode, want.stx_mode) << what;
  EXPECT_EQ(got.stx_nlink, want.stx_nlink) << what;
  EXPECT_EQ(got.stx_uid, want.stx_uid) << what;
  EXPECT_EQ(got.stx_gid, want.stx_gid) << what;
  EXPECT_EQ(got.stx_ino, want.stx_ino) << what;
  EXPECT_EQ(got.stx_size, want.stx_size) << what;
  EXPECT_EQ(got.stx_blocks, want.stx_blocks) << what;
  EXPECT_EQ(got.stx_rdev_major, want.stx_rdev_major) << what;
  EXPECT_EQ(got.stx_rdev_minor, want.stx_rdev_minor) << what;
  auto same = [](const statx_timestamp& a, const statx_timestamp& b) {
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
  };
  EXPECT_TRUE(same(got.stx_atime, want.stx_atime)) << what << ": atime";
  EXPECT_TRUE(same(got.stx_mtime, want.stx_mtime)) << what << ": mtime";
  EXPECT_TRUE(same(got.stx_ctime, want.stx_ctime)) << what << ": ctime";
  if (want.stx_mask & STATX_BTIME) {
    EXPECT_TRUE(got.stx_mask & STATX_BTIME) << what << ": SOURCE has btime, the mirror not";
    EXPECT_TRUE(same(got.stx_btime, want.stx_btime))
        << what << ": btime " << got.stx_btime.tv_sec << "." << got.stx_btime.tv_nsec << " vs "
        << want.stx_btime.tv_sec << "." << want.stx_btime.tv_nsec;
  }
}

TEST_P(FsBehaviour, StatxMatchesSource) {
  WriteFile(P("f"), Pattern(12345, 4));
  ASSERT_EQ(::mkdir(P("d").c_str(), 0711), 0);
  ASSERT_EQ(::symlink("f", P("l").c_str()), 0);
  ASSERT_EQ(::mkfifo(P("p").c_str(), 0600), 0);
  timespec times[2] = {{1'111'111'111, 111'111'111}, {1'222'222'222, 222'222'222}};
  ASSERT_EQ(::utimensat(AT_FDCWD, P("f").c_str(), times, 0), 0);
  for (const char* name : {"f", "d", "l", "p", "."}) {
    struct statx want {}, got {}, got_cached {};
    ASSERT_EQ(::statx(AT_FDCWD, S(name).c_str(), AT_SYMLINK_NOFOLLOW,
                      STATX_BASIC_STATS | STATX_BTIME, &want),
              0)
        << std::strerror(errno);
    ASSERT_EQ(::statx(AT_FDCWD, P(name).c_str(), AT_SYMLINK_NOFOLLOW | AT_STATX_FORCE_SYNC,
                      STATX_BASIC_STATS | STATX_BTIME, &got),
              0)
        << std::strerror(errno);
    ExpectSameStatx(got, want, std::string(name) + " (AT_STATX_FORCE_SYNC)");
    if (std::string(name) == "f") {
      EXPECT_EQ(got.stx_mtime.tv_nsec, 222'222'222u);
    }
    // Without forcing a sync the basic stats agree too. btime may then be
    // answered from FUSE's attribute cache, which has it only if a STATX
    // reply filled it: if it is there, it must be right.
    ASSERT_EQ(::statx(AT_FDCWD, P(name).c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
                      &got_cached),
              0);
    struct statx want_basic = want;
    if (!(got_cached.stx_mask & STATX_BTIME)) want_basic.stx_mask &= ~STATX_BTIME;
    ExpectSameStatx(got_cached, want_basic, std::string(name) + " (default sync)");
  }
  // Through an fd (AT_EMPTY_PATH), following the symlink.
  UniqueFd fd = Open(P("l"), O_RDONLY);
  ASSERT_TRUE(fd);
  struct statx want {}, got {};
  ASSERT_EQ(::statx(AT_FDCWD, S("f").c_str(), 0, STATX_BASIC_STATS | STATX_BTIME, &want), 0);
  ASSERT_EQ(::statx(fd.get(), "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC,
                    STATX_BASIC_STATS | STATX_BTIME, &got),
            0)
      << std::strerror(errno);
  ExpectSameStatx(got, want, "fd of f");
}

// ------------------------------------------------------------------ concurrency

TEST_P(FsBehaviour, ConcurrentThreadsDistinctAndSharedFiles) {
  constexpr int kThreads = 8;
  constexpr size_t kOwnSize = 1 << 20;
  constexpr size_t kSlice = 256 << 10;
  constexpr size_t kChunk = 16 << 10;
  WriteFile(P("shared"), "");
  ASSERT_EQ(::truncate(P("shared").c_str(), kThreads * kSlice), 0);

  std::mutex errors_mutex;
  std::vector<std::string> errors;
  auto fail = [&](int t, const std::string& what) {
    std::lock_guard lock(errors_mutex);
    errors.push_back("thread " + std::to_string(t) + ": " + what + ": " + std::strerror(errno));
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string own = Pattern(kOwnSize, 100 + static_cast<uint32_t>(t));
      std::string slice = Pattern(kSlice, 200 + static_cast<uint32_t>(t));
      UniqueFd mine = Open(P("own" + std::to_string(t)), O_RDWR | O_CREAT | O_TRUNC, 0644);
      UniqueFd shared = Open(P("shared"), O_RDWR);
      if (!mine || !shared) return fail(t, "open");
      const off_t base = static_cast<off_t>(t * kSlice);
      // Interleave: a chunk of its own file with write(), a chunk of its
      // slice of the shared file with pwrite(), and read both back.
      for (size_t off = 0, s = 0; off < kOwnSize; off += 4 * kChunk, s += kChunk) {
        if (::write(mine.get(), own.data() + off, 4 * kChunk) != static_cast<ssize_t>(4 * kChunk))
          return fail(t, "write own");
        if (!PWriteAll(shared.get(), std::string_view(slice).substr(s, kChunk),
                       base + static_cast<off_t>(s)))
          return fail(t, "pwrite shared");
        auto back = PReadUpTo(shared.get(), kChunk, base + static_cast<off_t>(s));
        if (!back || *back != slice.substr(s, kChunk)) return fail(t, "shared read-back");
        auto own_back = PReadUpTo(mine.get(), 4 * kChunk, static_cast<off_t>(off));
        if (!own_back || *own_back != own.substr(off, 4 * kChunk)) return fail(t, "own read-back");
      }
      auto all = PReadUpTo(mine.get(), 2 * kOwnSize, 0);
      if (!all || *all != own) fail(t, "own file after all writes");
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& e : errors) ADD_FAILURE() << e;

  // Every byte, through the mount and in SOURCE.
  std::string shared_want;
  for (int t = 0; t < kThreads; ++t) {
    std::string own = Pattern(kOwnSize, 100 + static_cast<uint32_t>(t));
    EXPECT_TRUE(ReadFile(P("own" + std::to_string(t))) == own) << "own" << t;
    EXPECT_TRUE(ReadFile(S("own" + std::to_string(t))) == own) << "SOURCE own" << t;
    shared_want += Pattern(kSlice, 200 + static_cast<uint32_t>(t));
  }
  EXPECT_TRUE(ReadFile(P("shared")) == shared_want) << "shared file";
  EXPECT_TRUE(ReadFile(S("shared")) == shared_want) << "SOURCE shared file";
}

// ------------------------------------------------------------------ mmap

TEST_P(FsBehaviour, MmapSharedCoherentWithReadWrite) {
  constexpr size_t kSize = 256 << 10;
  std::string data = Pattern(kSize, 31);
  WriteFile(P("m"), data);
  UniqueFd fd = Open(P("m"), O_RDWR);
  ASSERT_TRUE(fd);
  void* map = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  ASSERT_NE(map, MAP_FAILED) << std::strerror(errno);
  char* bytes = static_cast<char*>(map);
  EXPECT_EQ(std::memcmp(bytes, data.data(), kSize), 0) << "mmap reads the file";

  // mmap writes, seen by read() on this and another fd, and in SOURCE.
  std::memcpy(bytes + 10, "MMAP", 4);
  std::memcpy(bytes + 100000, "MAPPED", 6);
  std::memcpy(data.data() + 10, "MMAP", 4);
  std::memcpy(data.data() + 100000, "MAPPED", 6);
  ASSERT_EQ(::msync(map, kSize, MS_SYNC), 0) << std::strerror(errno);
  auto got = PReadUpTo(fd.get(), kSize, 0);
  ASSERT_TRUE(got);
  EXPECT_TRUE(*got == data) << "read() sees mmap writes";
  EXPECT_TRUE(ReadFile(P("m")) == data) << "another open sees them";
  EXPECT_TRUE(ReadFile(S("m")) == data) << "SOURCE has them";

  // write() seen through the mapping at once.
  ASSERT_TRUE(PWriteAll(fd.get(), "WRITTEN", 200000));
  std::memcpy(data.data() + 200000, "WRITTEN", 7);
  EXPECT_EQ(std::memcmp(bytes + 200000, "WRITTEN", 7), 0) << "the mapping sees write()";
  {
    UniqueFd other = Open(P("m"), O_WRONLY);
    ASSERT_TRUE(other);
    ASSERT_TRUE(PWriteAll(other.get(), "OTHER", 4096));
    std::memcpy(data.data() + 4096, "OTHER", 5);
  }
  EXPECT_EQ(std::memcmp(bytes + 4096, "OTHER", 5), 0) << "and a write() through another fd";
  ASSERT_EQ(::munmap(map, kSize), 0);
  fd.reset();

  // A fresh read-only mapping after close sees all of it.
  UniqueFd ro = Open(P("m"), O_RDONLY);
  ASSERT_TRUE(ro);
  map = ::mmap(nullptr, kSize, PROT_READ, MAP_SHARED, ro.get(), 0);
  ASSERT_NE(map, MAP_FAILED) << std::strerror(errno);
  EXPECT_EQ(std::memcmp(map, data.data(), kSize), 0);
  ::munmap(map, kSize);
  EXPECT_TRUE(ReadFile(S("m")) == data);
  // A writable shared mapping of a read-only fd is refused.
  EXPECT_EQ(::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro.get(), 0), MAP_FAILED);
  EXPECT_EQ(errno, EACCES);
}

// A file's dirty mmap pages are written back at their own offsets even when
// the only writable open of the file is O_APPEND (natively, O_APPEND only
// affects write()).
TEST_P(FsBehaviour, MmapOfAppendOpenWritesInPlace) {
  constexpr size_t kSize = 8192;
  std::string data = Pattern(kSize, 41);
  WriteFile(P("a"), data);
  {
    UniqueFd fd = Open(P("a"), O_RDWR | O_APPEND);
    ASSERT_TRUE(fd);
    void* map = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    ASSERT_NE(map, MAP_FAILED) << std::strerror(errno);
    std::memcpy(static_cast<char*>(map) + 5, "INPLACE", 7);
    ASSERT_EQ(::msync(map, kSize, MS_SYNC), 0) << std::strerror(errno);
    ASSERT_EQ(::munmap(map, kSize), 0);
    // write() still appends.
    ASSERT_EQ(::write(fd.get(), "TAIL", 4), 4);
  }
  std::memcpy(data.data() + 5, "INPLACE", 7);
  data += "TAIL";
  EXPECT_EQ(LStat(P("a")).st_size, static_cast<off_t>(kSize + 4));
  EXPECT_EQ(LStat(S("a")).st_size, static_cast<off_t>(kSize + 4)) << "SOURCE grew by the append only";
  EXPECT_TRUE(ReadFile(S("a")) == data) << "SOURCE has the mmap write in place";
  EXPECT_TRUE(ReadFile(P("a")) == data);
}

// ------------------------------------------------------------------ passthrough proof

// A read/write workload on regular files, then where the I/O went: nowhere
// near the daemon with passthrough; through it otherwise.
TEST_P(FsBehaviour, IoPathMatchesMode) {
  // A file that exists in SOURCE before the mount ever saw it: its reads
  // cannot come from a page cache the writes filled.
  std::string pre = Pattern(3 * kMiB, 51);
  WriteFile(S("pre"), pre);
  EXPECT_TRUE(ReadFile(P("pre")) == pre);
  std::string data = Pattern(2 * kMiB, 52);
  WriteFile(P("new"), data);
  {
    UniqueFd fd = Open(P("new"), O_RDWR);
    ASSERT_TRUE(fd);
    ASSERT_TRUE(PWriteAll(fd.get(), "patch", kMiB));
    std::memcpy(data.data() + kMiB, "patch", 5);
    auto got = PReadUpTo(fd.get(), 4 * kMiB, 0);
    ASSERT_TRUE(got);
    EXPECT_TRUE(*got == data);
    void* map = ::mmap(nullptr, 2 * kMiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    ASSERT_NE(map, MAP_FAILED) << "mmap: " << std::strerror(errno);
    EXPECT_EQ(std::memcmp(map, data.data(), data.size()), 0);
    std::memcpy(static_cast<char*>(map) + 7, "viamap", 6);
    std::memcpy(data.data() + 7, "viamap", 6);
    ASSERT_EQ(::msync(map, 2 * kMiB, MS_SYNC), 0);
    ::munmap(map, 2 * kMiB);
  }
  EXPECT_TRUE(ReadFile(S("new")) == data);
  EXPECT_TRUE(ReadFile(P("new")) == data);
  if (native()) return;

  const auto& c = fx_.fs()->counters();
  switch (mode()) {
    case Mode::kPassthrough:
    case Mode::kIoUring:
    case Mode::kInodesByFd:
    case Mode::kTinyFdCache:
      EXPECT_EQ(fx_.reads(), 0u);
      EXPECT_EQ(fx_.writes(), 0u);
      EXPECT_GT(c.passthrough_opens.load(), 0u);
      EXPECT_EQ(c.daemon_opens.load(), 0u);
      break;
    case Mode::kNever:
    case Mode::kIoUringNever:
      EXPECT_GT(fx_.reads(), 0u);
      EXPECT_GT(fx_.writes(), 0u);
      EXPECT_EQ(c.passthrough_opens.load(), 0u);
      EXPECT_GT(c.daemon_opens.load(), 0u);
      break;
    case Mode::kDirectIo:
    case Mode::kCacheNever:
      // read/write through the daemon; mmap (checked above) through the
      // backing file each open still registers.
      EXPECT_GT(fx_.reads(), 0u);
      EXPECT_GT(fx_.writes(), 0u);
      EXPECT_GT(c.passthrough_opens.load(), 0u);
      break;
    case Mode::kNative:
    case Mode::kWriteback:
      break;
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, FsBehaviour,
                         ::testing::Values(Mode::kNative, Mode::kPassthrough, Mode::kNever,
                                           Mode::kDirectIo, Mode::kCacheNever, Mode::kIoUring,
                                           Mode::kIoUringNever, Mode::kInodesByFd,
                                           Mode::kTinyFdCache),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return ModeName(info.param);
                         });

// ------------------------------------------------------------------ changes behind the mount

// With cache=never, what another process does in SOURCE is seen through the
// mount at once: no timeout to wait out. Natively, trivially so. (With the
// default cache=auto the mount may show the old state for up to the 1 s
// timeouts, which no timing-free test can pin down.)
class SourceChanges : public FsBehaviour {};

TEST_P(SourceChanges, SeenThroughTheMountAtOnce) {
  WriteFile(S("f"), "one");
  EXPECT_EQ(ReadFile(P("f")), "one");
  EXPECT_EQ(LStat(P("f")).st_size, 3);
  UniqueFd held = Open(P("f"), O_RDONLY);
  ASSERT_TRUE(held);
  auto got = PReadUpTo(held.get(), 100, 0);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "one");

  // Changed contents, same size: seen by a new open and by the open fd.
  {
    UniqueFd s = Open(S("f"), O_WRONLY);
    ASSERT_TRUE(s);
    ASSERT_TRUE(PWriteAll(s.get(), "two", 0));
  }
  EXPECT_EQ(ReadFile(P("f")), "two");
  got = PReadUpTo(held.get(), 100, 0);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "two") << "an fd opened before the change";

  // Changed size, both ways.
  {
    UniqueFd s = Open(S("f"), O_WRONLY | O_APPEND);
    ASSERT_TRUE(s);
    ASSERT_TRUE(PWriteAll(s.get(), " and more", 0));
  }
  EXPECT_EQ(LStat(P("f")).st_size, 12);
  EXPECT_EQ(FStat(held.get()).st_size, 12);
  EXPECT_EQ(ReadFile(P("f")), "two and more");
  ASSERT_EQ(::truncate(S("f").c_str(), 2), 0);
  EXPECT_EQ(LStat(P("f")).st_size, 2);
  EXPECT_EQ(ReadFile(P("f")), "tw");

  // Attributes.
  ASSERT_EQ(::chmod(S("f").c_str(), 0600), 0);
  EXPECT_EQ(LStat(P("f")).st_mode & 07777, 0600u);

  // A new file and a new directory entry.
  EXPECT_FALSE(Exists(P("g")));
  WriteFile(S("g"), "new");
  EXPECT_TRUE(Exists(P("g")));
  EXPECT_EQ(ReadFile(P("g")), "new");
  EXPECT_EQ(ListDir(root()).count("g"), 1u);

  // A removed file.
  ASSERT_EQ(::unlink(S("g").c_str()), 0);
  EXPECT_FALSE(Exists(P("g")));
  FSB_EXPECT_ERRNO(::open(P("g").c_str(), O_RDONLY | O_CLOEXEC), ENOENT);
  EXPECT_EQ(ListDir(root()).count("g"), 0u);

  // A name that changed type.
  ASSERT_EQ(::unlink(S("f").c_str()), 0);
  ASSERT_EQ(::mkdir(S("f").c_str(), 0755), 0);
  EXPECT_TRUE(S_ISDIR(LStat(P("f")).st_mode));
  EXPECT_EQ(LStat(P("f")).st_ino, LStat(S("f")).st_ino);
  got = PReadUpTo(held.get(), 100, 0);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "tw") << "the held fd still reads the unlinked file";
}

INSTANTIATE_TEST_SUITE_P(Modes, SourceChanges,
                         ::testing::Values(Mode::kNative, Mode::kCacheNever),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return ModeName(info.param);
                         });

// ------------------------------------------------------------------ writeback cache

// With -o writeback (passthrough=never) the kernel caches writes and fills
// pages a write covers only in part by READs through any open of the file,
// write-only ones included; it also handles O_APPEND itself and writes
// pages back at their offsets. The bytes must end up as natively.
class WritebackCache : public FsBehaviour {};

TEST_P(WritebackCache, WriteOnlyOpensWritePartialPages) {
  std::string data = Pattern(3 * 4096 + 100, 61);
  WriteFile(P("f"), data);  // a write-only create
  {
    UniqueFd fd = Open(P("f"), O_WRONLY);
    ASSERT_TRUE(fd) << std::strerror(errno);
    ASSERT_TRUE(PWriteAll(fd.get(), "mid-page", 5000)) << std::strerror(errno);
    ASSERT_TRUE(PWriteAll(fd.get(), "tail", static_cast<off_t>(data.size()) + 10))
        << std::strerror(errno);
    ASSERT_EQ(::fsync(fd.get()), 0) << std::strerror(errno);
  }
  std::memcpy(data.data() + 5000, "mid-page", 8);
  data += std::string(10, '\0') + "tail";
  EXPECT_TRUE(ReadFile(S("f")) == data) << "SOURCE";
  EXPECT_TRUE(ReadFile(P("f")) == data);
  EXPECT_EQ(LStat(S("f")).st_size, static_cast<off_t>(data.size()));
  // A write-only O_TMPFILE, linked.
  UniqueFd tmp(::open(root().c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
  ASSERT_TRUE(tmp) << std::strerror(errno);
  ASSERT_TRUE(PWriteAll(tmp.get(), "0123456789", 0));
  ASSERT_TRUE(PWriteAll(tmp.get(), "ab", 3));
  ASSERT_EQ(::fsync(tmp.get()), 0);
  std::string proc = "/proc/self/fd/" + std::to_string(tmp.get());
  ASSERT_EQ(::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, P("t").c_str(), AT_SYMLINK_FOLLOW), 0)
      << std::strerror(errno);
  tmp.reset();
  EXPECT_EQ(ReadFile(S("t")), "012ab56789");
}

TEST_P(WritebackCache, AppendOpens) {
  WriteFile(P("log"), "start\n");
  {
    UniqueFd a = Open(P("log"), O_WRONLY | O_APPEND);
    UniqueFd b = Open(P("log"), O_RDWR | O_APPEND);
    ASSERT_TRUE(a && b) << std::strerror(errno);
    ASSERT_EQ(::write(a.get(), "a\n", 2), 2) << std::strerror(errno);
    ASSERT_EQ(::write(b.get(), "b\n", 2), 2) << std::strerror(errno);
    ASSERT_EQ(::pwrite(a.get(), "c\n", 2, 0), 2) << std::strerror(errno);
    EXPECT_EQ(::lseek(a.get(), 0, SEEK_CUR), 8) << "pwrite appends but leaves the offset";
    ASSERT_EQ(::fsync(a.get()), 0);
  }
  EXPECT_EQ(ReadFile(S("log")), "start\na\nb\nc\n");
  EXPECT_EQ(ReadFile(P("log")), "start\na\nb\nc\n");
}

INSTANTIATE_TEST_SUITE_P(Modes, WritebackCache, ::testing::Values(Mode::kNative, Mode::kWriteback),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return ModeName(info.param);
                         });

}  // namespace
}  // namespace fsbehaviour
