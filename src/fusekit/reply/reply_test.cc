// Reply wire bytes and the answer-exactly-once rules, against a recording
// sink. Expected bytes are built from the ABI structs field by field.
#include "fusekit/reply.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string_view>
#include <thread>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/testing/wire.h"
#include "fusekit/unique_fd.h"

namespace fusekit {
namespace {

using namespace std::chrono_literals;
using testutil::RecordingSink;
using testutil::SentReply;

class ReplyTest : public ::testing::Test {
 protected:
  ReplyBase Base(Opcode opcode, uint64_t unique = 7) {
    return ReplyBase(sink_, RequestId(unique), opcode);
  }
  SentReply Only() const {
    EXPECT_EQ(sink_->count(), 1u);
    return sink_->only();
  }

  std::shared_ptr<RecordingSink> sink_ = std::make_shared<RecordingSink>();
};

std::string_view Text(const std::vector<std::byte>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Entry SampleEntry() {
  Entry e;
  e.node = NodeId(42);
  e.generation = 2;
  e.attr.ino = 4242;
  e.attr.mode = S_IFREG | 0644;
  e.attr.size = 10;
  e.attr.nlink = 1;
  e.entry_timeout = 1s;
  e.attr_timeout = 2500ms;
  return e;
}

void ExpectSampleEntry(const abi::fuse_entry_out& out) {
  EXPECT_EQ(out.nodeid, 42u);
  EXPECT_EQ(out.generation, 2u);
  EXPECT_EQ(out.entry_valid, 1u);
  EXPECT_EQ(out.entry_valid_nsec, 0u);
  EXPECT_EQ(out.attr_valid, 2u);
  EXPECT_EQ(out.attr_valid_nsec, 500'000'000u);
  EXPECT_EQ(out.attr.ino, 4242u);
  EXPECT_EQ(out.attr.mode, S_IFREG | 0644u);
  EXPECT_EQ(out.attr.size, 10u);
  EXPECT_EQ(out.attr.nlink, 1u);
}

// ---- wire bytes ------------------------------------------------------------

TEST_F(ReplyTest, EmptyOk) {
  ReplyEmpty r(Base(Opcode::UNLINK, 11));
  r.Ok();
  SentReply sent = Only();
  EXPECT_EQ(sent.unique, RequestId(11));
  EXPECT_EQ(sent.opcode, Opcode::UNLINK);
  EXPECT_EQ(sent.error, 0);
  EXPECT_TRUE(sent.payload.empty());
}

TEST_F(ReplyTest, ErrorCarriesThePositiveErrnoAndNoPayload) {
  ReplyEntry r(Base(Opcode::LOOKUP));
  r.Error(ENOENT);
  SentReply sent = Only();
  EXPECT_EQ(sent.error, ENOENT);
  EXPECT_TRUE(sent.payload.empty());
}

TEST_F(ReplyTest, ErrorAcceptsAnErrno) {
  ReplyEmpty r(Base(Opcode::ACCESS));
  r.Error(Errno(EACCES));
  EXPECT_EQ(Only().error, EACCES);
}

TEST_F(ReplyTest, ErrorsTheKernelWouldRefuseBecomeEio) {
  // The kernel accepts only 1..511; anything else would leave the request
  // unanswered forever.
  for (int bad : {0, -2, 512, 100000}) {
    sink_->clear();
    ReplyEmpty r(Base(Opcode::FLUSH));
    r.Error(bad);
    EXPECT_EQ(Only().error, EIO) << bad;
  }
  sink_->clear();
  ReplyEmpty r(Base(Opcode::FLUSH));
  r.Error(511);
  EXPECT_EQ(Only().error, 511);
}

TEST_F(ReplyTest, EntryOk) {
  ReplyEntry r(Base(Opcode::LOOKUP));
  r.Ok(SampleEntry());
  auto out = Only().PayloadAs<abi::fuse_entry_out>();
  ASSERT_TRUE(out);
  ExpectSampleEntry(*out);
}

TEST_F(ReplyTest, EntryNegativeIsNodeZeroWithTheTimeout) {
  ReplyEntry r(Base(Opcode::LOOKUP));
  r.Negative(3s);
  SentReply sent = Only();
  EXPECT_EQ(sent.error, 0);
  auto out = sent.PayloadAs<abi::fuse_entry_out>();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->nodeid, 0u);
  EXPECT_EQ(out->entry_valid, 3u);
  EXPECT_EQ(out->attr_valid, 0u);
  EXPECT_EQ(out->attr.ino, 0u);
}

TEST_F(ReplyTest, AttrOk) {
  Attr a;
  a.ino = 5;
  a.size = 99;
  a.mode = S_IFDIR | 0755;
  ReplyAttr r(Base(Opcode::GETATTR));
  r.Ok(a, 1500ms);
  auto out = Only().PayloadAs<abi::fuse_attr_out>();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->attr_valid, 1u);
  EXPECT_EQ(out->attr_valid_nsec, 500'000'000u);
  EXPECT_EQ(out->attr.ino, 5u);
  EXPECT_EQ(out->attr.size, 99u);
  EXPECT_EQ(out->attr.mode, S_IFDIR | 0755u);
}

TEST_F(ReplyTest, OpenOk) {
  ReplyOpen r(Base(Opcode::OPEN));
  OpenOptions o;
  o.keep_cache = true;
  r.Ok(FileHandle(33), o);
  auto out = Only().PayloadAs<abi::fuse_open_out>();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->fh, 33u);
  EXPECT_EQ(out->open_flags, abi::FOPEN_KEEP_CACHE);
  EXPECT_EQ(out->backing_id, 0);
}

