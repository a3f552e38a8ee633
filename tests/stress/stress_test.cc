// The stress run: several processes at once on one passthroughfs mount,
// each checking what it reads against its own model (fsx for file data with
// mmap mixed in, churn for the namespace), in every serving mode. Afterwards
// the daemon still serves and holds no more fds than before.
//
// FUSEKIT_STRESS_OPS sets the operations per process (default: a short run
// for `make test`; `make stress` sets a long one).
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fusekit/session.h"
#include "mount_fixture.h"
#include "passthrough_fs.h"

extern char** environ;

namespace passthroughfs {
namespace {

using fusekit::UniqueFd;
using fusekit::testing::CountOpenFds;
using fusekit::testing::InProcessMount;
using fusekit::testing::TempDir;
using fusekit::testing::WaitUntil;

std::string FdList() {
  std::string out;
  for (int fd = 0; fd < 1024; ++fd) {
    char target[256];
    ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), target, sizeof(target));
    if (n > 0) out += std::to_string(fd) + "=" + std::string(target, n) + " ";
  }
  return out;
}

long Operations() {
  const char* ops = std::getenv("FUSEKIT_STRESS_OPS");
  return ops ? std::atol(ops) : 1500;
}

pid_t Spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0) << args[0];
  return pid;
}

enum class Mode { kPassthrough, kNever, kDirectIo };

class Stress : public testing::TestWithParam<Mode> {};

TEST_P(Stress, ConcurrentProcessesSeeWhatTheirModelsSay) {
  TempDir tmp;
  std::string source = tmp.Sub("source");
  FsOptions options;
  options.passthrough = GetParam() == Mode::kNever ? PassthroughMode::kNever : PassthroughMode::kAuto;
  options.direct_io = GetParam() == Mode::kDirectIo;
  auto fs = PassthroughFs::Create(UniqueFd(::open(source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)),
                                  options);
  ASSERT_TRUE(fs);
  size_t fds_before = CountOpenFds();
  {
    auto mount = InProcessMount::Start(**fs, (*fs)->SessionConfig());
    ASSERT_NE(mount, nullptr);
    const std::string root = mount->path();
    const std::string ops = std::to_string(Operations());
    std::vector<pid_t> children;
    for (int i = 0; i < 3; ++i)
      children.push_back(Spawn({FUSEKIT_FSX, root + "/fsx-" + std::to_string(i), ops,
                                std::to_string(100 + i), std::to_string(2 << 20)}));
    for (int i = 0; i < 2; ++i)
      children.push_back(
          Spawn({FUSEKIT_CHURN, root + "/churn-" + std::to_string(i), ops, std::to_string(200 + i)}));
    for (pid_t pid : children) {
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << "a checker found a difference (its message is above); status " << status;
    }
    struct stat st;
    EXPECT_EQ(::stat(root.c_str(), &st), 0) << "the daemon still serves";
    if (GetParam() != Mode::kNever) {
      EXPECT_EQ(mount->session().stats().count(fusekit::Opcode::READ) > 0,
                GetParam() == Mode::kDirectIo);
    }
    std::ofstream("/proc/sys/vm/drop_caches") << "2" << std::endl;
    EXPECT_TRUE(WaitUntil([&] { return (*fs)->counters().backing_files.load() == 0; },
                          std::chrono::seconds(10)))
        << "backing files still registered after every file was closed";
    EXPECT_TRUE(mount->Stop());
  }
  EXPECT_TRUE(WaitUntil([&] { return CountOpenFds() <= fds_before; }, std::chrono::seconds(10)))
      << CountOpenFds() << " fds open, " << fds_before << " before the mount: " << FdList();
}

INSTANTIATE_TEST_SUITE_P(Modes, Stress,
                         testing::Values(Mode::kPassthrough, Mode::kNever, Mode::kDirectIo),
                         [](const testing::TestParamInfo<Mode>& info) {
                           switch (info.param) {
                             case Mode::kPassthrough: return std::string("Passthrough");
                             case Mode::kNever: return std::string("PassthroughNever");
                             case Mode::kDirectIo: return std::string("DirectIo");
                           }
                           return std::string("?");
                         });

}  // namespace
}  // namespace passthroughfs
