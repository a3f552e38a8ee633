#include "inode_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace passthroughfs {
namespace {

using fusekit::NodeId;
using fusekit::UniqueFd;

// Both ways of holding inodes, over a temp directory (no mount).
class InodeStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/inode_store_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    if (GetParam() && ::geteuid() != 0) GTEST_SKIP() << "handles need CAP_DAC_READ_SEARCH";
    Make(2);
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }

  void Make(size_t fd_budget) {
    store_.reset();
    UniqueFd root(::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root);
    struct stat st;
    ASSERT_EQ(::fstat(root.get(), &st), 0);
    InodeStore::Config config;
    config.handles = GetParam();
    config.fd_budget = fd_budget;
    store_ = std::make_unique<InodeStore>(std::move(root), st, config);
    root_ = store_->Get(fusekit::kRootNode);
    ASSERT_NE(root_, nullptr);
  }

  void CreateFile(const std::string& name) {
    UniqueFd f(::open((dir_ + "/" + name).c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_TRUE(f);
    ASSERT_EQ(::write(f.get(), name.data(), name.size()), static_cast<ssize_t>(name.size()));
  }

  fusekit::Result<InodeStore::Found> Resolve(const std::string& name) {
    auto anchor = store_->Anchor(*root_);
    if (!anchor) return fusekit::Fail(anchor.error());
    return store_->Resolve(*root_, anchor->get(), name.c_str());
  }

  // The bytes of the file behind `inode`, through a fresh anchor.
  std::string Contents(const Inode& inode) {
    auto anchor = store_->Anchor(inode);
    if (!anchor) return "<" + anchor.error().message() + ">";
    UniqueFd f(::open(("/proc/self/fd/" + std::to_string(anchor->get())).c_str(),
                      O_RDONLY | O_CLOEXEC));
    char buf[64];
    ssize_t n = ::read(f.get(), buf, sizeof(buf));
    return n < 0 ? "<read>" : std::string(buf, static_cast<size_t>(n));
  }

  std::string dir_;
  std::unique_ptr<InodeStore> store_;
  std::shared_ptr<Inode> root_;
};

TEST_P(InodeStoreTest, TheSameNameIsTheSameCountedInode) {
  CreateFile("a");
  auto first = Resolve("a");
  ASSERT_TRUE(first);
  auto second = Resolve("a");
  ASSERT_TRUE(second);
  EXPECT_EQ(first->inode, second->inode);
  EXPECT_EQ(store_->size(), 2u);  // the root and "a"
  EXPECT_EQ(GetParam(), !first->inode->handle.empty());
  store_->Forget(first->inode->id, 1);
  EXPECT_NE(store_->Get(first->inode->id), nullptr) << "one lookup left";
  store_->Forget(first->inode->id, 1);
  EXPECT_EQ(store_->Get(first->inode->id), nullptr);
  store_->Forget(fusekit::kRootNode, 100);
  EXPECT_NE(store_->Get(fusekit::kRootNode), nullptr) << "the root is never forgotten";
}

TEST_P(InodeStoreTest, HardLinksAreOneInode) {
  CreateFile("a");
  ASSERT_EQ(::link((dir_ + "/a").c_str(), (dir_ + "/b").c_str()), 0);
  auto a = Resolve("a");
  auto b = Resolve("b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->inode->id, b->inode->id);
}

// Held by handle, the inodes' fds stay within the budget however many
// inodes there are; each is reopened when used.
TEST_P(InodeStoreTest, ByHandleTheFdsStayWithinTheBudget) {
  if (!GetParam()) GTEST_SKIP() << "by fd, each inode holds one";
  std::vector<std::shared_ptr<Inode>> inodes;
  for (int i = 0; i < 20; ++i) {
    CreateFile("f" + std::to_string(i));
    auto found = Resolve("f" + std::to_string(i));
    ASSERT_TRUE(found);
    inodes.push_back(found->inode);
    EXPECT_LE(store_->fd_count(), 2u + 1) << "the budget (2) and the mount's own";
  }
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Contents(*inodes[i]), "f" + std::to_string(i));
  EXPECT_LE(store_->fd_count(), 3u);
}

// A file replaced behind the store (on ext4 the new one often gets the old
// inode number, with another generation): the old inode never opens the
// new file.
TEST_P(InodeStoreTest, AReplacedFileIsNeverTheOldInode) {
  CreateFile("a");
  auto old = Resolve("a");
  ASSERT_TRUE(old);
  if (GetParam()) store_->ReleaseCachedFds();  // no fd of the old file left
  ASSERT_EQ(::unlink((dir_ + "/a").c_str()), 0);
  CreateFile("a");
  auto now = Resolve("a");
  ASSERT_TRUE(now);
  EXPECT_NE(now->inode->id, old->inode->id);
  if (GetParam()) {
    auto anchor = store_->Anchor(*old->inode);
    ASSERT_FALSE(anchor) << "the old handle opened something";
    EXPECT_EQ(anchor.error(), fusekit::Errno(ESTALE));
  }
}

// By handle, a forgotten inode gets its node id back, by name or by id.
TEST_P(InodeStoreTest, AForgottenInodeKeepsItsNodeId) {
  if (!GetParam()) GTEST_SKIP() << "only inodes held by handle are remembered";
  CreateFile("a");
  auto first = Resolve("a");
  ASSERT_TRUE(first);
  NodeId id = first->inode->id;
  store_->Forget(id, 1);
  EXPECT_EQ(store_->Get(id), nullptr);
  EXPECT_EQ(store_->forgotten_size(), 1u);
  auto again = Resolve("a");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->inode->id, id);
  store_->Forget(id, 1);
  auto revived = store_->Revive(id);
  ASSERT_TRUE(revived) << revived.error().message();
  EXPECT_EQ(revived->inode->id, id);
  EXPECT_EQ(Contents(*revived->inode), "a");
  store_->Forget(id, 1);
  ASSERT_EQ(::unlink((dir_ + "/a").c_str()), 0);
  auto gone = store_->Revive(id);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error(), fusekit::Errno(ESTALE));
  EXPECT_FALSE(store_->Revive(NodeId(12345))) << "never issued";
}

// By fd, the store names the least recently used inodes to prune once
// more than the budget's high-water mark hold fds; open ones never.
TEST_P(InodeStoreTest, ByFdThePruneCandidatesAreTheLeastRecentlyUsedUnopened) {
  if (GetParam()) GTEST_SKIP() << "by handle no inode holds an fd";
  Make(10);
  std::vector<std::shared_ptr<Inode>> inodes;
  for (int i = 0; i < 12; ++i) {
    CreateFile("f" + std::to_string(i));
    auto found = Resolve("f" + std::to_string(i));
    ASSERT_TRUE(found);
    inodes.push_back(found->inode);
  }
  inodes[0]->in_use++;  // open: never a candidate
  auto prune = store_->PruneCandidates(/*force=*/false);
  ASSERT_FALSE(prune.empty());
  EXPECT_EQ(prune.front(), inodes[1]->id) << "least recently used first";
  for (NodeId id : prune) EXPECT_NE(id, inodes[0]->id);
  EXPECT_TRUE(store_->PruneCandidates(false).empty()) << "not again at once";
  for (NodeId id : prune) store_->Forget(id, 1);
  EXPECT_LE(store_->fd_count(), 10u);
  inodes[0]->in_use--;
}

INSTANTIATE_TEST_SUITE_P(Ways, InodeStoreTest, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& p) {
                           return p.param ? "ByHandle" : "ByFd";
                         });

}  // namespace
}  // namespace passthroughfs