TEST_F(ReplyTest, OpenPassthrough) {
  ReplyOpen r(Base(Opcode::OPEN));
  OpenOptions o;
  o.keep_cache = true;
  o.direct_io = true;
  r.Passthrough(FileHandle(34), BackingId(3), o);
  auto out = Only().PayloadAs<abi::fuse_open_out>();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->fh, 34u);
  EXPECT_EQ(out->open_flags, abi::FOPEN_PASSTHROUGH | abi::FOPEN_DIRECT_IO);
  EXPECT_EQ(out->backing_id, 3);
}

struct CreateWire {
  abi::fuse_entry_out entry;
  abi::fuse_open_out open;
};

TEST_F(ReplyTest, CreateOkIsEntryThenOpen) {
  ReplyCreate r(Base(Opcode::CREATE));
  OpenOptions o;
  o.direct_io = true;
  r.Ok(SampleEntry(), FileHandle(55), o);
  auto out = Only().PayloadAs<CreateWire>();
  ASSERT_TRUE(out);
  ExpectSampleEntry(out->entry);
  EXPECT_EQ(out->open.fh, 55u);
  EXPECT_EQ(out->open.open_flags, abi::FOPEN_DIRECT_IO);
  EXPECT_EQ(out->open.backing_id, 0);
}

TEST_F(ReplyTest, CreatePassthrough) {
  ReplyCreate r(Base(Opcode::TMPFILE));
  OpenOptions o;
  o.stream = true;
  r.Passthrough(SampleEntry(), FileHandle(56), BackingId(9), o);
  auto out = Only().PayloadAs<CreateWire>();
  ASSERT_TRUE(out);
  ExpectSampleEntry(out->entry);
  EXPECT_EQ(out->open.fh, 56u);
  EXPECT_EQ(out->open.open_flags, abi::FOPEN_PASSTHROUGH);
  EXPECT_EQ(out->open.backing_id, 9);
}

TEST_F(ReplyTest, DataOkFromBytesTextAndPieces) {
  const char raw[] = "bytes";
  {
    ReplyData r(Base(Opcode::READ, 1));
    r.Ok(std::span(reinterpret_cast<const std::byte*>(raw), 5));
  }
  {
    ReplyData r(Base(Opcode::READLINK, 2));
    r.Ok(std::string_view("target"));
  }
  {
    char a[] = "scatter-";
    char b[] = "gather";
    iovec pieces[] = {{a, 8}, {b, 6}};
    ReplyData r(Base(Opcode::READ, 3));
    r.Ok(std::span<const iovec>(pieces));
  }
  {
    ReplyData r(Base(Opcode::READ, 4));
    r.Ok(std::string_view());  // end of file
  }
  auto replies = sink_->replies();
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(Text(replies[0].payload), "bytes");
  EXPECT_EQ(Text(replies[1].payload), "target");
  EXPECT_EQ(Text(replies[2].payload), "scatter-gather");
  EXPECT_EQ(replies[3].error, 0);
  EXPECT_TRUE(replies[3].payload.empty());
}

