// Changes made in SOURCE directly, beside the mount, show through it within
// 100 ms although the kernel's caches were warmed and their timeouts are an
// hour: the watcher tells the kernel what changed. Sixteen kinds of change,
// each in its own test, with the fanotify and the inotify back ends, in the
// passthrough, passthrough=never, direct_io and io_uring modes.
//
// The control (Unwatched): the same changes with the watcher off and hour
// timeouts stay invisible, so each case really needs the watcher.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "mount_fixture.h"
#include "passthrough_fs.h"
#include "served_fs.h"

namespace passthroughfs {
namespace {

using fusekit::UniqueFd;
using fusekit::testing::TempDir;
using std::chrono::milliseconds;

using Mode = test::IoMode;

struct Param {
  WatchMode watch;
  Mode mode;
};

std::string Name(const testing::TestParamInfo<Param>& info) {
  std::string n = info.param.watch == WatchMode::kFanotify  ? "Fanotify"
                  : info.param.watch == WatchMode::kInotify ? "Inotify"
                                                            : "Unwatched";
  return n + test::IoModeName(info.param.mode);
}

void Write(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::optional<struct stat> Stat(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  return st;
}

std::set<std::string> Names(DIR* dir) {
  std::set<std::string> names;
  ::rewinddir(dir);
  while (dirent* e = ::readdir(dir)) names.insert(e->d_name);
  return names;
}

// What a case keeps open between warming the caches and looking again.
struct Held {
  UniqueFd fd;
  DIR* dir = nullptr;
  struct stat before {};
  ~Held() {
    if (dir) ::closedir(dir);
  }
};

struct Case {
  const char* name;
  std::function<void(const std::string& src)> setup;
  // Fills the kernel's caches through the mount (and may hold things open).
  std::function<void(const std::string& mnt, Held&)> warm;
  std::function<void(const std::string& src)> change;
  std::function<bool(const std::string& mnt, Held&)> visible;
};

std::vector<Case> Cases() {
  auto stat_ok = [](const std::string& p) { return Stat(p).has_value(); };
  return {
      {"create", [](auto&) {},
       [=](auto& m, Held&) { EXPECT_FALSE(stat_ok(m + "/new")); },  // a negative entry
       [](auto& s) { Write(s + "/new", "x"); },
       [=](auto& m, Held&) { return stat_ok(m + "/new"); }},
      {"unlink", [](auto& s) { Write(s + "/f", "x"); },
       [=](auto& m, Held&) { EXPECT_TRUE(stat_ok(m + "/f")); },
       [](auto& s) { ::unlink((s + "/f").c_str()); },
       [=](auto& m, Held&) { return !stat_ok(m + "/f"); }},
      {"rename", [](auto& s) { Write(s + "/a", "x"); },
       [=](auto& m, Held&) {
         EXPECT_TRUE(stat_ok(m + "/a"));
         EXPECT_FALSE(stat_ok(m + "/b"));
       },
       [](auto& s) { ::rename((s + "/a").c_str(), (s + "/b").c_str()); },
       [=](auto& m, Held&) { return !stat_ok(m + "/a") && stat_ok(m + "/b"); }},
      {"rename_over",
       [](auto& s) {
         Write(s + "/a", "from a");
         Write(s + "/b", "old b!");
       },
       [](auto& m, Held&) { EXPECT_EQ(Read(m + "/b"), "old b!"); },
       [](auto& s) { ::rename((s + "/a").c_str(), (s + "/b").c_str()); },
       [](auto& m, Held&) { return Read(m + "/b") == "from a"; }},
      {"mkdir", [](auto&) {}, [=](auto& m, Held&) { EXPECT_FALSE(stat_ok(m + "/d")); },
       [](auto& s) { ::mkdir((s + "/d").c_str(), 0755); },
       [](auto& m, Held&) {
         auto st = Stat(m + "/d");
         return st && S_ISDIR(st->st_mode);
       }},
      {"rmdir", [](auto& s) { ::mkdir((s + "/d").c_str(), 0755); },
       [=](auto& m, Held&) { EXPECT_TRUE(stat_ok(m + "/d")); },
       [](auto& s) { ::rmdir((s + "/d").c_str()); },
       [=](auto& m, Held&) { return !stat_ok(m + "/d"); }},
      {"chmod", [](auto& s) { Write(s + "/f", "x"); }, [](auto& m, Held&) { Stat(m + "/f"); },
       [](auto& s) { ::chmod((s + "/f").c_str(), 0600); },
       [](auto& m, Held&) {
         auto st = Stat(m + "/f");
         return st && (st->st_mode & 07777) == 0600;
       }},
      {"chown", [](auto& s) { Write(s + "/f", "x"); }, [](auto& m, Held&) { Stat(m + "/f"); },
       [](auto& s) { (void)!::chown((s + "/f").c_str(), 4321, 4321); },
       [](auto& m, Held&) {
         auto st = Stat(m + "/f");
         return st && st->st_uid == 4321u;
       }},
      {"utimes", [](auto& s) { Write(s + "/f", "x"); }, [](auto& m, Held&) { Stat(m + "/f"); },
       [](auto& s) {
         timeval t[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
         ::utimes((s + "/f").c_str(), t);
       },
       [](auto& m, Held&) {
         auto st = Stat(m + "/f");
         return st && st->st_mtim.tv_sec == 1'000'000'000;
       }},
      {"append", [](auto& s) { Write(s + "/f", "abc"); },
       [](auto& m, Held&) { EXPECT_EQ(Read(m + "/f"), "abc"); },
       [](auto& s) { std::ofstream(s + "/f", std::ios::app) << "def"; },
       [](auto& m, Held&) {
         auto st = Stat(m + "/f");
         return st && st->st_size == 6 && Read(m + "/f") == "abcdef";
       }},
      // Read through a file held open: its pages, once cached, stay unless
      // someone drops them (passthrough and direct I/O read SOURCE itself);
      // its mtime, the same size, too.
      {"overwrite", [](auto& s) { Write(s + "/f", "version 1"); },
       [](auto& m, Held& h) {
         h.fd.reset(::open((m + "/f").c_str(), O_RDONLY | O_CLOEXEC));
         char buf[16];
         EXPECT_EQ(::pread(h.fd.get(), buf, sizeof(buf), 0), 9);
         h.before = Stat(m + "/f").value_or(h.before);
       },
       [](auto& s) {
         std::this_thread::sleep_for(milliseconds(10));  // an mtime the clock can tell apart
         UniqueFd fd(::open((s + "/f").c_str(), O_WRONLY | O_CLOEXEC));
         (void)!::pwrite(fd.get(), "version 2", 9, 0);
       },
       [](auto& m, Held& h) {
         // The mtime first: a read through the mount refreshes attributes
         // by itself (it invalidates atime), which would hide a stale one.
         auto st = Stat(m + "/f");
         if (!st || (st->st_mtim.tv_sec == h.before.st_mtim.tv_sec &&
                     st->st_mtim.tv_nsec == h.before.st_mtim.tv_nsec))
           return false;
         char buf[16] = {};
         return ::pread(h.fd.get(), buf, sizeof(buf), 0) == 9 &&
                std::string(buf, 9) == "version 2";
       }},
      {"truncate", [](auto& s) { Write(s + "/f", "0123456789"); },
       [](auto& m, Held&) { Stat(m + "/f"); },
       [](auto& s) { (void)!::truncate((s + "/f").c_str(), 3); },
       [](auto& m, Held&) {
         auto st = Stat(m + "/f");
         return st && st->st_size == 3;
       }},
      {"symlink_retarget",
       [](auto& s) { (void)!::symlink("old-target", (s + "/l").c_str()); },
       [](auto& m, Held&) {
         char buf[64];
         EXPECT_EQ(::readlink((m + "/l").c_str(), buf, sizeof(buf)), 10);
       },
       [](auto& s) {
         (void)!::symlink("new-target", (s + "/l.new").c_str());
         ::rename((s + "/l.new").c_str(), (s + "/l").c_str());
       },
       [](auto& m, Held&) {
         char buf[64];
         ssize_t n = ::readlink((m + "/l").c_str(), buf, sizeof(buf));
         return n == 10 && std::string(buf, 10) == "new-target";
       }},
      {"hard_link", [](auto& s) { Write(s + "/f", "x"); },
       [=](auto& m, Held&) {
         Stat(m + "/f");
         EXPECT_FALSE(stat_ok(m + "/g"));
       },
       [](auto& s) { (void)!::link((s + "/f").c_str(), (s + "/g").c_str()); },
       [=](auto& m, Held&) {
         auto st = Stat(m + "/f");
         return stat_ok(m + "/g") && st && st->st_nlink == 2;
       }},
      // A directory listed and held open: rewinddir lists it again.
      {"new_entry_in_listed_directory",
       [](auto& s) {
         ::mkdir((s + "/d").c_str(), 0755);
         Write(s + "/d/a", "x");
       },
       [](auto& m, Held& h) {
         h.dir = ::opendir((m + "/d").c_str());
         ASSERT_NE(h.dir, nullptr);
         EXPECT_EQ(Names(h.dir).count("a"), 1u);
       },
       [](auto& s) { Write(s + "/d/b", "y"); },
       [](auto&, Held& h) { return Names(h.dir).count("b") == 1; }},
      // Extended attributes are not cached, the ctime that moves with them is.
      {"xattr", [](auto& s) { Write(s + "/f", "x"); },
       [](auto& m, Held& h) { h.before = Stat(m + "/f").value_or(h.before); },
       [](auto& s) {
         std::this_thread::sleep_for(milliseconds(10));  // a ctime the clock can tell apart
         ::setxattr((s + "/f").c_str(), "user.k", "v2", 2, 0);
       },
       [](auto& m, Held& h) {
         auto st = Stat(m + "/f");
         char v[8];
         ssize_t n = ::getxattr((m + "/f").c_str(), "user.k", v, sizeof(v));
         return n == 2 && st &&
                (st->st_ctim.tv_sec != h.before.st_ctim.tv_sec ||
                 st->st_ctim.tv_nsec != h.before.st_ctim.tv_nsec);
       }},
  };
}

class Staleness : public testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    if (GetParam().mode == Mode::kIoUring) SKIP_UNLESS_URING_ENABLED();
    source_ = tmp_.Sub("source");
  }
  void Mount() {
    FsOptions options;
    options.watch = GetParam().watch;
    test::ApplyIoMode(GetParam().mode, options);
    if (GetParam().watch == WatchMode::kOff) {
      // What the watcher's hour looks like without a watcher.
      options.entry_timeout = options.attr_timeout = options.negative_timeout = 3600;
    }
    served_ = test::Serve(source_, options);
    ASSERT_TRUE(served_);
    if (GetParam().watch != WatchMode::kOff) {
      ASSERT_NE(served_.fs().coherence(), nullptr) << served_.fs().PassthroughStatus();
      EXPECT_STREQ(served_.fs().coherence()->backend(),
                   GetParam().watch == WatchMode::kFanotify ? "fanotify" : "inotify");
      EXPECT_TRUE(served_.fs().CachesCoherent());
    }
  }
  void TearDown() override {
    served_.Stop();
  }

  void Run(const std::string& which) {
    const Case* c = nullptr;
    static const auto cases = Cases();
    for (const auto& k : cases)
      if (which == k.name) c = &k;
    ASSERT_NE(c, nullptr) << which;
    c->setup(source_);
    ASSERT_NO_FATAL_FAILURE(Mount());
    const std::string mnt = served_.path();
    Held held;
    c->warm(mnt, held);
    ASSERT_FALSE(c->visible(mnt, held)) << "visible before the change";
    auto start = std::chrono::steady_clock::now();
    c->change(source_);
    constexpr milliseconds kGoal(100);
    bool seen = false;
    milliseconds took{};
    while (std::chrono::steady_clock::now() - start < (Watched() ? milliseconds(2000) : kGoal * 3)) {
      if (c->visible(mnt, held)) {
        seen = true;
        took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
        break;
      }
      std::this_thread::sleep_for(milliseconds(2));
    }
    if (Watched()) {
      EXPECT_TRUE(seen && took <= kGoal)
          << which << ": " << (seen ? "seen after " + std::to_string(took.count()) + " ms" : "never seen");
    } else {
      EXPECT_FALSE(seen) << which << ": visible without a watcher: the case needs none";
    }
  }
  bool Watched() const { return GetParam().watch != WatchMode::kOff; }

  TempDir tmp_;
  std::string source_;
  test::ServedFs served_;
};

TEST_P(Staleness, Create) { Run("create"); }
TEST_P(Staleness, Unlink) { Run("unlink"); }
TEST_P(Staleness, Rename) { Run("rename"); }
TEST_P(Staleness, RenameOver) { Run("rename_over"); }
TEST_P(Staleness, Mkdir) { Run("mkdir"); }
TEST_P(Staleness, Rmdir) { Run("rmdir"); }
TEST_P(Staleness, Chmod) { Run("chmod"); }
TEST_P(Staleness, Chown) { Run("chown"); }
TEST_P(Staleness, Utimes) { Run("utimes"); }
TEST_P(Staleness, Append) { Run("append"); }
TEST_P(Staleness, Overwrite) { Run("overwrite"); }
TEST_P(Staleness, Truncate) { Run("truncate"); }
TEST_P(Staleness, SymlinkRetarget) { Run("symlink_retarget"); }
TEST_P(Staleness, HardLink) { Run("hard_link"); }
TEST_P(Staleness, NewEntryInAListedDirectory) { Run("new_entry_in_listed_directory"); }
TEST_P(Staleness, Xattr) { Run("xattr"); }

INSTANTIATE_TEST_SUITE_P(
    Watchers, Staleness,
    testing::Values(Param{WatchMode::kFanotify, Mode::kPassthrough},
                    Param{WatchMode::kFanotify, Mode::kNever},
                    Param{WatchMode::kFanotify, Mode::kDirectIo},
                    Param{WatchMode::kFanotify, Mode::kIoUring},
                    Param{WatchMode::kInotify, Mode::kPassthrough},
                    Param{WatchMode::kInotify, Mode::kNever},
                    Param{WatchMode::kInotify, Mode::kDirectIo},
                    Param{WatchMode::kInotify, Mode::kIoUring},
                    Param{WatchMode::kOff, Mode::kNever}),
    Name);

}  // namespace
}  // namespace passthroughfs
