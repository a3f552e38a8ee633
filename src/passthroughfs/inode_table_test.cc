#include "inode_table.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace passthroughfs {
namespace {

using fusekit::NodeId;
using fusekit::UniqueFd;

class InodeTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/inode_table_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    UniqueFd root(::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root);
    struct stat st;
    ASSERT_EQ(::fstat(root.get(), &st), 0);
    table_ = std::make_unique<InodeTable>(std::move(root), st);
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }

  // Creates `name` (a file, or a directory with `dir`) and opens it O_PATH.
  std::pair<UniqueFd, struct stat> Make(const std::string& name, bool dir = false) {
    std::string path = dir_ + "/" + name;
    if (dir) {
      EXPECT_EQ(::mkdir(path.c_str(), 0755), 0);
    } else {
      UniqueFd f(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
      EXPECT_TRUE(f);
    }
    UniqueFd fd(::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    EXPECT_EQ(::fstat(fd.get(), &st), 0);
    return {std::move(fd), st};
  }

  std::string dir_;
  std::unique_ptr<InodeTable> table_;
};

TEST_F(InodeTableTest, LookupKnownFindsOnlyInodesInTheTable) {
  auto [fd, st] = Make("a");
  EXPECT_EQ(table_->LookupKnown(st), nullptr) << "not looked up yet";
  auto inode = table_->Lookup(std::move(fd), st);
  ASSERT_NE(inode, nullptr);
  auto again = table_->LookupKnown(st);
  ASSERT_EQ(again, inode) << "same inode, no new node id";
  EXPECT_EQ(table_->size(), 2u);  // the root and "a"

  // Two lookups are counted: one FORGET of 1 leaves it, the second drops it.
  table_->Forget(inode->id, 1);
  EXPECT_NE(table_->Get(inode->id), nullptr);
  table_->Forget(inode->id, 1);
  EXPECT_EQ(table_->Get(inode->id), nullptr);
  EXPECT_EQ(table_->LookupKnown(st), nullptr) << "forgotten inodes are not known";
}

TEST_F(InodeTableTest, LookupKnownRefusesAnotherType) {
  auto [fd, st] = Make("d", /*dir=*/true);
  auto inode = table_->Lookup(std::move(fd), st);
  struct stat as_file = st;
  as_file.st_mode = (st.st_mode & ~S_IFMT) | S_IFREG;
  EXPECT_EQ(table_->LookupKnown(as_file), nullptr);
  EXPECT_EQ(inode->nlookup, 1u) << "a refused LookupKnown counts nothing";
}

TEST_F(InodeTableTest, NodeIdsAreNeverReused) {
  auto [fd, st] = Make("a");
  auto first = table_->Lookup(std::move(fd), st)->id;
  table_->Forget(first, 1);
  auto [fd2, st2] = Make("b");
  auto second = table_->Lookup(std::move(fd2), st2)->id;
  EXPECT_NE(first, second);
  table_->Forget(NodeId(9999), 5);  // unknown: ignored
  EXPECT_NE(table_->Get(second), nullptr);
}

}  // namespace
}  // namespace passthroughfs

namespace passthroughfs {
namespace {

TEST(ContentStampTest, MovesWithEveryFieldAndIsNeverZero) {
  struct stat st {};
  st.st_mtim = {100, 5};
  st.st_ctim = {100, 7};
  st.st_size = 4096;
  uint64_t base = ContentStamp(st);
  EXPECT_NE(base, 0u);
  EXPECT_EQ(ContentStamp(st), base) << "the same version, the same stamp";
  struct stat changed = st;
  changed.st_mtim.tv_nsec = 6;
  EXPECT_NE(ContentStamp(changed), base);
  changed = st;
  changed.st_ctim.tv_sec = 101;
  EXPECT_NE(ContentStamp(changed), base);
  changed = st;
  changed.st_size = 4097;
  EXPECT_NE(ContentStamp(changed), base);
  struct stat zero {};
  EXPECT_NE(ContentStamp(zero), 0u);
}

}  // namespace
}  // namespace passthroughfs
