#include "fusekit/proto/encode.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <string_view>

namespace fusekit::proto {
namespace {

using namespace std::chrono_literals;

Attr SampleAttr() {
  Attr a;
  a.ino = 0x1000;
  a.size = 12345;
  a.blocks = 25;
  a.atime = {1700000001, 11};
  a.mtime = {1700000002, 22};
  a.ctime = {1700000003, 999999999};
  a.mode = S_IFREG | 0644;
  a.nlink = 2;
  a.uid = 1000;
  a.gid = 100;
  a.rdev = 0x0801;
  a.blksize = 4096;
  return a;
}

void ExpectSampleAttr(const abi::fuse_attr& out) {
  EXPECT_EQ(out.ino, 0x1000u);
  EXPECT_EQ(out.size, 12345u);
  EXPECT_EQ(out.blocks, 25u);
  EXPECT_EQ(out.atime, 1700000001u);
  EXPECT_EQ(out.atimensec, 11u);
  EXPECT_EQ(out.mtime, 1700000002u);
  EXPECT_EQ(out.mtimensec, 22u);
  EXPECT_EQ(out.ctime, 1700000003u);
  EXPECT_EQ(out.ctimensec, 999999999u);
  EXPECT_EQ(out.mode, S_IFREG | 0644u);
  EXPECT_EQ(out.nlink, 2u);
  EXPECT_EQ(out.uid, 1000u);
  EXPECT_EQ(out.gid, 100u);
  EXPECT_EQ(out.rdev, 0x0801u);
  EXPECT_EQ(out.blksize, 4096u);
}

TEST(EncodeTest, SplitTimeout) {
  uint64_t sec = 7;
  uint32_t nsec = 7;
  SplitTimeout(0ns, sec, nsec);
  EXPECT_EQ(sec, 0u);
  EXPECT_EQ(nsec, 0u);

  SplitTimeout(1500ms, sec, nsec);
  EXPECT_EQ(sec, 1u);
  EXPECT_EQ(nsec, 500'000'000u);

  SplitTimeout(999ns, sec, nsec);
  EXPECT_EQ(sec, 0u);
  EXPECT_EQ(nsec, 999u);

  SplitTimeout(std::chrono::hours(24 * 365), sec, nsec);
  EXPECT_EQ(sec, 365u * 24 * 3600);
  EXPECT_EQ(nsec, 0u);

  sec = 7;
  nsec = 7;
  SplitTimeout(-1s, sec, nsec);  // negative: no caching, not a huge unsigned
  EXPECT_EQ(sec, 0u);
  EXPECT_EQ(nsec, 0u);
}

TEST(EncodeTest, Attr) {
  abi::fuse_attr out = EncodeAttr(SampleAttr());
  ExpectSampleAttr(out);
  EXPECT_EQ(out.flags, 0u);

  Attr submount = SampleAttr();
  submount.submount = true;
  EXPECT_EQ(EncodeAttr(submount).flags, abi::FUSE_ATTR_SUBMOUNT);
}

TEST(EncodeTest, Entry) {
  Entry e;
  e.node = NodeId(42);
  e.generation = 3;
  e.attr = SampleAttr();
  e.entry_timeout = 2500ms;
  e.attr_timeout = 1s;
  abi::fuse_entry_out out = EncodeEntry(e);
  EXPECT_EQ(out.nodeid, 42u);
  EXPECT_EQ(out.generation, 3u);
  EXPECT_EQ(out.entry_valid, 2u);
  EXPECT_EQ(out.entry_valid_nsec, 500'000'000u);
  EXPECT_EQ(out.attr_valid, 1u);
  EXPECT_EQ(out.attr_valid_nsec, 0u);
  ExpectSampleAttr(out.attr);
}

TEST(EncodeTest, AttrOut) {
  abi::fuse_attr_out out = EncodeAttrOut(SampleAttr(), 3s + 7ns);
  EXPECT_EQ(out.attr_valid, 3u);
  EXPECT_EQ(out.attr_valid_nsec, 7u);
  EXPECT_EQ(out.dummy, 0u);
  ExpectSampleAttr(out.attr);
}

TEST(EncodeTest, OpenFlags) {
  EXPECT_EQ(EncodeOpenFlags({}), 0u);
  OpenOptions all{true, true, true, true, true, true, true};
  EXPECT_EQ(EncodeOpenFlags(all), abi::FOPEN_DIRECT_IO | abi::FOPEN_KEEP_CACHE |
                                      abi::FOPEN_NONSEEKABLE | abi::FOPEN_CACHE_DIR |
                                      abi::FOPEN_STREAM | abi::FOPEN_NOFLUSH |
                                      abi::FOPEN_PARALLEL_DIRECT_WRITES);
}

TEST(EncodeTest, OpenWithoutBacking) {
  OpenOptions o;
  o.keep_cache = true;
  o.direct_io = true;
  abi::fuse_open_out out = EncodeOpen(FileHandle(77), o, std::nullopt);
  EXPECT_EQ(out.fh, 77u);
  EXPECT_EQ(out.open_flags, abi::FOPEN_KEEP_CACHE | abi::FOPEN_DIRECT_IO);
  EXPECT_EQ(out.backing_id, 0);
}

TEST(EncodeTest, OpenPassthroughSetsTheBackingIdAndStripsWhatTheKernelRefuses) {
  OpenOptions o{true, true, true, true, true, true, true};
  abi::fuse_open_out out = EncodeOpen(FileHandle(78), o, BackingId(5));
  EXPECT_EQ(out.fh, 78u);
  EXPECT_EQ(out.backing_id, 5);
  EXPECT_TRUE(out.open_flags & abi::FOPEN_PASSTHROUGH);
  EXPECT_FALSE(out.open_flags & abi::FOPEN_KEEP_CACHE);
  EXPECT_FALSE(out.open_flags & abi::FOPEN_NONSEEKABLE);
  EXPECT_FALSE(out.open_flags & abi::FOPEN_STREAM);
  // The rest are compatible with a backing file and stay.
  EXPECT_EQ(out.open_flags, abi::FOPEN_PASSTHROUGH | abi::FOPEN_DIRECT_IO | abi::FOPEN_CACHE_DIR |
                                abi::FOPEN_NOFLUSH | abi::FOPEN_PARALLEL_DIRECT_WRITES);
}

TEST(EncodeTest, OpenPassthroughWithBackingIdZero) {
  // Backing ids start at 1 in practice, but 0 is still "passthrough": the
  // flag must follow the optional, not the value.
  abi::fuse_open_out out = EncodeOpen(FileHandle(1), {}, BackingId(0));
  EXPECT_EQ(out.open_flags, abi::FOPEN_PASSTHROUGH);
}

TEST(EncodeTest, Statfs) {
  struct statvfs st {};
  st.f_bsize = 4096;
  st.f_frsize = 1024;
  st.f_blocks = 1000;
  st.f_bfree = 500;
  st.f_bavail = 400;
  st.f_files = 300;
  st.f_ffree = 200;
  st.f_namemax = 255;
  abi::fuse_statfs_out out = EncodeStatfs(st);
  EXPECT_EQ(out.st.blocks, 1000u);
  EXPECT_EQ(out.st.bfree, 500u);
  EXPECT_EQ(out.st.bavail, 400u);
  EXPECT_EQ(out.st.files, 300u);
  EXPECT_EQ(out.st.ffree, 200u);
  EXPECT_EQ(out.st.bsize, 4096u);
  EXPECT_EQ(out.st.frsize, 1024u);
  EXPECT_EQ(out.st.namelen, 255u);
  EXPECT_EQ(out.st.padding, 0u);
}

TEST(EncodeTest, Statx) {
  StatxAttr s;
  s.mask = 0x7ff;
  s.blksize = 4096;
  s.attributes = 0x20;
  s.nlink = 3;
  s.uid = 1000;
  s.gid = 100;
  s.mode = S_IFDIR | 0755;
  s.ino = 99;
  s.size = 4096;
  s.blocks = 8;
  s.attributes_mask = 0x30;
  s.atime = {10, 1};
  s.btime = {20, 2};
  s.ctime = {30, 3};
  s.mtime = {-40, 4};  // before the epoch: tv_sec is signed on the wire
  s.rdev_major = 8;
  s.rdev_minor = 1;
  s.dev_major = 253;
  s.dev_minor = 2;
  abi::fuse_statx_out out = EncodeStatx(s, 5s + 6ns);
  EXPECT_EQ(out.attr_valid, 5u);
  EXPECT_EQ(out.attr_valid_nsec, 6u);
  EXPECT_EQ(out.flags, 0u);
  EXPECT_EQ(out.stat.mask, 0x7ffu);
  EXPECT_EQ(out.stat.blksize, 4096u);
  EXPECT_EQ(out.stat.attributes, 0x20u);
  EXPECT_EQ(out.stat.nlink, 3u);
  EXPECT_EQ(out.stat.uid, 1000u);
  EXPECT_EQ(out.stat.gid, 100u);
  EXPECT_EQ(out.stat.mode, S_IFDIR | 0755);
  EXPECT_EQ(out.stat.ino, 99u);
  EXPECT_EQ(out.stat.size, 4096u);
  EXPECT_EQ(out.stat.blocks, 8u);
  EXPECT_EQ(out.stat.attributes_mask, 0x30u);
  EXPECT_EQ(out.stat.atime.tv_sec, 10);
  EXPECT_EQ(out.stat.atime.tv_nsec, 1u);
  EXPECT_EQ(out.stat.btime.tv_sec, 20);
  EXPECT_EQ(out.stat.btime.tv_nsec, 2u);
  EXPECT_EQ(out.stat.ctime.tv_sec, 30);
  EXPECT_EQ(out.stat.ctime.tv_nsec, 3u);
  EXPECT_EQ(out.stat.mtime.tv_sec, -40);
  EXPECT_EQ(out.stat.mtime.tv_nsec, 4u);
  EXPECT_EQ(out.stat.rdev_major, 8u);
  EXPECT_EQ(out.stat.rdev_minor, 1u);
  EXPECT_EQ(out.stat.dev_major, 253u);
  EXPECT_EQ(out.stat.dev_minor, 2u);
  for (uint64_t spare : out.stat.spare2) EXPECT_EQ(spare, 0u);
}

TEST(EncodeTest, Lock) {
  abi::fuse_lk_out out = EncodeLock({100, 200, 1 /* F_WRLCK */, 4321});
  EXPECT_EQ(out.lk.start, 100u);
  EXPECT_EQ(out.lk.end, 200u);
  EXPECT_EQ(out.lk.type, 1u);
  EXPECT_EQ(out.lk.pid, 4321u);
}

// ---- DirentBuffer ------------------------------------------------------------

abi::fuse_dirent DirentAt(std::span<const std::byte> bytes, size_t at) {
  abi::fuse_dirent d;
  std::memcpy(&d, bytes.data() + at, sizeof(d));
  return d;
}

std::string_view NameAt(std::span<const std::byte> bytes, size_t at, size_t len) {
  return {reinterpret_cast<const char*>(bytes.data() + at), len};
}

TEST(DirentBufferTest, EntriesArePaddedToEightBytesWithZeros) {
  DirentBuffer buffer(4096);
  EXPECT_TRUE(buffer.empty());
  ASSERT_TRUE(buffer.Add("abc", 10, S_IFDIR, 1));       // 24 + 3 -> 32
  ASSERT_TRUE(buffer.Add("12345678", 11, S_IFREG, 2));  // 24 + 8 -> 32, no padding
  ASSERT_TRUE(buffer.Add("x", 12, S_IFLNK, 3));         // 24 + 1 -> 32
  auto bytes = buffer.bytes();
  ASSERT_EQ(bytes.size(), 96u);

  abi::fuse_dirent first = DirentAt(bytes, 0);
  EXPECT_EQ(first.ino, 10u);
  EXPECT_EQ(first.off, 1u);
  EXPECT_EQ(first.namelen, 3u);
  EXPECT_EQ(first.type, 4u);  // DT_DIR
  EXPECT_EQ(NameAt(bytes, 24, 3), "abc");
  for (size_t i = 27; i < 32; ++i) EXPECT_EQ(bytes[i], std::byte{0}) << i;

  abi::fuse_dirent second = DirentAt(bytes, 32);
  EXPECT_EQ(second.ino, 11u);
  EXPECT_EQ(second.off, 2u);
  EXPECT_EQ(second.namelen, 8u);
  EXPECT_EQ(second.type, 8u);  // DT_REG
  EXPECT_EQ(NameAt(bytes, 56, 8), "12345678");

  abi::fuse_dirent third = DirentAt(bytes, 64);
  EXPECT_EQ(third.type, 10u);  // DT_LNK
  EXPECT_EQ(NameAt(bytes, 88, 1), "x");
}

TEST(DirentBufferTest, TypeIsTheFileTypeBitsOnly) {
  struct Case {
    uint32_t mode;
    uint32_t dirent_type;
  };
  for (Case c :
       {Case{0, 0}, Case{S_IFIFO, 1}, Case{S_IFCHR, 2}, Case{S_IFDIR | 0755, 4}, Case{S_IFBLK, 6},
        Case{S_IFREG | 04755, 8}, Case{S_IFLNK | 0777, 10}, Case{S_IFSOCK, 12}}) {
    DirentBuffer buffer(64);
    ASSERT_TRUE(buffer.Add("n", 1, c.mode, 1));
    EXPECT_EQ(DirentAt(buffer.bytes(), 0).type, c.dirent_type) << std::oct << c.mode;
  }
}

TEST(DirentBufferTest, AddReturnsFalseAndAddsNothingOnceFull) {
  DirentBuffer buffer(32 + 23);
  ASSERT_TRUE(buffer.Add("first", 1, S_IFREG, 1));  // 32 bytes
  EXPECT_FALSE(buffer.Add("second", 2, S_IFREG, 2));
  EXPECT_EQ(buffer.bytes().size(), 32u);
  // Even an empty name needs 24 bytes, more than the 23 left.
  EXPECT_FALSE(buffer.Add("", 3, S_IFREG, 3));
  EXPECT_EQ(buffer.bytes().size(), 32u);
}

TEST(DirentBufferTest, AnEntryThatFitsExactlyIsAdded) {
  DirentBuffer buffer(64);
  ASSERT_TRUE(buffer.Add("a", 1, 0, 1));
  EXPECT_TRUE(buffer.Add("b", 2, 0, 2));
  EXPECT_EQ(buffer.bytes().size(), 64u);
  EXPECT_FALSE(buffer.Add("c", 3, 0, 3));
}

TEST(DirentBufferTest, ZeroSizeBufferTakesNothing) {
  DirentBuffer buffer(0);
  EXPECT_FALSE(buffer.Add("a", 1, 0, 1));
  EXPECT_TRUE(buffer.empty());
}

TEST(DirentBufferTest, HugeMaxSizeIsOnlyALimit) {
  // READDIR's size comes from the request (up to 4 GiB from a hostile or
  // buggy peer): it must bound the reply, not be allocated up front. An
  // absurd limit makes an up-front reservation fail on every machine.
  DirentBuffer buffer(~size_t{0} / 2);
  EXPECT_TRUE(buffer.Add("a", 1, 0, 1));
  EXPECT_EQ(buffer.bytes().size(), 32u);
}

TEST(DirentBufferTest, DirentPlusLayout) {
  Entry e;
  e.node = NodeId(500);
  e.generation = 9;
  e.attr = SampleAttr();
  e.attr.mode = S_IFDIR | 0700;
  e.entry_timeout = 1s;
  e.attr_timeout = 2s;
  DirentBuffer buffer(4096);
  ASSERT_TRUE(buffer.AddPlus("subdir", e, 77));  // 152 + 6 -> 160
  auto bytes = buffer.bytes();
  ASSERT_EQ(bytes.size(), 160u);

  abi::fuse_direntplus d;
  std::memcpy(&d, bytes.data(), sizeof(d));
  EXPECT_EQ(d.entry_out.nodeid, 500u);
  EXPECT_EQ(d.entry_out.generation, 9u);
  EXPECT_EQ(d.entry_out.entry_valid, 1u);
  EXPECT_EQ(d.entry_out.attr_valid, 2u);
  EXPECT_EQ(d.entry_out.attr.ino, 0x1000u);
  EXPECT_EQ(d.entry_out.attr.mode, S_IFDIR | 0700u);
  EXPECT_EQ(d.dirent.ino, 0x1000u);  // the inode number, not the node id
  EXPECT_EQ(d.dirent.off, 77u);
  EXPECT_EQ(d.dirent.namelen, 6u);
  EXPECT_EQ(d.dirent.type, 4u);
  EXPECT_EQ(NameAt(bytes, sizeof(abi::fuse_direntplus), 6), "subdir");
  EXPECT_EQ(bytes[158], std::byte{0});
  EXPECT_EQ(bytes[159], std::byte{0});

  DirentBuffer small(159);
  EXPECT_FALSE(small.AddPlus("subdir", e, 77));
  EXPECT_TRUE(small.empty());
}

}  // namespace
}  // namespace fusekit::proto
