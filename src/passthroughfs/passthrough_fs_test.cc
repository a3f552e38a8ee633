// PassthroughFs driven directly, as the dispatcher would call it, without a
// mount: requests the kernel rarely or never sends on its own (LOOKUP of
// ".." happens only when it reconnects an exported file handle), so that
// what guards containment is tested deterministically.
#include "passthrough_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/testing/wire.h"
#include "fusekit/unique_fd.h"

namespace passthroughfs {
namespace {

using fusekit::Context;
using fusekit::NodeId;
using fusekit::Opcode;
using fusekit::RequestId;
using fusekit::UniqueFd;
using fusekit::testutil::RecordingSink;

// A temp directory tree removed at the end (nothing here is mounted).
class Tree {
 public:
  Tree() {
    char tmpl[] = "/tmp/passthroughfs-unit.XXXXXX";
    path_ = ::mkdtemp(tmpl) ? tmpl : "";
  }
  ~Tree() {
    if (!path_.empty()) (void)!::system(("rm -rf '" + path_ + "'").c_str());
  }
  std::string Mkdir(const std::string& rel) const {
    std::string p = path_ + "/" + rel;
    EXPECT_EQ(::mkdir(p.c_str(), 0755), 0) << p << ": " << std::strerror(errno);
    return p;
  }
  std::string Path(const std::string& rel) const { return path_ + "/" + rel; }
  ino_t Ino(const std::string& rel) const {
    struct stat st {};
    EXPECT_EQ(::stat(Path(rel).c_str(), &st), 0) << rel;
    return st.st_ino;
  }

 private:
  std::string path_;
};

struct LookupResult {
  int error = 0;  // 0: an entry
  uint64_t node = 0;
  uint64_t ino = 0;
};

class DirectCalls : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(tree_.Mkdir("source"), "");
    auto fs = PassthroughFs::Create(
        UniqueFd(::open(tree_.Path("source").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)),
        FsOptions{});
    ASSERT_TRUE(fs) << fs.error().message();
    fs_ = std::move(*fs);
  }

  LookupResult Lookup(uint64_t parent, const std::string& name) {
    auto sink = std::make_shared<RecordingSink>();
    Context ctx;
    ctx.header.node = NodeId(parent);
    ctx.header.opcode = Opcode::LOOKUP;
    fs_->Lookup(ctx, fusekit::req::Lookup{name},
                fusekit::ReplyEntry(fusekit::ReplyBase(sink, RequestId(2), Opcode::LOOKUP)));
    auto reply = sink->only();
    LookupResult result;
    result.error = reply.error;
    if (reply.error == 0 && reply.payload.size() == sizeof(fusekit::abi::fuse_entry_out)) {
      fusekit::abi::fuse_entry_out out;
      std::memcpy(&out, reply.payload.data(), sizeof(out));
      result.node = out.nodeid;
      result.ino = out.attr.ino;
    }
    return result;
  }

  Tree tree_;
  std::unique_ptr<PassthroughFs> fs_;
};

TEST_F(DirectCalls, DotDotOfTheRootIsTheRoot) {
  auto up = Lookup(fusekit::kRootNode.value, "..");
  ASSERT_EQ(up.error, 0) << std::strerror(up.error);
  EXPECT_EQ(up.node, fusekit::kRootNode.value);
  EXPECT_EQ(up.ino, tree_.Ino("source")) << "never SOURCE's parent";
}

TEST_F(DirectCalls, DotDotOfADirectoryIsItsParent) {
  tree_.Mkdir("source/a");
  tree_.Mkdir("source/a/b");
  auto a = Lookup(fusekit::kRootNode.value, "a");
  ASSERT_EQ(a.error, 0);
  auto b = Lookup(a.node, "b");
  ASSERT_EQ(b.error, 0);
  auto up = Lookup(b.node, "..");
  ASSERT_EQ(up.error, 0) << std::strerror(up.error);
  EXPECT_EQ(up.node, a.node);
  auto top = Lookup(a.node, "..");
  ASSERT_EQ(top.error, 0);
  EXPECT_EQ(top.node, fusekit::kRootNode.value);
}

TEST_F(DirectCalls, DotDotFollowsADirectoryMovedWithinSource) {
  tree_.Mkdir("source/a");
  tree_.Mkdir("source/c");
  auto a = Lookup(fusekit::kRootNode.value, "a");
  ASSERT_EQ(a.error, 0);
  ASSERT_EQ(::rename(tree_.Path("source/a").c_str(), tree_.Path("source/c/a").c_str()), 0);
  auto up = Lookup(a.node, "..");
  ASSERT_EQ(up.error, 0) << std::strerror(up.error);
  EXPECT_EQ(up.ino, tree_.Ino("source/c"));
}

// Moved out of SOURCE on the host while the kernel still holds it: its ".."
// is outside, and the daemon must not hand it out.
TEST_F(DirectCalls, DotDotOfADirectoryMovedOutOfSourceIsRefused) {
  tree_.Mkdir("source/a");
  tree_.Mkdir("source/a/b");
  auto a = Lookup(fusekit::kRootNode.value, "a");
  auto b = Lookup(a.node, "b");
  ASSERT_EQ(a.error, 0);
  ASSERT_EQ(b.error, 0);
  ASSERT_EQ(::rename(tree_.Path("source/a").c_str(), tree_.Path("moved").c_str()), 0);
  auto up = Lookup(a.node, "..");
  EXPECT_EQ(up.error, ENOENT) << "answered SOURCE's parent, node " << up.node;
  // Below the moved directory, ".." stays inside it, but that is outside
  // SOURCE all the same.
  auto up_b = Lookup(b.node, "..");
  EXPECT_EQ(up_b.error, ENOENT) << "answered a directory outside SOURCE, node " << up_b.node;
}

}  // namespace
}  // namespace passthroughfs
