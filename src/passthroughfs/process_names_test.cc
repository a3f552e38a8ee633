// ProcessNames: the caller's name as /proc says it now, through kept
// files: after an exec renames it, after the process is gone, and within
// its capacity.
#include "process_names.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace passthroughfs {
namespace {

TEST(ProcessNames, ReadsTheNameAsItIsNow) {
  ProcessNames names;
  uint32_t self = static_cast<uint32_t>(::gettid());
  char before[16] = {};
  ASSERT_EQ(::prctl(PR_GET_NAME, before), 0);
  EXPECT_EQ(names.Name(self), before);
  ASSERT_EQ(::prctl(PR_SET_NAME, "renamed-now"), 0);
  EXPECT_EQ(names.Name(self), "renamed-now") << "a kept file reads the current name";
  ASSERT_EQ(::prctl(PR_SET_NAME, before), 0);
  EXPECT_EQ(names.Name(0), "");
  EXPECT_EQ(names.open_files(), 1u);
}

TEST(ProcessNames, AGoneProcessHasNoName) {
  ProcessNames names;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::prctl(PR_SET_NAME, "short-lived");
    char byte = 1;
    (void)!::write(ready[1], &byte, 1);
    ::pause();
    ::_exit(0);
  }
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  EXPECT_EQ(names.Name(static_cast<uint32_t>(child)), "short-lived");
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(names.Name(static_cast<uint32_t>(child)), "");
  EXPECT_EQ(names.open_files(), 0u) << "the gone task's file is not kept";
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST(ProcessNames, KeepsAtMostItsCapacity) {
  ProcessNames names(2);
  std::vector<pid_t> children;
  for (int i = 0; i < 3; ++i) {
    pid_t child = ::fork();
    if (child == 0) {
      ::pause();
      ::_exit(0);
    }
    children.push_back(child);
  }
  for (pid_t child : children) EXPECT_FALSE(names.Name(static_cast<uint32_t>(child)).empty());
  EXPECT_EQ(names.open_files(), 2u);
  for (pid_t child : children) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
  }
}

}  // namespace
}  // namespace passthroughfs
