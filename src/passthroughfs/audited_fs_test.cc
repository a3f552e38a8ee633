// AuditedFs over a fake filesystem: which requests are recorded, with what
// paths and members, the answer's errno in each, and refusal while a
// required trail cannot be written.
#include "audited_fs.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fusekit/testing/wire.h"

namespace passthroughfs {
namespace {

using fusekit::Context;
using fusekit::NodeId;
using fusekit::Opcode;
using fusekit::ReplyBase;
using fusekit::RequestId;
namespace req = fusekit::req;
using Json = nlohmann::json;

// Answers every change: EACCES for names starting with "locked", else Ok.
class FakeFs : public fusekit::Operations {
 public:
  void Unlink(const Context&, const req::Unlink& in, fusekit::ReplyEmpty r) override {
    calls++;
    if (in.name.starts_with("locked")) return r.Error(EACCES);
    r.Ok();
  }
  void MkDir(const Context&, const req::MkDir&, fusekit::ReplyEntry r) override {
    calls++;
    fusekit::Entry e;
    e.node = NodeId(50);
    r.Ok(e);
  }
  void Rename(const Context&, const req::Rename&, fusekit::ReplyEmpty r) override {
    calls++;
    r.Ok();
  }
  void Open(const Context&, const req::Open&, fusekit::ReplyOpen r) override {
    calls++;
    r.Ok(fusekit::FileHandle(1));
  }
  void SetAttr(const Context&, const req::SetAttr&, fusekit::ReplyAttr r) override {
    calls++;
    r.Error(EPERM);
  }
  int calls = 0;
};

class AuditedFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/audited_fs_test.XXXXXX";
    dir_ = ::mkdtemp(pattern);
    ctx_.header.node = NodeId(2);
    ctx_.header.uid = 1000;
    ctx_.header.gid = 100;
    ctx_.header.pid = static_cast<uint32_t>(::getpid());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Node 1 is SOURCE's root, node 2 "dir", node 3 "dir/sub", node 9 gone.
  static fusekit::Result<std::string> PathOf(NodeId node) {
    switch (node.value) {
      case 1: return std::string(".");
      case 2: return std::string("dir");
      case 3: return std::string("dir/sub");
      default: return fusekit::Fail(ESTALE);
    }
  }

  ReplyBase Reply(Opcode op) { return ReplyBase(sink_, RequestId(++unique_), op); }

  // The records, once the trail has written them all (it is destroyed).
  std::vector<Json> Records(std::unique_ptr<AuditTrail> trail) {
    trail.reset();
    std::ifstream in(dir_ + "/audit.log");
    std::vector<Json> records;
    for (std::string line; std::getline(in, line);) records.push_back(Json::parse(line));
    return records;
  }

  std::string dir_;
  Context ctx_;
  FakeFs below_;
  std::shared_ptr<fusekit::testutil::RecordingSink> sink_ =
      std::make_shared<fusekit::testutil::RecordingSink>();
  uint64_t unique_ = 0;
};

TEST_F(AuditedFsTest, RecordsEachChangeWithItsPathsAndAnswer) {
  auto trail = AuditTrail::Open({.path = dir_ + "/audit.log"});
  ASSERT_TRUE(trail) << trail.error().message();
  AuditedFs fs(below_, **trail, PathOf);
  fs.Unlink(ctx_, req::Unlink{"gone"}, fusekit::ReplyEmpty(Reply(Opcode::UNLINK)));
  fs.Unlink(ctx_, req::Unlink{"locked"}, fusekit::ReplyEmpty(Reply(Opcode::UNLINK)));
  fs.MkDir(ctx_, req::MkDir{040755, 022, "new"}, fusekit::ReplyEntry(Reply(Opcode::MKDIR)));
  req::Rename rename{"a", NodeId(1), "b", RENAME_NOREPLACE};
  fs.Rename(ctx_, rename, fusekit::ReplyEmpty(Reply(Opcode::RENAME2)));
  Context on_file = ctx_;
  on_file.header.node = NodeId(3);
  fs.Open(on_file, req::Open{O_RDONLY}, fusekit::ReplyOpen(Reply(Opcode::OPEN)));
  fs.Open(on_file, req::Open{O_WRONLY | O_TRUNC}, fusekit::ReplyOpen(Reply(Opcode::OPEN)));
  req::SetAttr chmod;
  chmod.mode = 0100600;
  on_file.header.node = NodeId(9);
  fs.SetAttr(on_file, chmod, fusekit::ReplyAttr(Reply(Opcode::SETATTR)));
  EXPECT_EQ(below_.calls, 7);
  EXPECT_EQ(sink_->count(), 7u);

  auto records = Records(std::move(*trail));
  ASSERT_EQ(records.size(), 6u);  // not the read-only open
  for (const Json& r : records) {
    EXPECT_EQ(r["uid"], 1000);
    EXPECT_EQ(r["gid"], 100);
    EXPECT_EQ(r["pid"], ::getpid());
    EXPECT_FALSE(r["comm"].get<std::string>().empty());
  }
  EXPECT_EQ(records[0]["op"], "unlink");
  EXPECT_EQ(records[0]["path"], "dir/gone");
  EXPECT_EQ(records[0]["result"], 0);
  EXPECT_EQ(records[1]["path"], "dir/locked");
  EXPECT_EQ(records[1]["result"], EACCES);
  EXPECT_EQ(records[1]["error"], "EACCES");
  EXPECT_EQ(records[2]["op"], "mkdir");
  EXPECT_EQ(records[2]["path"], "dir/new");
  EXPECT_EQ(records[2]["mode"], "0755");
  EXPECT_EQ(records[3]["op"], "rename");
  EXPECT_EQ(records[3]["path"], "dir/a");
  EXPECT_EQ(records[3]["new_path"], "b");
  EXPECT_EQ(records[3]["flags"], Json::array({"noreplace"}));
  EXPECT_EQ(records[4]["op"], "open");
  EXPECT_EQ(records[4]["path"], "dir/sub");
  EXPECT_EQ(records[4]["flags"], Json::array({"wronly", "trunc"}));
  // A node whose path cannot be told still gets its record.
  EXPECT_EQ(records[5]["op"], "setattr");
  EXPECT_EQ(records[5]["path"], "?");
  EXPECT_EQ(records[5]["mode"], "0600");
  EXPECT_EQ(records[5]["error"], "EPERM");
}

// /dev/full refuses every write: a required trail then refuses changes,
// which never reach the filesystem below; reads go on.
TEST_F(AuditedFsTest, ARequiredTrailThatCannotBeWrittenRefusesChanges) {
  AuditTrail::Options options{.path = "/dev/full", .required = true};
  options.retry = std::chrono::milliseconds(20);
  auto trail = AuditTrail::Open(options);
  ASSERT_TRUE(trail) << trail.error().message();
  AuditedFs fs(below_, **trail, PathOf);
  fs.Unlink(ctx_, req::Unlink{"first"}, fusekit::ReplyEmpty(Reply(Opcode::UNLINK)));
  for (int i = 0; i < 500 && !(*trail)->Refusing(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE((*trail)->Refusing());
  fs.Unlink(ctx_, req::Unlink{"second"}, fusekit::ReplyEmpty(Reply(Opcode::UNLINK)));
  fs.Open(ctx_, req::Open{O_RDONLY}, fusekit::ReplyOpen(Reply(Opcode::OPEN)));
  EXPECT_EQ(below_.calls, 2);  // the first unlink and the read-only open
  auto replies = sink_->replies();
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[1].error, EIO);
  EXPECT_EQ(replies[2].error, 0);
}

}  // namespace
}  // namespace passthroughfs
