#include "audit_trail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace passthroughfs {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/audit_trail_test.XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

AuditRecord Numbered(int n) {
  AuditRecord r;
  r.time = {1767225600, 123456789};  // 2026-01-01T00:00:00.123456Z
  r.uid = 1000;
  r.gid = 100;
  r.pid = 42;
  r.comm = "touch";
  r.op = "create";
  r.path = "dir/file" + std::to_string(n);
  return r;
}

// Waits up to 5 s for `condition`.
template <typename Condition>
bool Eventually(Condition condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

TEST(FormatAuditLine, WritesEveryFieldAsOneJsonLine) {
  AuditRecord r = Numbered(1);
  r.op = "rename";
  r.path2_key = "new_path";
  r.path2 = "other";
  r.details = AuditMembers().Add("flags", "RENAME_NOREPLACE").AddOctal("mode", 0644).Take();
  r.error = EEXIST;
  EXPECT_EQ(FormatAuditLine(r),
            "{\"time\":\"2026-01-01T00:00:00.123456Z\",\"uid\":1000,\"gid\":100,\"pid\":42,"
            "\"comm\":\"touch\",\"op\":\"rename\",\"path\":\"dir/file1\",\"new_path\":\"other\","
            "\"flags\":\"RENAME_NOREPLACE\",\"mode\":\"0644\",\"result\":17,\"error\":\"EEXIST\"}\n");
}

TEST(FormatAuditLine, SuccessHasNoErrorName) {
  std::string line = FormatAuditLine(Numbered(2));
  EXPECT_NE(line.find("\"result\":0}"), std::string::npos) << line;
  EXPECT_EQ(line.find("error"), std::string::npos) << line;
}

TEST(JsonString, EscapesQuotesControlsAndBytesThatAreNotUtf8) {
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("tab\there\nnew"), "\"tab\\u0009here\\u000anew\"");
  EXPECT_EQ(JsonString("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(JsonString("bad\xff"), "\"bad\\udcff\"");
  // Overlong '/', a surrogate, a truncated sequence.
  EXPECT_EQ(JsonString("\xc0\xaf"), "\"\\udcc0\\udcaf\"");
  EXPECT_EQ(JsonString("\xed\xa0\x80"), "\"\\udced\\udca0\\udc80\"");
  EXPECT_EQ(JsonString("\xe2\x82"), "\"\\udce2\\udc82\"");
}

TEST(AuditTrail, OpenNamesTheErrorOfABadPath) {
  AuditTrail::Options options;
  options.path = "/nonexistent-dir/audit.log";
  auto trail = AuditTrail::Open(options);
  ASSERT_FALSE(trail);
  EXPECT_EQ(trail.error(), fusekit::Errno(ENOENT));
}

TEST(AuditTrail, WritesEveryRecordInOrderAndCreatesTheFilePrivate) {
  TempDir dir;
  AuditTrail::Options options;
  options.path = dir.Path("audit.log");
  {
    auto trail = AuditTrail::Open(options);
    ASSERT_TRUE(trail);
    for (int i = 0; i < 1000; ++i) (*trail)->Record(Numbered(i));
  }
  auto lines = Lines(options.path);
  ASSERT_EQ(lines.size(), 1000u);
  for (int i = 0; i < 1000; ++i)
    EXPECT_NE(lines[i].find("\"dir/file" + std::to_string(i) + "\""), std::string::npos);
  struct stat st;
  ASSERT_EQ(::stat(options.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// A pipe nobody reads fills; the queue then fills, and Record waits rather
// than drop. Once the pipe is read, every record comes out.
TEST(AuditTrail, AFullQueueMakesRecordWaitAndLosesNothing) {
  TempDir dir;
  std::string fifo = dir.Path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  AuditTrail::Options options;
  options.path = fifo;
  options.queue_capacity = 8;
  auto trail = AuditTrail::Open(options);
  ASSERT_TRUE(trail);
  constexpr int kRecords = 5000;  // ~150 bytes each: far more than a pipe holds
  std::thread producer([&] {
    for (int i = 0; i < kRecords; ++i) (*trail)->Record(Numbered(i));
  });
  ASSERT_TRUE(Eventually([&] { return (*trail)->counts().waited > 0; }))
      << "the queue never filled: the test proves nothing";
  std::string all;
  char buf[65536];
  auto done = std::chrono::steady_clock::now() + 20s;
  while (std::count(all.begin(), all.end(), '\n') < kRecords &&
         std::chrono::steady_clock::now() < done) {
    ssize_t n = ::read(reader, buf, sizeof(buf));
    if (n > 0) all.append(buf, static_cast<size_t>(n));
    else std::this_thread::sleep_for(1ms);
  }
  producer.join();
  ::close(reader);
  EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), kRecords);
  std::istringstream in(all);
  int i = 0;
  for (std::string line; std::getline(in, line); ++i)
    ASSERT_NE(line.find("\"dir/file" + std::to_string(i) + "\""), std::string::npos) << line;
  EXPECT_EQ((*trail)->counts().lost, 0u);
}

// logrotate: the file is moved, then SIGHUP asks for a reopen.
TEST(AuditTrail, ReopenWritesOnToTheNewFileAndKeepsEveryRecord) {
  TempDir dir;
  AuditTrail::Options options;
  options.path = dir.Path("audit.log");
  auto trail = AuditTrail::Open(options);
  ASSERT_TRUE(trail);
  for (int i = 0; i < 100; ++i) (*trail)->Record(Numbered(i));
  ASSERT_TRUE(Eventually([&] { return (*trail)->counts().written == 100; }));
  fs::rename(options.path, dir.Path("audit.log.1"));
  for (int i = 100; i < 150; ++i) (*trail)->Record(Numbered(i));  // to the moved file
  ASSERT_TRUE(Eventually([&] { return (*trail)->counts().written == 150; }));
  (*trail)->Reopen();
  for (int i = 150; i < 200; ++i) (*trail)->Record(Numbered(i));
  trail->reset();
  EXPECT_EQ(Lines(dir.Path("audit.log.1")).size(), 150u);
  auto fresh = Lines(options.path);
  ASSERT_EQ(fresh.size(), 50u);
  EXPECT_NE(fresh[0].find("\"dir/file150\""), std::string::npos);
}

// A symlink to /dev/full (every write ENOSPC), then to a plain file.
TEST(AuditTrail, RequiredRefusesWhileFailingAndWritesTheKeptRecordsOnceItWorks) {
  TempDir dir;
  std::string link = dir.Path("audit.log");
  ASSERT_EQ(::symlink("/dev/full", link.c_str()), 0);
  AuditTrail::Options options;
  options.path = link;
  options.required = true;
  options.retry = 20ms;
  auto trail = AuditTrail::Open(options);
  ASSERT_TRUE(trail);
  EXPECT_FALSE((*trail)->Refusing());
  (*trail)->Record(Numbered(1));
  ASSERT_TRUE(Eventually([&] { return (*trail)->Refusing(); }));
  EXPECT_TRUE((*trail)->counts().failing);
  std::string real = dir.Path("real.log");
  ASSERT_EQ(::unlink(link.c_str()), 0);
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  ASSERT_TRUE(Eventually([&] { return !(*trail)->Refusing(); }));
  auto counts = (*trail)->counts();
  EXPECT_EQ(counts.written, 1u);
  EXPECT_EQ(counts.lost, 0u);
  EXPECT_GT(counts.write_errors, 0u);
  auto lines = Lines(real);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"dir/file1\""), std::string::npos);
}

TEST(AuditTrail, NotRequiredCountsWhatCouldNotBeWrittenAndGoesOn) {
  TempDir dir;
  AuditTrail::Options options;
  options.path = "/dev/full";
  options.retry = 20ms;
  auto trail = AuditTrail::Open(options);
  ASSERT_TRUE(trail);
  (*trail)->Record(Numbered(1));
  ASSERT_TRUE(Eventually([&] { return (*trail)->counts().lost == 1; }));
  EXPECT_FALSE((*trail)->Refusing());
}

}  // namespace
}  // namespace passthroughfs