TEST_F(ReplyTest, WriteOk) {
  ReplyWrite r(Base(Opcode::WRITE));
  r.Ok(4096);
  auto out = Only().PayloadAs<abi::fuse_write_out>();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->size, 4096u);
  EXPECT_EQ(out->padding, 0u);
}

TEST_F(ReplyTest, CopyWidthFollowsTheOpcode) {
  const uint64_t five_gib = uint64_t{5} << 30;
  {
    ReplyCopy r(Base(Opcode::COPY_FILE_RANGE, 1));
    r.Ok(five_gib);
  }
  {
    ReplyCopy r(Base(Opcode::COPY_FILE_RANGE, 2));
    r.Ok(1234);
  }
  {
    ReplyCopy r(Base(Opcode::COPY_FILE_RANGE_64, 3));
    r.Ok(five_gib);
  }
  auto replies = sink_->replies();
  ASSERT_EQ(replies.size(), 3u);
  // COPY_FILE_RANGE answers with fuse_write_out: 32 bits, saturated (the
  // kernel asks again for the rest).
  auto narrow = replies[0].PayloadAs<abi::fuse_write_out>();
  ASSERT_TRUE(narrow);
  EXPECT_EQ(narrow->size, UINT32_MAX);
  EXPECT_EQ(narrow->padding, 0u);
  auto small = replies[1].PayloadAs<abi::fuse_write_out>();
  ASSERT_TRUE(small);
  EXPECT_EQ(small->size, 1234u);
  // COPY_FILE_RANGE_64 answers with fuse_copy_file_range_out: 64 bits.
  auto wide = replies[2].PayloadAs<abi::fuse_copy_file_range_out>();
  ASSERT_TRUE(wide);
  EXPECT_EQ(wide->bytes_copied, five_gib);
}

TEST_F(ReplyTest, StatfsOk) {
  struct statvfs st {};
  st.f_bsize = 512;
  st.f_blocks = 100;
  st.f_namemax = 255;
  ReplyStatfs r(Base(Opcode::STATFS));
  r.Ok(st);
  auto out = Only().PayloadAs<abi::fuse_statfs_out>();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->st.bsize, 512u);
  EXPECT_EQ(out->st.blocks, 100u);
  EXPECT_EQ(out->st.namelen, 255u);
}

TEST_F(ReplyTest, XattrSizeAndData) {
  {
    ReplyXattr r(Base(Opcode::GETXATTR, 1));
    r.Size(17);
  }
  {
    ReplyXattr r(Base(Opcode::LISTXATTR, 2));
    r.Data(testutil::AsBytes(std::string_view("user.a\0user.b\0", 14)));
  }
  auto replies = sink_->replies();
  ASSERT_EQ(replies.size(), 2u);
  auto size = replies[0].PayloadAs<abi::fuse_getxattr_out>();
  ASSERT_TRUE(size);
  EXPECT_EQ(size->size, 17u);
  EXPECT_EQ(Text(replies[1].payload), std::string_view("user.a\0user.b\0", 14));
}

TEST_F(ReplyTest, XattrDataLargerThanTheRequestAllowsAnswersErange) {
  {
    ReplyXattr r(Base(Opcode::GETXATTR, 3), /*max_size=*/4);
    r.Data(testutil::AsBytes("12345"));
  }
  {
    ReplyXattr r(Base(Opcode::GETXATTR, 4), /*max_size=*/5);
    r.Data(testutil::AsBytes("12345"));
  }
  auto replies = sink_->replies();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].error, ERANGE);
  EXPECT_EQ(replies[1].error, 0);
  EXPECT_EQ(Text(replies[1].payload), "12345");
}

