// Replays the fuzzer's seed corpus (tests/fuzz/corpus) through the real
// Dispatcher in every build, so that a crash the fuzzer once found stays
// fixed without a clang fuzz build. Add a reproducer to the corpus to keep
// it here.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <vector>

#include "fusekit/proto/decode.h"
#include "fusekit/testing/harness.h"
#include "fusekit/testing/wire.h"

namespace fusekit {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> CorpusFiles() {
  std::vector<fs::path> files;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(FUSEKIT_CORPUS_DIR, ignored)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::byte> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::byte> bytes;
  std::transform(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(),
                 std::back_inserter(bytes), [](char c) { return static_cast<std::byte>(c); });
  return bytes;
}

class CorpusReplayTest : public ::testing::Test {
 protected:
  // Malformed seeds log warnings by design; they would bury real failures.
  void SetUp() override {
    saved_level_ = spdlog::get_level();
    spdlog::set_level(spdlog::level::off);
  }
  void TearDown() override { spdlog::set_level(saved_level_); }

  spdlog::level::level_enum saved_level_ = spdlog::level::info;
};

TEST_F(CorpusReplayTest, EveryRequestOwedAReplyGetsExactlyOne) {
  auto files = CorpusFiles();
  // A missing or emptied corpus must fail, not pass vacuously.
  ASSERT_GE(files.size(), 50u) << "corpus dir: " << FUSEKIT_CORPUS_DIR;
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    auto bytes = ReadFile(file);
    for (bool setxattr_ext : {false, true}) {
      // A fresh dispatcher per file: one seed's DESTROY or retrieve must
      // not change how the next is handled.
      testutil::DispatchHarness harness(setxattr_ext);
      ASSERT_TRUE(harness.initialized());
      EXPECT_TRUE(harness.Handle(bytes))
          << "sent " << harness.last_reply_count() << " replies, owed "
          << testutil::ExpectedReplies(bytes, harness.decode_options())
          << " (setxattr_ext=" << setxattr_ext << ")";
    }
  }
}

TEST_F(CorpusReplayTest, CorpusHasAWellFormedSeedForEveryOpcode) {
  std::set<uint32_t> decoded;
  for (const auto& file : CorpusFiles()) {
    auto bytes = ReadFile(file);
    auto r = proto::Decode(bytes);
    if (r.ok()) decoded.insert(static_cast<uint32_t>(r.request().header.opcode));
  }
  for (const auto& layout : testutil::kOpcodeLayouts) {
    EXPECT_TRUE(decoded.count(layout.opcode)) << OpcodeName(layout.opcode);
  }
}

}  // namespace
}  // namespace fusekit
