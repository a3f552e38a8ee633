// Decoder tests. Every request is laid out by hand from the ABI structs, the
// way the kernel writes it; nothing here goes through our own encoder.
#include "fusekit/proto/decode.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/proto/describe.h"
#include "fusekit/testing/wire.h"

namespace fusekit::proto {
namespace {

using namespace fusekit::abi;  // NOLINT: wire structs only
using testutil::FindLayout;
using testutil::MinimalRequest;
using testutil::RequestBuilder;

// The index of T among a variant's alternatives.
template <typename T, typename Variant>
struct AlternativeIndex;
template <typename T, typename... Ts>
struct AlternativeIndex<T, std::variant<Ts...>> {
  static constexpr size_t value = [] {
    constexpr bool same[] = {std::is_same_v<T, Ts>...};
    for (size_t i = 0; i < sizeof...(Ts); ++i) {
      if (same[i]) return i;
    }
    return sizeof...(Ts);
  }();
};

struct OpcodeCase {
  uint32_t number;
  std::string_view name;
  size_t alternative;  // the index of its typed request in RequestBody
};
constexpr OpcodeCase kOpcodes[] = {
#define FUSEKIT_OPCODE_CASE(name, number, type) \
  {number, #name, AlternativeIndex<req::type, RequestBody>::value},
    FUSEKIT_FOR_EACH_OPCODE(FUSEKIT_OPCODE_CASE)
#undef FUSEKIT_OPCODE_CASE
};

std::string Why(const DecodeResult& r) { return r.ok() ? std::string() : r.error().detail; }

// The typed body of a decoded request, or null when it failed or is another
// type.
template <typename T>
const T* Body(DecodeResult& r) {
  return r.ok() ? std::get_if<T>(&r.request().body) : nullptr;
}

template <typename T>
std::string_view View(std::span<const T> s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}

// ---- every opcode ----------------------------------------------------------

TEST(DecodeTest, EveryOpcodeHasATestLayout) {
  EXPECT_EQ(std::size(testutil::kOpcodeLayouts), std::size(kOpcodes));
  for (const auto& op : kOpcodes) EXPECT_NE(FindLayout(op.number), nullptr) << op.name;
}

TEST(DecodeTest, MinimalRequestOfEveryOpcodeDecodesToItsOwnType) {
  for (const auto& op : kOpcodes) {
    SCOPED_TRACE(op.name);
    auto bytes = MinimalRequest(*FindLayout(op.number), 1000 + op.number);
    auto r = Decode(bytes);
    ASSERT_TRUE(r.ok()) << Why(r);
    EXPECT_EQ(r.request().body.index(), op.alternative);
    EXPECT_EQ(static_cast<uint32_t>(r.request().header.opcode), op.number);
    EXPECT_EQ(r.request().header.unique, RequestId(1000 + op.number));
    EXPECT_EQ(r.request().header.len, bytes.size());
    EXPECT_EQ(OpcodeName(op.number), op.name);
    // Describing must work for every type (it is what -d prints).
    EXPECT_NE(DescribeRequest(r.request()).find(op.name), std::string::npos);
  }
}

TEST(DecodeTest, EveryFixedStructOpcodeRejectsABodyShorterThanItsStruct) {
  int checked = 0;
  for (const auto& layout : testutil::kOpcodeLayouts) {
    if (layout.required_struct_size == 0) continue;
    SCOPED_TRACE(OpcodeName(layout.opcode));
    auto bytes = MinimalRequest(layout, 77, layout.required_struct_size - 1, false);
    auto r = Decode(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, DecodeError::Kind::kMalformed);
    EXPECT_EQ(r.error().reply_errno(), EINVAL);
    EXPECT_EQ(r.error().header.unique, RequestId(77));
    EXPECT_EQ(static_cast<uint32_t>(r.error().header.opcode), layout.opcode);
    ++checked;
  }
  EXPECT_GE(checked, 40);
}

TEST(DecodeTest, EveryNamedOpcodeRejectsANameWithoutItsNul) {
  int checked = 0;
  for (const auto& layout : testutil::kOpcodeLayouts) {
    if (layout.names.empty()) continue;
    SCOPED_TRACE(OpcodeName(layout.opcode));
    auto bytes = RequestBuilder(layout.opcode, 5)
                     .Bytes(std::vector<std::byte>(layout.struct_size))
                     .Bytes(layout.names.substr(0, layout.names.size() - 1))
                     .Build();
    auto r = Decode(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, DecodeError::Kind::kMalformed);
    EXPECT_EQ(r.error().reply_errno(), EINVAL);
    ++checked;
  }
  EXPECT_GE(checked, 14);  // not vacuous
}

// ---- header and extensions ---------------------------------------------------

TEST(DecodeTest, HeaderFieldsAreCopied) {
  auto bytes = RequestBuilder(FUSE_LOOKUP, 0x1122334455667788, 0x99)
                   .Caller(501, 20, 31337)
                   .Name("x")
                   .Build();
  auto r = Decode(bytes);
  ASSERT_TRUE(r.ok()) << Why(r);
  const RequestHeader& h = r.request().header;
  EXPECT_EQ(h.len, sizeof(fuse_in_header) + 2);
  EXPECT_EQ(h.opcode, Opcode::LOOKUP);
  EXPECT_EQ(h.unique, RequestId(0x1122334455667788));
  EXPECT_EQ(h.node, NodeId(0x99));
  EXPECT_EQ(h.uid, 501u);
  EXPECT_EQ(h.gid, 20u);
  EXPECT_EQ(h.pid, 31337u);
  EXPECT_EQ(h.total_extlen, 0);
  EXPECT_TRUE(r.request().extensions.empty());
}

std::vector<std::byte> SupplementaryGroupsExtension(uint32_t gid) {
  std::vector<std::byte> ext;
  testutil::AppendStruct(ext, fuse_ext_header{16, FUSE_EXT_GROUPS});
  testutil::AppendStruct(ext, fuse_supp_groups{1});
  testutil::AppendStruct(ext, gid);
  return ext;
}

TEST(DecodeTest, ExtensionsAreSplitOffTheBody) {
  auto ext = SupplementaryGroupsExtension(1234);
  auto bytes = RequestBuilder(FUSE_CREATE, 9, 1)
                   .Struct(fuse_create_in{O_WRONLY | O_CREAT, S_IFREG | 0644, 022, 0})
                   .Name("new")
                   .Extensions(ext)
                   .Build();
  auto r = Decode(bytes);
  const auto* create = Body<req::Create>(r);
  ASSERT_NE(create, nullptr) << Why(r);
  EXPECT_EQ(create->name, "new");
  EXPECT_EQ(r.request().header.total_extlen, 2);
  ASSERT_EQ(r.request().extensions.size(), ext.size());
  EXPECT_EQ(r.request().extensions.data(), bytes.data() + bytes.size() - ext.size());
  EXPECT_TRUE(std::equal(ext.begin(), ext.end(), r.request().extensions.begin()));
}

TEST(DecodeTest, ExtensionsSwallowingTheNameLeaveANameWithoutNul) {
  // total_extlen is inside len: the extension's 8 bytes are cut from the
  // end, taking the name's NUL with them.
  auto bytes = RequestBuilder(FUSE_LOOKUP, 9).Name("1234567").Build();  // 8 bytes
  testutil::PatchExtlen(bytes, 1);
  auto r = Decode(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, DecodeError::Kind::kMalformed);
}

TEST(DecodeTest, TrailingBytesAfterAFixedStructAreTolerated) {
  // A newer kernel may send a larger struct than ours.
  auto bytes = RequestBuilder(FUSE_GETATTR, 3, 7)
                   .Struct(fuse_getattr_in{FUSE_GETATTR_FH, 0, 55})
                   .Struct(uint64_t{0xdead})
                   .Build();
  auto r = Decode(bytes);
  const auto* getattr = Body<req::GetAttr>(r);
  ASSERT_NE(getattr, nullptr) << Why(r);
  EXPECT_EQ(getattr->fh, FileHandle(55));
}

// ---- malformed ---------------------------------------------------------------

TEST(DecodeTest, ShorterThanAHeaderCannotBeAnswered) {
  auto full = RequestBuilder(FUSE_GETATTR, 3).Struct(fuse_getattr_in{}).Build();
  for (size_t size : {size_t{0}, size_t{1}, sizeof(fuse_in_header) - 1}) {
    SCOPED_TRACE(size);
    auto r = Decode(std::span<const std::byte>(full.data(), size));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, DecodeError::Kind::kTooShortForHeader);
    EXPECT_EQ(r.error().reply_errno(), 0);
  }
}

TEST(DecodeTest, LengthDisagreeingWithTheBytesReadIsEio) {
  auto bytes = RequestBuilder(FUSE_GETATTR, 31).Struct(fuse_getattr_in{}).Build();
  const uint32_t actual = static_cast<uint32_t>(bytes.size());
  for (uint32_t claimed : {actual - 1, actual + 1, 0u, ~0u}) {
    SCOPED_TRACE(claimed);
    testutil::PatchLen(bytes, claimed);
    auto r = Decode(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, DecodeError::Kind::kLengthMismatch);
    EXPECT_EQ(r.error().reply_errno(), EIO);
    // The header is still known, so the request can be answered.
    EXPECT_EQ(r.error().header.unique, RequestId(31));
    EXPECT_EQ(r.error().header.opcode, Opcode::GETATTR);
    EXPECT_EQ(r.error().header.len, claimed);
  }
}

TEST(DecodeTest, UnknownOpcodeIsEnosys) {
  for (uint32_t opcode : {0u, 7u, 19u, kMaxOpcode + 1, 999u, uint32_t{CUSE_INIT}, ~0u}) {
    SCOPED_TRACE(opcode);
    auto bytes = RequestBuilder(opcode, 64).Struct(uint64_t{0}).Build();
    auto r = Decode(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, DecodeError::Kind::kUnknownOpcode);
    EXPECT_EQ(r.error().reply_errno(), ENOSYS);
    EXPECT_EQ(r.error().header.unique, RequestId(64));
    EXPECT_EQ(static_cast<uint32_t>(r.error().header.opcode), opcode);
  }
}

TEST(DecodeTest, ExtensionLengthLargerThanTheRequestIsMalformed) {
  auto bytes = RequestBuilder(FUSE_LOOKUP, 8).Name("a").Build();  // 2 body bytes
  for (uint16_t extlen : {uint16_t{1}, uint16_t{0xffff}}) {
    SCOPED_TRACE(extlen);
    testutil::PatchExtlen(bytes, extlen);
    auto r = Decode(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, DecodeError::Kind::kMalformed);
    EXPECT_EQ(r.error().reply_errno(), EINVAL);
  }
}

TEST(DecodeTest, WriteSizeLargerThanTheBodyIsMalformed) {
  for (uint32_t size : {5u, ~0u}) {
    SCOPED_TRACE(size);
    fuse_write_in in{};
    in.size = size;
    auto bytes = RequestBuilder(FUSE_WRITE, 2).Struct(in).Bytes("data").Build();
    auto r = Decode(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, DecodeError::Kind::kMalformed);
  }
}

TEST(DecodeTest, SizedPayloadsLargerThanTheBodyAreMalformed) {
  fuse_setxattr_in setxattr{};
  setxattr.size = 4;
  auto xattr = RequestBuilder(FUSE_SETXATTR, 2)
                   .Bytes(std::span(reinterpret_cast<const std::byte*>(&setxattr),
                                    FUSE_COMPAT_SETXATTR_IN_SIZE))
                   .Name("user.x")
                   .Bytes("abc")
                   .Build();
  fuse_ioctl_in ioctl{};
  ioctl.in_size = 9;
  auto ioctl_bytes = RequestBuilder(FUSE_IOCTL, 3).Struct(ioctl).Bytes("12345678").Build();
  fuse_notify_retrieve_in retrieve{};
  retrieve.size = 100;
  auto notify = RequestBuilder(FUSE_NOTIFY_REPLY, 4).Struct(retrieve).Bytes("short").Build();
  for (const auto* bytes : {&xattr, &ioctl_bytes, &notify}) {
    auto r = Decode(*bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, DecodeError::Kind::kMalformed) << r.error().detail;
  }
}

TEST(DecodeTest, BatchForgetCountLargerThanTheBodyIsMalformed) {
  // ~0u items would be a 64 GiB reservation (fatal under ASan) if the count
  // were trusted before it is checked against the body.
  for (uint32_t count : {2u, ~0u}) {
    SCOPED_TRACE(count);
    auto bytes = RequestBuilder(FUSE_BATCH_FORGET, 2)
                     .Struct(fuse_batch_forget_in{count, 0})
                     .Struct(fuse_forget_one{10, 1})
                     .Build();
    auto r = Decode(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, DecodeError::Kind::kMalformed);
  }
}

TEST(DecodeTest, RemoveMappingCountLargerThanTheBodyIsMalformed) {
  for (uint32_t count : {2u, ~0u}) {
    SCOPED_TRACE(count);
    auto bytes = RequestBuilder(FUSE_REMOVEMAPPING, 2)
                     .Struct(count)
                     .Struct(fuse_removemapping_one{0, 4096})
                     .Build();
    auto r = Decode(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, DecodeError::Kind::kMalformed);
  }
}

// ---- per opcode ----------------------------------------------------------------

TEST(DecodeTest, InitWithoutInitExtIgnoresFlags2) {
  fuse_init_in in{};
  in.major = 7;
  in.minor = 45;
  in.max_readahead = 128 * 1024;
  in.flags = static_cast<uint32_t>(FUSE_ASYNC_READ | FUSE_BIG_WRITES);
  in.flags2 = 0xffffffff;  // garbage: flags2 means nothing without INIT_EXT
  auto bytes = RequestBuilder(FUSE_INIT, 1, 0).Struct(in).Build();
  auto r = Decode(bytes);
  const auto* init = Body<req::Init>(r);
  ASSERT_NE(init, nullptr) << Why(r);
  EXPECT_EQ(init->major, 7u);
  EXPECT_EQ(init->minor, 45u);
  EXPECT_EQ(init->max_readahead, 128u * 1024);
  EXPECT_EQ(init->flags, FUSE_ASYNC_READ | FUSE_BIG_WRITES);
}

TEST(DecodeTest, InitWithInitExtCarriesFlags2AsTheHighBits) {
  fuse_init_in in{};
  in.major = 7;
  in.minor = 41;
  in.flags = static_cast<uint32_t>(FUSE_ASYNC_READ | FUSE_INIT_EXT);
  in.flags2 = static_cast<uint32_t>((FUSE_PASSTHROUGH | FUSE_SECURITY_CTX) >> 32);
  auto bytes = RequestBuilder(FUSE_INIT, 1, 0).Struct(in).Build();
  auto r = Decode(bytes);
  const auto* init = Body<req::Init>(r);
  ASSERT_NE(init, nullptr) << Why(r);
  EXPECT_EQ(init->minor, 41u);
  EXPECT_EQ(init->flags, FUSE_ASYNC_READ | FUSE_INIT_EXT | FUSE_PASSTHROUGH | FUSE_SECURITY_CTX);
}

TEST(DecodeTest, InitFromAnOldKernelWithTheShortStructStillDecodes) {
  // Before 7.36 the kernel sends 16 bytes; we must read them to refuse it.
  uint32_t old_init[4] = {7, 31, 65536, static_cast<uint32_t>(FUSE_ASYNC_READ)};
  auto bytes = RequestBuilder(FUSE_INIT, 1, 0).Struct(old_init).Build();
  auto r = Decode(bytes);
  const auto* init = Body<req::Init>(r);
  ASSERT_NE(init, nullptr) << Why(r);
  EXPECT_EQ(init->major, 7u);
  EXPECT_EQ(init->minor, 31u);
  EXPECT_EQ(init->max_readahead, 65536u);
  EXPECT_EQ(init->flags, FUSE_ASYNC_READ);
}

TEST(DecodeTest, Lookup) {
  auto bytes = RequestBuilder(FUSE_LOOKUP, 2, 5).Name("file.txt").Build();
  auto r = Decode(bytes);
  const auto* lookup = Body<req::Lookup>(r);
  ASSERT_NE(lookup, nullptr) << Why(r);
  EXPECT_EQ(lookup->name, "file.txt");
  EXPECT_EQ(r.request().header.node, NodeId(5));
  // Names point into the request buffer.
  EXPECT_EQ(lookup->name.data(), reinterpret_cast<const char*>(bytes.data()) + 40);
}

TEST(DecodeTest, Forget) {
  auto bytes = RequestBuilder(FUSE_FORGET, 2, 77).Struct(fuse_forget_in{12}).Build();
  auto r = Decode(bytes);
  const auto* forget = Body<req::Forget>(r);
  ASSERT_NE(forget, nullptr) << Why(r);
  EXPECT_EQ(forget->nlookup, 12u);
  EXPECT_EQ(r.request().header.node, NodeId(77));
}

TEST(DecodeTest, BatchForgetItems) {
  auto bytes = RequestBuilder(FUSE_BATCH_FORGET, 2, 0)
                   .Struct(fuse_batch_forget_in{3, 0})
                   .Struct(fuse_forget_one{10, 1})
                   .Struct(fuse_forget_one{11, 2})
                   .Struct(fuse_forget_one{~uint64_t{0}, 3})
                   .Build();
  auto r = Decode(bytes);
  const auto* batch = Body<req::BatchForget>(r);
  ASSERT_NE(batch, nullptr) << Why(r);
  ASSERT_EQ(batch->items.size(), 3u);
  EXPECT_EQ(batch->items[0].node, NodeId(10));
  EXPECT_EQ(batch->items[0].nlookup, 1u);
  EXPECT_EQ(batch->items[1].node, NodeId(11));
  EXPECT_EQ(batch->items[1].nlookup, 2u);
  EXPECT_EQ(batch->items[2].node, NodeId(~uint64_t{0}));
  EXPECT_EQ(batch->items[2].nlookup, 3u);
}

TEST(DecodeTest, GetAttrFhOnlyWithGetattrFh) {
  auto without = RequestBuilder(FUSE_GETATTR, 2).Struct(fuse_getattr_in{0, 0, 99}).Build();
  auto r1 = Decode(without);
  const auto* plain = Body<req::GetAttr>(r1);
  ASSERT_NE(plain, nullptr) << Why(r1);
  EXPECT_FALSE(plain->fh.has_value());

  auto with =
      RequestBuilder(FUSE_GETATTR, 2).Struct(fuse_getattr_in{FUSE_GETATTR_FH, 0, 99}).Build();
  auto r2 = Decode(with);
  const auto* by_fh = Body<req::GetAttr>(r2);
  ASSERT_NE(by_fh, nullptr) << Why(r2);
  EXPECT_EQ(by_fh->fh, FileHandle(99));
}

fuse_setattr_in FullSetattr(uint32_t valid) {
  fuse_setattr_in in{};
  in.valid = valid;
  in.fh = 3;
  in.size = 4096;
  in.lock_owner = 0xabc;
  in.atime = 100;
  in.atimensec = 1;
  in.mtime = 200;
  in.mtimensec = 2;
  in.ctime = 300;
  in.ctimensec = 3;
  in.mode = S_IFREG | 0600;
  in.uid = 1001;
  in.gid = 1002;
  return in;
}

TEST(DecodeTest, SetAttrTakesOnlyTheValidFields) {
  uint32_t valid = FATTR_MODE | FATTR_UID | FATTR_GID | FATTR_SIZE | FATTR_ATIME | FATTR_MTIME |
                   FATTR_FH | FATTR_LOCKOWNER | FATTR_CTIME;
  auto bytes = RequestBuilder(FUSE_SETATTR, 2).Struct(FullSetattr(valid)).Build();
  auto r = Decode(bytes);
  const auto* s = Body<req::SetAttr>(r);
  ASSERT_NE(s, nullptr) << Why(r);
  EXPECT_EQ(s->valid, valid);
  EXPECT_EQ(s->fh, FileHandle(3));
  EXPECT_EQ(s->mode, S_IFREG | 0600u);
  EXPECT_EQ(s->uid, 1001u);
  EXPECT_EQ(s->gid, 1002u);
  EXPECT_EQ(s->size, 4096u);
  EXPECT_EQ(s->lock_owner, 0xabcu);
  EXPECT_EQ(s->atime.kind, req::TimeUpdate::Kind::kSet);
  EXPECT_EQ(s->atime.value.tv_sec, 100);
  EXPECT_EQ(s->atime.value.tv_nsec, 1);
  EXPECT_EQ(s->mtime.kind, req::TimeUpdate::Kind::kSet);
  EXPECT_EQ(s->mtime.value.tv_sec, 200);
  EXPECT_EQ(s->mtime.value.tv_nsec, 2);
  ASSERT_TRUE(s->ctime.has_value());
  EXPECT_EQ(s->ctime->tv_sec, 300);
  EXPECT_EQ(s->ctime->tv_nsec, 3);
  EXPECT_FALSE(s->kill_suidgid);
}

TEST(DecodeTest, SetAttrWithNothingValidSetsNothing) {
  auto bytes = RequestBuilder(FUSE_SETATTR, 2).Struct(FullSetattr(0)).Build();
  auto r = Decode(bytes);
  const auto* s = Body<req::SetAttr>(r);
  ASSERT_NE(s, nullptr) << Why(r);
  EXPECT_FALSE(s->fh || s->mode || s->uid || s->gid || s->size || s->ctime || s->lock_owner);
  EXPECT_EQ(s->atime.kind, req::TimeUpdate::Kind::kOmit);
  EXPECT_EQ(s->mtime.kind, req::TimeUpdate::Kind::kOmit);
  EXPECT_FALSE(s->kill_suidgid);
}

TEST(DecodeTest, SetAttrTimeNowAndKillSuidgid) {
  // utimensat(UTIME_NOW) sets both ATIME and ATIME_NOW: NOW wins.
  uint32_t valid = FATTR_ATIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW | FATTR_KILL_SUIDGID;
  auto bytes = RequestBuilder(FUSE_SETATTR, 2).Struct(FullSetattr(valid)).Build();
  auto r = Decode(bytes);
  const auto* s = Body<req::SetAttr>(r);
  ASSERT_NE(s, nullptr) << Why(r);
  EXPECT_EQ(s->atime.kind, req::TimeUpdate::Kind::kNow);
  EXPECT_EQ(s->mtime.kind, req::TimeUpdate::Kind::kNow);
  EXPECT_TRUE(s->kill_suidgid);
  EXPECT_FALSE(s->size.has_value());
}

TEST(DecodeTest, ReadLinkStatFsDestroyHaveNoBody) {
  for (uint32_t opcode : {uint32_t{FUSE_READLINK}, uint32_t{FUSE_STATFS}, uint32_t{FUSE_DESTROY}}) {
    auto bytes = RequestBuilder(opcode, 2).Build();
    EXPECT_TRUE(Decode(bytes).ok()) << OpcodeName(opcode);
  }
}

TEST(DecodeTest, SymLinkNameThenTarget) {
  auto bytes = RequestBuilder(FUSE_SYMLINK, 2, 4).Name("link").Name("../target/file").Build();
  auto r = Decode(bytes);
  const auto* s = Body<req::SymLink>(r);
  ASSERT_NE(s, nullptr) << Why(r);
  EXPECT_EQ(s->name, "link");
  EXPECT_EQ(s->target, "../target/file");
}

TEST(DecodeTest, MkNod) {
  auto bytes = RequestBuilder(FUSE_MKNOD, 2)
                   .Struct(fuse_mknod_in{S_IFCHR | 0600, 0x0103, 022, 0})
                   .Name("null")
                   .Build();
  auto r = Decode(bytes);
  const auto* m = Body<req::MkNod>(r);
  ASSERT_NE(m, nullptr) << Why(r);
  EXPECT_EQ(m->mode, S_IFCHR | 0600u);
  EXPECT_EQ(m->rdev, 0x0103u);
  EXPECT_EQ(m->umask, 022u);
  EXPECT_EQ(m->name, "null");
}

TEST(DecodeTest, MkDir) {
  auto bytes =
      RequestBuilder(FUSE_MKDIR, 2).Struct(fuse_mkdir_in{S_IFDIR | 0755, 077}).Name("d").Build();
  auto r = Decode(bytes);
  const auto* m = Body<req::MkDir>(r);
  ASSERT_NE(m, nullptr) << Why(r);
  EXPECT_EQ(m->mode, S_IFDIR | 0755u);
  EXPECT_EQ(m->umask, 077u);
  EXPECT_EQ(m->name, "d");
}

TEST(DecodeTest, UnlinkRmDirRemoveXattr) {
  auto unlink = RequestBuilder(FUSE_UNLINK, 2).Name("gone").Build();
  auto r1 = Decode(unlink);
  ASSERT_NE(Body<req::Unlink>(r1), nullptr) << Why(r1);
  EXPECT_EQ(Body<req::Unlink>(r1)->name, "gone");

  auto rmdir = RequestBuilder(FUSE_RMDIR, 2).Name("dir").Build();
  auto r2 = Decode(rmdir);
  ASSERT_NE(Body<req::RmDir>(r2), nullptr) << Why(r2);
  EXPECT_EQ(Body<req::RmDir>(r2)->name, "dir");

  auto removexattr = RequestBuilder(FUSE_REMOVEXATTR, 2).Name("user.k").Build();
  auto r3 = Decode(removexattr);
  ASSERT_NE(Body<req::RemoveXattr>(r3), nullptr) << Why(r3);
  EXPECT_EQ(Body<req::RemoveXattr>(r3)->name, "user.k");
}

TEST(DecodeTest, RenameHasNoFlags) {
  auto bytes =
      RequestBuilder(FUSE_RENAME, 2, 10).Struct(fuse_rename_in{20}).Name("old").Name("new").Build();
  auto r = Decode(bytes);
  ASSERT_EQ(Body<req::Rename2>(r), nullptr);
  const auto* rename = Body<req::Rename>(r);
  ASSERT_NE(rename, nullptr) << Why(r);
  EXPECT_EQ(rename->name, "old");
  EXPECT_EQ(rename->new_parent, NodeId(20));
  EXPECT_EQ(rename->new_name, "new");
  EXPECT_EQ(rename->flags, 0u);
}

TEST(DecodeTest, Rename2CarriesFlags) {
  auto bytes = RequestBuilder(FUSE_RENAME2, 2, 10)
                   .Struct(fuse_rename2_in{21, RENAME_EXCHANGE, 0})
                   .Name("a")
                   .Name("b")
                   .Build();
  auto r = Decode(bytes);
  ASSERT_EQ(Body<req::Rename>(r), nullptr);
  const auto* rename = Body<req::Rename2>(r);
  ASSERT_NE(rename, nullptr) << Why(r);
  EXPECT_EQ(rename->name, "a");
  EXPECT_EQ(rename->new_parent, NodeId(21));
  EXPECT_EQ(rename->new_name, "b");
  EXPECT_EQ(rename->flags, static_cast<uint32_t>(RENAME_EXCHANGE));
}

TEST(DecodeTest, Link) {
  auto bytes = RequestBuilder(FUSE_LINK, 2, 3).Struct(fuse_link_in{44}).Name("hard").Build();
  auto r = Decode(bytes);
  const auto* link = Body<req::Link>(r);
  ASSERT_NE(link, nullptr) << Why(r);
  EXPECT_EQ(link->target, NodeId(44));
  EXPECT_EQ(link->new_name, "hard");
  EXPECT_EQ(r.request().header.node, NodeId(3));  // the new parent
}

TEST(DecodeTest, OpenAndOpenDir) {
  auto open = RequestBuilder(FUSE_OPEN, 2)
                  .Struct(fuse_open_in{O_RDWR | O_TRUNC, FUSE_OPEN_KILL_SUIDGID})
                  .Build();
  auto r1 = Decode(open);
  const auto* o = Body<req::Open>(r1);
  ASSERT_NE(o, nullptr) << Why(r1);
  EXPECT_EQ(o->flags, O_RDWR | O_TRUNC);
  EXPECT_TRUE(o->kill_suidgid);

  auto opendir =
      RequestBuilder(FUSE_OPENDIR, 2).Struct(fuse_open_in{O_RDONLY | O_DIRECTORY, 0}).Build();
  auto r2 = Decode(opendir);
  const auto* d = Body<req::OpenDir>(r2);
  ASSERT_NE(d, nullptr) << Why(r2);
  EXPECT_EQ(d->flags, O_RDONLY | O_DIRECTORY);
}

TEST(DecodeTest, ReadLockOwnerOnlyWithReadLockowner) {
  fuse_read_in in{7, 8192, 4096, 0, 0x55, O_RDONLY, 0};
  auto without = RequestBuilder(FUSE_READ, 2).Struct(in).Build();
  auto r1 = Decode(without);
  const auto* read = Body<req::Read>(r1);
  ASSERT_NE(read, nullptr) << Why(r1);
  EXPECT_EQ(read->fh, FileHandle(7));
  EXPECT_EQ(read->offset, 8192u);
  EXPECT_EQ(read->size, 4096u);
  EXPECT_EQ(read->flags, O_RDONLY);
  EXPECT_FALSE(read->lock_owner.has_value());

  in.read_flags = FUSE_READ_LOCKOWNER;
  auto with = RequestBuilder(FUSE_READ, 2).Struct(in).Build();
  auto r2 = Decode(with);
  ASSERT_NE(Body<req::Read>(r2), nullptr) << Why(r2);
  EXPECT_EQ(Body<req::Read>(r2)->read_flags, FUSE_READ_LOCKOWNER);
  EXPECT_EQ(Body<req::Read>(r2)->lock_owner, 0x55u);
}

TEST(DecodeTest, WriteDataIsTheSpanAfterTheStruct) {
  fuse_write_in in{
      9,    100,      5, FUSE_WRITE_CACHE | FUSE_WRITE_LOCKOWNER | FUSE_WRITE_KILL_SUIDGID,
      0x77, O_WRONLY, 0};
  auto bytes = RequestBuilder(FUSE_WRITE, 2).Struct(in).Bytes("hello").Build();
  auto r = Decode(bytes);
  const auto* write = Body<req::Write>(r);
  ASSERT_NE(write, nullptr) << Why(r);
  EXPECT_EQ(write->fh, FileHandle(9));
  EXPECT_EQ(write->offset, 100u);
  EXPECT_EQ(View(write->data), "hello");
  EXPECT_EQ(write->data.data(), bytes.data() + sizeof(fuse_in_header) + sizeof(fuse_write_in));
  EXPECT_EQ(write->lock_owner, 0x77u);
  EXPECT_EQ(write->flags, O_WRONLY);
  EXPECT_TRUE(write->kill_suidgid);
  EXPECT_TRUE(write->from_page_cache);
}

TEST(DecodeTest, WriteWithoutFlagsHasNoLockOwner) {
  fuse_write_in in{9, 0, 0, 0, 0x77, 0, 0};
  auto bytes = RequestBuilder(FUSE_WRITE, 2).Struct(in).Build();
  auto r = Decode(bytes);
  const auto* write = Body<req::Write>(r);
  ASSERT_NE(write, nullptr) << Why(r);
  EXPECT_TRUE(write->data.empty());
  EXPECT_FALSE(write->lock_owner.has_value());
  EXPECT_FALSE(write->kill_suidgid);
  EXPECT_FALSE(write->from_page_cache);
}

TEST(DecodeTest, ReleaseAndReleaseDir) {
  fuse_release_in in{5, O_RDWR, FUSE_RELEASE_FLUSH | FUSE_RELEASE_FLOCK_UNLOCK, 0x99};
  auto release = RequestBuilder(FUSE_RELEASE, 2).Struct(in).Build();
  auto r1 = Decode(release);
  const auto* rel = Body<req::Release>(r1);
  ASSERT_NE(rel, nullptr) << Why(r1);
  EXPECT_EQ(rel->fh, FileHandle(5));
  EXPECT_EQ(rel->flags, O_RDWR);
  EXPECT_EQ(rel->lock_owner, 0x99u);
  EXPECT_TRUE(rel->flush);
  EXPECT_TRUE(rel->flock_unlock);

  in.release_flags = 0;
  auto releasedir = RequestBuilder(FUSE_RELEASEDIR, 2).Struct(in).Build();
  auto r2 = Decode(releasedir);
  const auto* dir = Body<req::ReleaseDir>(r2);
  ASSERT_NE(dir, nullptr) << Why(r2);
  EXPECT_EQ(dir->fh, FileHandle(5));
  EXPECT_FALSE(dir->flush);
  EXPECT_FALSE(dir->flock_unlock);
}

TEST(DecodeTest, FsyncAndFsyncDir) {
  auto fsync =
      RequestBuilder(FUSE_FSYNC, 2).Struct(fuse_fsync_in{4, FUSE_FSYNC_FDATASYNC, 0}).Build();
  auto r1 = Decode(fsync);
  const auto* f = Body<req::Fsync>(r1);
  ASSERT_NE(f, nullptr) << Why(r1);
  EXPECT_EQ(f->fh, FileHandle(4));
  EXPECT_TRUE(f->datasync);

  auto fsyncdir = RequestBuilder(FUSE_FSYNCDIR, 2).Struct(fuse_fsync_in{6, 0, 0}).Build();
  auto r2 = Decode(fsyncdir);
  const auto* d = Body<req::FsyncDir>(r2);
  ASSERT_NE(d, nullptr) << Why(r2);
  EXPECT_EQ(d->fh, FileHandle(6));
  EXPECT_FALSE(d->datasync);
}

TEST(DecodeTest, SetXattrCompatLayout) {
  // Without FUSE_SETXATTR_EXT the kernel sends only size and flags.
  uint32_t compat[2] = {3, 1 /* XATTR_CREATE */};
  auto bytes = RequestBuilder(FUSE_SETXATTR, 2)
                   .Struct(compat)
                   .Name("user.key")
                   .Bytes(std::string_view("v\0w", 3))
                   .Build();
  auto r = Decode(bytes);
  const auto* s = Body<req::SetXattr>(r);
  ASSERT_NE(s, nullptr) << Why(r);
  EXPECT_EQ(s->name, "user.key");
  EXPECT_EQ(View(s->value), std::string_view("v\0w", 3));
  EXPECT_EQ(s->flags, 1);
  EXPECT_EQ(s->setxattr_flags, 0u);
}

TEST(DecodeTest, SetXattrExtLayout) {
  auto bytes =
      RequestBuilder(FUSE_SETXATTR, 2)
          .Struct(fuse_setxattr_in{2, 2 /* XATTR_REPLACE */, FUSE_SETXATTR_ACL_KILL_SGID, 0})
          .Name("system.posix_acl_access")
          .Bytes("ab")
          .Build();
  auto r = Decode(bytes, DecodeOptions{.setxattr_ext = true});
  const auto* s = Body<req::SetXattr>(r);
  ASSERT_NE(s, nullptr) << Why(r);
  EXPECT_EQ(s->name, "system.posix_acl_access");
  EXPECT_EQ(View(s->value), "ab");
  EXPECT_EQ(s->flags, 2);
  EXPECT_EQ(s->setxattr_flags, FUSE_SETXATTR_ACL_KILL_SGID);

  // The same bytes read with the compat layout take setxattr_flags for the
  // name: the option is what keeps them apart.
  auto compat = Decode(bytes);
  const auto* wrong = Body<req::SetXattr>(compat);
  EXPECT_TRUE(wrong == nullptr || wrong->name != "system.posix_acl_access");
}

TEST(DecodeTest, GetXattrAndListXattr) {
  auto get =
      RequestBuilder(FUSE_GETXATTR, 2).Struct(fuse_getxattr_in{256, 0}).Name("user.a").Build();
  auto r1 = Decode(get);
  const auto* g = Body<req::GetXattr>(r1);
  ASSERT_NE(g, nullptr) << Why(r1);
  EXPECT_EQ(g->name, "user.a");
  EXPECT_EQ(g->size, 256u);

  auto list = RequestBuilder(FUSE_LISTXATTR, 2).Struct(fuse_getxattr_in{0, 0}).Build();
  auto r2 = Decode(list);
  const auto* l = Body<req::ListXattr>(r2);
  ASSERT_NE(l, nullptr) << Why(r2);
  EXPECT_EQ(l->size, 0u);
}

TEST(DecodeTest, Flush) {
  auto bytes = RequestBuilder(FUSE_FLUSH, 2).Struct(fuse_flush_in{8, 0, 0, 0x1234}).Build();
  auto r = Decode(bytes);
  const auto* f = Body<req::Flush>(r);
  ASSERT_NE(f, nullptr) << Why(r);
  EXPECT_EQ(f->fh, FileHandle(8));
  EXPECT_EQ(f->lock_owner, 0x1234u);
}

TEST(DecodeTest, ReadDirAndReadDirPlus) {
  fuse_read_in in{11, 3, 4096, 0, 0, 0, 0};
  auto readdir = RequestBuilder(FUSE_READDIR, 2).Struct(in).Build();
  auto r1 = Decode(readdir);
  const auto* d = Body<req::ReadDir>(r1);
  ASSERT_NE(d, nullptr) << Why(r1);
  EXPECT_EQ(d->fh, FileHandle(11));
  EXPECT_EQ(d->offset, 3u);
  EXPECT_EQ(d->size, 4096u);

  auto plus = RequestBuilder(FUSE_READDIRPLUS, 2).Struct(in).Build();
  auto r2 = Decode(plus);
  const auto* p = Body<req::ReadDirPlus>(r2);
  ASSERT_NE(p, nullptr) << Why(r2);
  EXPECT_EQ(p->fh, FileHandle(11));
  EXPECT_EQ(p->size, 4096u);
}

TEST(DecodeTest, LockRequests) {
  fuse_lk_in in{12, 0xfeed, {0, 99, F_WRLCK, 321}, FUSE_LK_FLOCK, 0};
  auto getlk = RequestBuilder(FUSE_GETLK, 2).Struct(in).Build();
  auto r1 = Decode(getlk);
  const auto* g = Body<req::GetLk>(r1);
  ASSERT_NE(g, nullptr) << Why(r1);
  EXPECT_EQ(g->fh, FileHandle(12));
  EXPECT_EQ(g->owner, 0xfeedu);
  EXPECT_EQ(g->lock.start, 0u);
  EXPECT_EQ(g->lock.end, 99u);
  EXPECT_EQ(g->lock.type, static_cast<uint32_t>(F_WRLCK));
  EXPECT_EQ(g->lock.pid, 321u);
  EXPECT_TRUE(g->flock);

  in.lk_flags = 0;
  auto setlk = RequestBuilder(FUSE_SETLK, 2).Struct(in).Build();
  auto r2 = Decode(setlk);
  ASSERT_NE(Body<req::SetLk>(r2), nullptr) << Why(r2);
  EXPECT_FALSE(Body<req::SetLk>(r2)->flock);

  auto setlkw = RequestBuilder(FUSE_SETLKW, 2).Struct(in).Build();
  auto r3 = Decode(setlkw);
  ASSERT_NE(Body<req::SetLkW>(r3), nullptr) << Why(r3);
  EXPECT_EQ(Body<req::SetLkW>(r3)->lock.pid, 321u);
}

TEST(DecodeTest, Access) {
  auto bytes = RequestBuilder(FUSE_ACCESS, 2).Struct(fuse_access_in{R_OK | X_OK, 0}).Build();
  auto r = Decode(bytes);
  ASSERT_NE(Body<req::Access>(r), nullptr) << Why(r);
  EXPECT_EQ(Body<req::Access>(r)->mask, static_cast<uint32_t>(R_OK | X_OK));
}

TEST(DecodeTest, Create) {
  auto bytes = RequestBuilder(FUSE_CREATE, 2)
                   .Struct(fuse_create_in{O_CREAT | O_EXCL | O_WRONLY, S_IFREG | 0640, 027,
                                          FUSE_OPEN_KILL_SUIDGID})
                   .Name("fresh")
                   .Build();
  auto r = Decode(bytes);
  const auto* c = Body<req::Create>(r);
  ASSERT_NE(c, nullptr) << Why(r);
  EXPECT_EQ(c->name, "fresh");
  EXPECT_EQ(c->flags, O_CREAT | O_EXCL | O_WRONLY);
  EXPECT_EQ(c->mode, S_IFREG | 0640u);
  EXPECT_EQ(c->umask, 027u);
  EXPECT_TRUE(c->kill_suidgid);
}

TEST(DecodeTest, Interrupt) {
  auto bytes = RequestBuilder(FUSE_INTERRUPT, 3, 0).Struct(fuse_interrupt_in{42}).Build();
  auto r = Decode(bytes);
  ASSERT_NE(Body<req::Interrupt>(r), nullptr) << Why(r);
  EXPECT_EQ(Body<req::Interrupt>(r)->target, RequestId(42));
}

TEST(DecodeTest, Bmap) {
  auto bytes = RequestBuilder(FUSE_BMAP, 2).Struct(fuse_bmap_in{1000, 4096, 0}).Build();
  auto r = Decode(bytes);
  const auto* b = Body<req::Bmap>(r);
  ASSERT_NE(b, nullptr) << Why(r);
  EXPECT_EQ(b->block, 1000u);
  EXPECT_EQ(b->blocksize, 4096u);
}

TEST(DecodeTest, IoctlInputData) {
  auto bytes = RequestBuilder(FUSE_IOCTL, 2)
                   .Struct(fuse_ioctl_in{13, FUSE_IOCTL_UNRESTRICTED, 0x5401, 0xbeef, 3, 64})
                   .Bytes("xyz")
                   .Build();
  auto r = Decode(bytes);
  const auto* i = Body<req::Ioctl>(r);
  ASSERT_NE(i, nullptr) << Why(r);
  EXPECT_EQ(i->fh, FileHandle(13));
  EXPECT_EQ(i->flags, FUSE_IOCTL_UNRESTRICTED);
  EXPECT_EQ(i->cmd, 0x5401u);
  EXPECT_EQ(i->arg, 0xbeefu);
  EXPECT_EQ(View(i->in_data), "xyz");
  EXPECT_EQ(i->out_size, 64u);
}

TEST(DecodeTest, Poll) {
  auto bytes = RequestBuilder(FUSE_POLL, 2)
                   .Struct(fuse_poll_in{14, 0x77, FUSE_POLL_SCHEDULE_NOTIFY, 0x5})
                   .Build();
  auto r = Decode(bytes);
  const auto* p = Body<req::Poll>(r);
  ASSERT_NE(p, nullptr) << Why(r);
  EXPECT_EQ(p->fh, FileHandle(14));
  EXPECT_EQ(p->kh, 0x77u);
  EXPECT_EQ(p->flags, FUSE_POLL_SCHEDULE_NOTIFY);
  EXPECT_EQ(p->events, 0x5u);
}

TEST(DecodeTest, NotifyReplyData) {
  auto bytes = RequestBuilder(FUSE_NOTIFY_REPLY, 500, 9)
                   .Struct(fuse_notify_retrieve_in{0, 8192, 4, 0, 0, 0})
                   .Bytes("page")
                   .Build();
  auto r = Decode(bytes);
  const auto* n = Body<req::NotifyReply>(r);
  ASSERT_NE(n, nullptr) << Why(r);
  EXPECT_EQ(n->offset, 8192u);
  EXPECT_EQ(View(n->data), "page");
  EXPECT_EQ(r.request().header.unique, RequestId(500));  // the notification's unique
}

TEST(DecodeTest, Fallocate) {
  auto bytes = RequestBuilder(FUSE_FALLOCATE, 2)
                   .Struct(fuse_fallocate_in{15, 4096, 1 << 20, 1 /* KEEP_SIZE */, 0})
                   .Build();
  auto r = Decode(bytes);
  const auto* f = Body<req::Fallocate>(r);
  ASSERT_NE(f, nullptr) << Why(r);
  EXPECT_EQ(f->fh, FileHandle(15));
  EXPECT_EQ(f->offset, 4096u);
  EXPECT_EQ(f->length, 1u << 20);
  EXPECT_EQ(f->mode, 1);
}

TEST(DecodeTest, Lseek) {
  auto bytes = RequestBuilder(FUSE_LSEEK, 2).Struct(fuse_lseek_in{16, 12345, SEEK_DATA, 0}).Build();
  auto r = Decode(bytes);
  const auto* l = Body<req::Lseek>(r);
  ASSERT_NE(l, nullptr) << Why(r);
  EXPECT_EQ(l->fh, FileHandle(16));
  EXPECT_EQ(l->offset, 12345u);
  EXPECT_EQ(l->whence, SEEK_DATA);
}

TEST(DecodeTest, CopyFileRangeAndCopyFileRange64AreDistinct) {
  fuse_copy_file_range_in in{1, 2, 3, 4, 5, uint64_t{1} << 33, 0};
  auto narrow = RequestBuilder(FUSE_COPY_FILE_RANGE, 2).Struct(in).Build();
  auto r1 = Decode(narrow);
  ASSERT_EQ(Body<req::CopyFileRange64>(r1), nullptr);
  const auto* c = Body<req::CopyFileRange>(r1);
  ASSERT_NE(c, nullptr) << Why(r1);
  EXPECT_EQ(c->fh_in, FileHandle(1));
  EXPECT_EQ(c->offset_in, 2u);
  EXPECT_EQ(c->node_out, NodeId(3));
  EXPECT_EQ(c->fh_out, FileHandle(4));
  EXPECT_EQ(c->offset_out, 5u);
  EXPECT_EQ(c->length, uint64_t{1} << 33);
  EXPECT_EQ(c->flags, 0u);

  auto wide = RequestBuilder(FUSE_COPY_FILE_RANGE_64, 2).Struct(in).Build();
  auto r2 = Decode(wide);
  ASSERT_EQ(Body<req::CopyFileRange>(r2), nullptr);
  const auto* c64 = Body<req::CopyFileRange64>(r2);
  ASSERT_NE(c64, nullptr) << Why(r2);
  EXPECT_EQ(c64->length, uint64_t{1} << 33);
  EXPECT_EQ(c64->node_out, NodeId(3));
}

TEST(DecodeTest, SetupMapping) {
  auto bytes = RequestBuilder(FUSE_SETUPMAPPING, 2)
                   .Struct(fuse_setupmapping_in{17, 4096, 8192, FUSE_SETUPMAPPING_FLAG_READ, 65536})
                   .Build();
  auto r = Decode(bytes);
  const auto* s = Body<req::SetupMapping>(r);
  ASSERT_NE(s, nullptr) << Why(r);
  EXPECT_EQ(s->fh, FileHandle(17));
  EXPECT_EQ(s->foffset, 4096u);
  EXPECT_EQ(s->length, 8192u);
  EXPECT_EQ(s->flags, FUSE_SETUPMAPPING_FLAG_READ);
  EXPECT_EQ(s->moffset, 65536u);
}

TEST(DecodeTest, RemoveMappingItemsFollowAFourByteCount) {
  auto bytes = RequestBuilder(FUSE_REMOVEMAPPING, 2)
                   .Struct(fuse_removemapping_in{2})
                   .Struct(fuse_removemapping_one{0, 4096})
                   .Struct(fuse_removemapping_one{1 << 21, 8192})
                   .Build();
  auto r = Decode(bytes);
  const auto* m = Body<req::RemoveMapping>(r);
  ASSERT_NE(m, nullptr) << Why(r);
  ASSERT_EQ(m->items.size(), 2u);
  EXPECT_EQ(m->items[0].moffset, 0u);
  EXPECT_EQ(m->items[0].length, 4096u);
  EXPECT_EQ(m->items[1].moffset, 1u << 21);
  EXPECT_EQ(m->items[1].length, 8192u);
}

TEST(DecodeTest, SyncFs) {
  auto bytes = RequestBuilder(FUSE_SYNCFS, 2).Struct(fuse_syncfs_in{0}).Build();
  auto r = Decode(bytes);
  EXPECT_NE(Body<req::SyncFs>(r), nullptr) << Why(r);
}

TEST(DecodeTest, TmpFileWithTheSlashName) {
  auto bytes = RequestBuilder(FUSE_TMPFILE, 2, 30)
                   .Struct(fuse_create_in{O_RDWR | O_TMPFILE, S_IFREG | 0600, 022, 0})
                   .Name("/")
                   .Build();
  auto r = Decode(bytes);
  const auto* t = Body<req::TmpFile>(r);
  ASSERT_NE(t, nullptr) << Why(r);
  EXPECT_EQ(t->flags, O_RDWR | O_TMPFILE);
  EXPECT_EQ(t->mode, S_IFREG | 0600u);
  EXPECT_EQ(t->umask, 022u);
  EXPECT_EQ(r.request().header.node, NodeId(30));

  auto without_name = RequestBuilder(FUSE_TMPFILE, 2)
                          .Struct(fuse_create_in{O_RDWR | O_TMPFILE, S_IFREG | 0600, 022, 0})
                          .Build();
  auto r2 = Decode(without_name);
  EXPECT_NE(Body<req::TmpFile>(r2), nullptr) << Why(r2);
}

TEST(DecodeTest, StatxFhOnlyWithGetattrFh) {
  auto bytes = RequestBuilder(FUSE_STATX, 2)
                   .Struct(fuse_statx_in{FUSE_GETATTR_FH, 0, 18, 0x100 /* AT_STATX_FORCE_SYNC */,
                                         0x7ff /* STATX_BASIC_STATS */})
                   .Build();
  auto r = Decode(bytes);
  const auto* s = Body<req::Statx>(r);
  ASSERT_NE(s, nullptr) << Why(r);
  EXPECT_EQ(s->fh, FileHandle(18));
  EXPECT_EQ(s->sx_flags, 0x100u);
  EXPECT_EQ(s->sx_mask, 0x7ffu);

  auto no_fh = RequestBuilder(FUSE_STATX, 2).Struct(fuse_statx_in{0, 0, 18, 0, 0x7ff}).Build();
  auto r2 = Decode(no_fh);
  ASSERT_NE(Body<req::Statx>(r2), nullptr) << Why(r2);
  EXPECT_FALSE(Body<req::Statx>(r2)->fh.has_value());
}

// ---- describe --------------------------------------------------------------

TEST(DescribeTest, DerivedRequestTypesPrintTheirFields) {
  // Rename2, ReleaseDir, ... derive from another request type; their
  // arguments must print like their base's.
  struct Case {
    std::vector<std::byte> bytes;
    std::string_view expected;
  };
  Case cases[] = {
      {RequestBuilder(FUSE_RENAME2, 1).Struct(fuse_rename2_in{5, 1, 0}).Name("a").Name("b").Build(),
       "new_name=\"b\""},
      {RequestBuilder(FUSE_RELEASEDIR, 1).Struct(fuse_release_in{77, 0, 0, 0}).Build(), "fh=77"},
      {RequestBuilder(FUSE_FSYNCDIR, 1).Struct(fuse_fsync_in{78, 1, 0}).Build(), "fh=78"},
      {RequestBuilder(FUSE_READDIRPLUS, 1).Struct(fuse_read_in{79, 0, 4096, 0, 0, 0, 0}).Build(),
       "fh=79"},
      {RequestBuilder(FUSE_SETLK, 1).Struct(fuse_lk_in{80, 0, {}, 0, 0}).Build(), "fh=80"},
      {RequestBuilder(FUSE_SETLKW, 1).Struct(fuse_lk_in{81, 0, {}, 0, 0}).Build(), "fh=81"},
      {RequestBuilder(FUSE_COPY_FILE_RANGE_64, 1)
           .Struct(fuse_copy_file_range_in{82, 0, 0, 0, 0, 0, 0})
           .Build(),
       "fh_in=82"},
  };
  for (auto& c : cases) {
    auto r = Decode(c.bytes);
    ASSERT_TRUE(r.ok()) << Why(r);
    std::string text = DescribeRequest(r.request());
    EXPECT_NE(text.find(c.expected), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace fusekit::proto