TEST_F(ReplyTest, LockOk) {
  ReplyLock r(Base(Opcode::GETLK));
  r.Ok({10, 20, 2 /* F_UNLCK */, 99});
  auto out = Only().PayloadAs<abi::fuse_lk_out>();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->lk.start, 10u);
  EXPECT_EQ(out->lk.end, 20u);
  EXPECT_EQ(out->lk.type, 2u);
  EXPECT_EQ(out->lk.pid, 99u);
}

TEST_F(ReplyTest, BmapPollLseek) {
  {
    ReplyBmap r(Base(Opcode::BMAP, 1));
    r.Ok(0x123456789);
  }
  {
    ReplyPoll r(Base(Opcode::POLL, 2));
    r.Ok(0x41);
  }
  {
    ReplyLseek r(Base(Opcode::LSEEK, 3));
    r.Ok(uint64_t{1} << 40);
  }
  auto replies = sink_->replies();
  ASSERT_EQ(replies.size(), 3u);
  auto bmap = replies[0].PayloadAs<abi::fuse_bmap_out>();
  ASSERT_TRUE(bmap);
  EXPECT_EQ(bmap->block, 0x123456789u);
  auto poll = replies[1].PayloadAs<abi::fuse_poll_out>();
  ASSERT_TRUE(poll);
  EXPECT_EQ(poll->revents, 0x41u);
  EXPECT_EQ(poll->padding, 0u);
  auto lseek = replies[2].PayloadAs<abi::fuse_lseek_out>();
  ASSERT_TRUE(lseek);
  EXPECT_EQ(lseek->offset, uint64_t{1} << 40);
}

TEST_F(ReplyTest, IoctlWithAndWithoutOutputData) {
  {
    ReplyIoctl r(Base(Opcode::IOCTL, 1));
    r.Ok(-3);
  }
  {
    ReplyIoctl r(Base(Opcode::IOCTL, 2));
    r.Ok(0, testutil::AsBytes("out!"));
  }
  auto replies = sink_->replies();
  ASSERT_EQ(replies.size(), 2u);
  auto bare = replies[0].PayloadAs<abi::fuse_ioctl_out>();
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->result, -3);
  EXPECT_EQ(bare->flags, 0u);
  EXPECT_EQ(bare->in_iovs, 0u);
  EXPECT_EQ(bare->out_iovs, 0u);

  ASSERT_EQ(replies[1].payload.size(), sizeof(abi::fuse_ioctl_out) + 4);
  abi::fuse_ioctl_out head;
  std::memcpy(&head, replies[1].payload.data(), sizeof(head));
  EXPECT_EQ(head.result, 0);
  EXPECT_EQ(Text(replies[1].payload).substr(sizeof(head)), "out!");
}

TEST_F(ReplyTest, StatxOk) {
  StatxAttr s;
  s.mask = 0xfff;
  s.ino = 8;
  s.size = 1 << 20;
  s.btime = {123, 456};
  ReplyStatx r(Base(Opcode::STATX));
  r.Ok(s, 2s);
  auto out = Only().PayloadAs<abi::fuse_statx_out>();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->attr_valid, 2u);
  EXPECT_EQ(out->stat.mask, 0xfffu);
  EXPECT_EQ(out->stat.ino, 8u);
  EXPECT_EQ(out->stat.size, 1u << 20);
  EXPECT_EQ(out->stat.btime.tv_sec, 123);
  EXPECT_EQ(out->stat.btime.tv_nsec, 456u);
}

TEST_F(ReplyTest, DirRespectsTheRequestedSize) {
  ReplyDir r(Base(Opcode::READDIR), 64);
  EXPECT_TRUE(r.Add(".", 1, S_IFDIR, 1));
  EXPECT_TRUE(r.Add("..", 1, S_IFDIR, 2));
  EXPECT_FALSE(r.Add("file", 5, S_IFREG, 3));
  r.Ok();
  SentReply sent = Only();
  ASSERT_EQ(sent.payload.size(), 64u);
  abi::fuse_dirent second;
  std::memcpy(&second, sent.payload.data() + 32, sizeof(second));
  EXPECT_EQ(second.off, 2u);
  EXPECT_EQ(second.namelen, 2u);
  EXPECT_EQ(Text(sent.payload).substr(32 + sizeof(second), 2), "..");
}

