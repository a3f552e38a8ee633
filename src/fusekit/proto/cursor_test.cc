#include "fusekit/proto/cursor.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

namespace fusekit::proto {
namespace {

std::vector<std::byte> Bytes(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

struct Pair {
  uint32_t a;
  uint32_t b;
};

TEST(CursorTest, FetchReadsUnalignedValuesInOrder) {
  std::vector<std::byte> bytes(1 + sizeof(Pair));
  Pair in{0x01020304, 0xa0b0c0d0};
  std::memcpy(bytes.data() + 1, &in, sizeof(in));
  Cursor c(bytes);
  ASSERT_EQ(c.fetch<uint8_t>(), uint8_t{0});
  auto out = c.fetch<Pair>();  // at an odd offset: must not assume alignment
  ASSERT_TRUE(out);
  EXPECT_EQ(out->a, in.a);
  EXPECT_EQ(out->b, in.b);
  EXPECT_TRUE(c.empty());
}

TEST(CursorTest, FetchOnShortDataFailsAndConsumesNothing) {
  auto bytes = Bytes("1234567");
  Cursor c(bytes);
  EXPECT_FALSE(c.fetch<uint64_t>());
  EXPECT_EQ(c.remaining(), 7u);
  EXPECT_TRUE(c.fetch<uint32_t>());
  EXPECT_FALSE(c.fetch<uint32_t>());
  EXPECT_EQ(c.remaining(), 3u);
}

TEST(CursorTest, FetchOnEmptyDataFails) {
  Cursor c(std::span<const std::byte>{});
  EXPECT_FALSE(c.fetch<uint8_t>());
  EXPECT_TRUE(c.empty());
}

TEST(CursorTest, FetchCstrExcludesTheNulAndConsumesIt) {
  auto bytes = Bytes(std::string_view("foo\0\0bar\0", 9));
  Cursor c(bytes);
  EXPECT_EQ(c.fetch_cstr(), "foo");
  EXPECT_EQ(c.remaining(), 5u);
  EXPECT_EQ(c.fetch_cstr(), "");  // an empty name is still a name
  EXPECT_EQ(c.fetch_cstr(), "bar");
  EXPECT_TRUE(c.empty());
}

TEST(CursorTest, FetchCstrWithoutNulFailsAndConsumesNothing) {
  auto bytes = Bytes("abc");
  Cursor c(bytes);
  EXPECT_FALSE(c.fetch_cstr());
  EXPECT_EQ(c.remaining(), 3u);
}

TEST(CursorTest, FetchCstrOnEmptyDataFails) {
  // An empty span's data() is null: the cursor must not hand it to memchr.
  Cursor empty(std::span<const std::byte>{});
  EXPECT_FALSE(empty.fetch_cstr());

  auto bytes = Bytes(std::string_view("x\0", 2));
  Cursor c(bytes);
  ASSERT_EQ(c.fetch_cstr(), "x");
  EXPECT_FALSE(c.fetch_cstr());
}

TEST(CursorTest, FetchBytesBounds) {
  auto bytes = Bytes("abcdef");
  Cursor c(bytes);
  auto none = c.fetch_bytes(0);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  auto two = c.fetch_bytes(2);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->data(), bytes.data());  // a view into the input, not a copy
  EXPECT_EQ(two->size(), 2u);

  EXPECT_FALSE(c.fetch_bytes(5));  // one more than remains
  EXPECT_EQ(c.remaining(), 4u);
  EXPECT_FALSE(c.fetch_bytes(std::numeric_limits<size_t>::max()));  // no wrap-around
  EXPECT_EQ(c.remaining(), 4u);

  auto rest = c.fetch_bytes(4);  // exactly what remains
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->data(), bytes.data() + 2);
  EXPECT_TRUE(c.empty());
}

TEST(CursorTest, FetchPrefixZeroFillsWhatIsMissing) {
  uint32_t a = 0x11223344;
  std::vector<std::byte> bytes(sizeof(a));
  std::memcpy(bytes.data(), &a, sizeof(a));
  Cursor c(bytes);
  auto out = c.fetch_prefix<Pair>(4);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->a, a);
  EXPECT_EQ(out->b, 0u);
  EXPECT_TRUE(c.empty());
}

TEST(CursorTest, FetchPrefixBelowMinimumFailsAndConsumesNothing) {
  std::vector<std::byte> bytes(3);
  Cursor c(bytes);
  EXPECT_FALSE(c.fetch_prefix<Pair>(4));
  EXPECT_EQ(c.remaining(), 3u);
}

TEST(CursorTest, FetchPrefixTakesNoMoreThanTheStruct) {
  Pair in{1, 2};
  std::vector<std::byte> bytes(sizeof(in) + 3);
  std::memcpy(bytes.data(), &in, sizeof(in));
  Cursor c(bytes);
  auto out = c.fetch_prefix<Pair>(4);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->a, 1u);
  EXPECT_EQ(out->b, 2u);
  EXPECT_EQ(c.remaining(), 3u);
}

TEST(CursorTest, RestTakesEverythingLeft) {
  auto bytes = Bytes("abcd");
  Cursor c(bytes);
  ASSERT_TRUE(c.fetch<uint8_t>());
  auto rest = c.rest();
  EXPECT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest.data(), bytes.data() + 1);
  EXPECT_TRUE(c.empty());
  EXPECT_TRUE(c.rest().empty());
}

}  // namespace
}  // namespace fusekit::proto