TEST_F(ReplyTest, DirWithNoEntriesIsAnEmptyOk) {
  ReplyDir r(Base(Opcode::READDIR), 4096);
  r.Ok();
  SentReply sent = Only();
  EXPECT_EQ(sent.error, 0);
  EXPECT_TRUE(sent.payload.empty());
}

TEST_F(ReplyTest, DirPlusOk) {
  ReplyDirPlus r(Base(Opcode::READDIRPLUS), 4096);
  EXPECT_TRUE(r.Add("f", SampleEntry(), 9));
  r.Ok();
  SentReply sent = Only();
  ASSERT_EQ(sent.payload.size(), sizeof(abi::fuse_direntplus) + 8);
  abi::fuse_direntplus d;
  std::memcpy(&d, sent.payload.data(), sizeof(d));
  ExpectSampleEntry(d.entry_out);
  EXPECT_EQ(d.dirent.off, 9u);
  EXPECT_EQ(d.dirent.namelen, 1u);
  EXPECT_EQ(d.dirent.type, 8u);
}

// ---- exactly once ------------------------------------------------------------

TEST_F(ReplyTest, DroppedUnsentReplyAnswersEioOnce) {
  { ReplyEntry r(Base(Opcode::LOOKUP, 21)); }
  SentReply sent = Only();
  EXPECT_EQ(sent.unique, RequestId(21));
  EXPECT_EQ(sent.opcode, Opcode::LOOKUP);
  EXPECT_EQ(sent.error, EIO);
}

TEST_F(ReplyTest, DroppedDirReplyAnswersEioOnce) {
  {
    ReplyDir r(Base(Opcode::READDIR, 22), 4096);
    EXPECT_TRUE(r.Add("a", 1, 0, 1));
  }
  EXPECT_EQ(Only().error, EIO);
}

TEST_F(ReplyTest, MovedFromReplyDoesNotAnswer) {
  {
    ReplyEmpty first(Base(Opcode::RMDIR, 23));
    ReplyEmpty second(std::move(first));
    EXPECT_TRUE(first.sent());  // NOLINT: checking the moved-from state on purpose
    EXPECT_FALSE(second.sent());
    second.Ok();
  }
  SentReply sent = Only();
  EXPECT_EQ(sent.unique, RequestId(23));
  EXPECT_EQ(sent.error, 0);
}

TEST_F(ReplyTest, MovedDirReplyKeepsItsEntries) {
  {
    ReplyDir first(Base(Opcode::READDIR, 24), 4096);
    EXPECT_TRUE(first.Add("a", 1, 0, 1));
    ReplyDir second(std::move(first));
    second.Ok();
  }
  SentReply sent = Only();
  EXPECT_EQ(sent.error, 0);
  EXPECT_EQ(sent.payload.size(), 32u);
}

TEST_F(ReplyTest, MoveAssignmentOverAnUnsentReplyAnswersItEio) {
  {
    ReplyEmpty target(Base(Opcode::UNLINK, 25));
    ReplyEmpty source(Base(Opcode::UNLINK, 26));
    target = std::move(source);  // 25 can no longer be answered: EIO now
    EXPECT_EQ(sink_->count(), 1u);
    EXPECT_EQ(target.unique(), RequestId(26));
    target.Ok();
  }
  auto replies = sink_->replies();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].unique, RequestId(25));
  EXPECT_EQ(replies[0].error, EIO);
  EXPECT_EQ(replies[1].unique, RequestId(26));
  EXPECT_EQ(replies[1].error, 0);
}

TEST_F(ReplyTest, AnsweringTwiceSendsOnce) {
  {
    ReplyAttr r(Base(Opcode::GETATTR, 27));
    r.Ok(Attr{}, 1s);
    EXPECT_TRUE(r.sent());
    r.Error(ENOENT);
    r.Ok(Attr{}, 1s);
  }
  SentReply sent = Only();
  EXPECT_EQ(sent.error, 0);
  EXPECT_EQ(sent.payload.size(), sizeof(abi::fuse_attr_out));
}

TEST_F(ReplyTest, ErrorThenOkSendsTheErrorOnly) {
  {
    ReplyWrite r(Base(Opcode::WRITE, 28));
    r.Error(ENOSPC);
    r.Ok(10);
  }
  EXPECT_EQ(Only().error, ENOSPC);
}

TEST_F(ReplyTest, CompletedLaterFromAnotherThread) {
  ReplyData r(Base(Opcode::READ, 29));
  std::thread::id answered_on;
  std::thread worker([reply = std::move(r), &answered_on]() mutable {
    answered_on = std::this_thread::get_id();
    reply.Ok(std::string_view("late"));
  });
  EXPECT_TRUE(sink_->WaitForCount(1, 10s));
  worker.join();
  EXPECT_NE(answered_on, std::this_thread::get_id());
  SentReply sent = Only();
  EXPECT_EQ(sent.unique, RequestId(29));
  EXPECT_EQ(Text(sent.payload), "late");
}

TEST_F(ReplyTest, BeforeSendSeesEachAnswerBeforeTheSinkDoes) {
  std::vector<std::string> events;
  auto hook = [&](const char* name) {
    return [this, &events, name](int error) {
      events.push_back(std::string(name) + "=" + std::to_string(error) + " sent " +
                       std::to_string(sink_->count()));
    };
  };
  ReplyEmpty failed(Base(Opcode::UNLINK, 1));
  failed.BeforeSend(hook("first"));
  failed.BeforeSend(hook("second"));
  failed.Error(EPERM);
  ReplyEntry made(Base(Opcode::MKDIR, 2));
  made.BeforeSend(hook("mkdir"));
  made.Ok(SampleEntry());
  {
    ReplyEmpty dropped(Base(Opcode::RMDIR, 3));
    dropped.BeforeSend(hook("dropped"));
  }
  EXPECT_EQ(events, (std::vector<std::string>{"second=1 sent 0", "first=1 sent 0", "mkdir=0 sent 1",
                                              "dropped=5 sent 2"}));
  auto replies = sink_->replies();
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].error, EPERM);
  EXPECT_EQ(replies[1].payload.size(), sizeof(abi::fuse_entry_out));
  EXPECT_EQ(replies[2].error, EIO);
}

TEST_F(ReplyTest, AHookThatThrowsStillLetsTheAnswerGo) {
  ReplyEmpty r(Base(Opcode::UNLINK, 5));
  r.BeforeSend([](int) { throw std::runtime_error("no room"); });
  r.Error(ENOENT);
  EXPECT_EQ(Only().error, ENOENT);
}

TEST_F(ReplyTest, AHookedReplyIsCountedInTheSinksStatistics) {
  auto stats = std::make_shared<Stats>();
  sink_->CountIn(stats);
  ReplyEmpty r(ReplyBase(sink_, RequestId(9), Opcode::UNLINK, Stats::Now()));
  r.BeforeSend([](int) {});
  r.Error(ENOENT);
  EXPECT_EQ(stats->Snapshot().errors_by_errno[ENOENT], 1u);
}

TEST_F(ReplyTest, DroppedOnAnotherThreadAnswersEioOnce) {
  ReplyEmpty r(Base(Opcode::FSYNC, 30));
  std::thread([reply = std::move(r)] {}).join();
  EXPECT_EQ(Only().error, EIO);
}

}  // namespace
}  // namespace fusekit

namespace fusekit {
namespace {

// ReplyData::FromFile through a sink that has no splice: the default reads
// the file and sends its bytes, fewer at the end of the file.
TEST(ReplyFromFile, DefaultSinkSendsTheFileBytes) {
  char path[] = "/tmp/fusekit-fromfile-XXXXXX";
  UniqueFd fd(::mkstemp(path));
  ASSERT_TRUE(fd);
  ::unlink(path);
  ASSERT_EQ(::write(fd.get(), "0123456789", 10), 10);
  auto sink = std::make_shared<testutil::RecordingSink>();
  ReplyData(ReplyBase(sink, RequestId(2), Opcode::READ)).FromFile(fd.get(), 6, 100);
  ReplyData(ReplyBase(sink, RequestId(4), Opcode::READ)).FromFile(-1, 0, 10);
  auto replies = sink->replies();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].error, 0);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(replies[0].payload.data()),
                        replies[0].payload.size()),
            "6789");
  EXPECT_EQ(replies[1].error, EBADF);
}

}  // namespace
}  // namespace fusekit
