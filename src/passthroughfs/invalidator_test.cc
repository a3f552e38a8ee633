// The mapping from changes in SOURCE to what the kernel is told, with
// synthetic events (as the watchers parse them) and fakes on both sides; and
// the watchers' parsers on records laid out by hand.
#include "invalidator.h"

#include <sys/fanotify.h>
#include <sys/inotify.h>

#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace passthroughfs {
namespace {

using fusekit::NodeId;

SourceHandle H(uint8_t b) {
  uint8_t bytes[8] = {b, 0, 0, 0, 1, 2, 3, 4};
  return SourceHandle::FromBytes(1, bytes);
}

class FakeIndex : public NodeIndex {
 public:
  std::optional<NodeId> FindByHandle(uint64_t fsid, const SourceHandle& h) override {
    if (fsid != 7) return std::nullopt;
    for (auto& [node, handle] : by_handle)
      if (handle == h) return NodeId(node);
    return std::nullopt;
  }
  std::optional<NodeId> FindChild(NodeId dir, const std::string& name) override {
    auto it = children.find({dir.value, name});
    if (it == children.end()) return std::nullopt;
    return NodeId(it->second);
  }
  std::map<uint64_t, SourceHandle> by_handle;
  std::map<std::pair<uint64_t, std::string>, uint64_t> children;
};

class Recorder : public CacheInvalidations {
 public:
  void Attributes(NodeId n) override { log.push_back("attr " + std::to_string(n.value)); }
  void Contents(NodeId n) override { log.push_back("data " + std::to_string(n.value)); }
  void Entry(NodeId p, std::string_view name) override {
    log.push_back("entry " + std::to_string(p.value) + "/" + std::string(name));
  }
  void Deleted(NodeId p, NodeId c, std::string_view name) override {
    log.push_back("delete " + std::to_string(p.value) + "/" + std::string(name) + "=" +
                  std::to_string(c.value));
  }
  void Everything() override { log.push_back("everything"); }
  std::vector<std::string> log;
};

class InvalidatorTest : public testing::Test {
 protected:
  InvalidatorTest() {
    index_.by_handle[1] = H(1);  // the root directory
    index_.by_handle[2] = H(2);  // a file in it
    index_.by_handle[3] = H(3);  // a subdirectory
  }
  SourceEvent Fan(uint32_t flags, std::optional<uint8_t> dir, std::string name,
                  std::optional<uint8_t> object, pid_t pid = 100) {
    SourceEvent e;
    e.flags = flags;
    e.fsid = 7;
    if (dir) e.dir = H(*dir);
    if (object) e.object = H(*object);
    e.name = std::move(name);
    e.pid = pid;
    return e;
  }
  std::vector<std::string> Run(std::vector<SourceEvent> events) {
    recorder_.log.clear();
    invalidator_.Handle(events);
    return recorder_.log;
  }

  FakeIndex index_;
  Recorder recorder_;
  Invalidator invalidator_{index_, recorder_, [](pid_t tid) { return tid == 42; }};
};

using V = std::vector<std::string>;

TEST_F(InvalidatorTest, EachKindOfChangeDropsWhatItChanged) {
  struct Case {
    const char* what;
    SourceEvent event;
    V told;
  };
  std::vector<Case> cases = {
      {"create", Fan(SourceEvent::kCreated, 1, "new", 9), V{"entry 1/new", "data 1"}},
      {"unlink of a known file", Fan(SourceEvent::kDeleted, 1, "f", 2),
       V{"delete 1/f=2", "data 1", "attr 2"}},
      {"unlink of an unknown file", Fan(SourceEvent::kDeleted, 1, "x", 9),
       V{"entry 1/x", "data 1"}},
      {"rename away", Fan(SourceEvent::kMovedFrom, 1, "f", 2), V{"delete 1/f=2", "data 1", "attr 2"}},
      {"rename in", Fan(SourceEvent::kMovedTo, 3, "g", 2), V{"entry 3/g", "data 3", "attr 2"}},
      {"mkdir", Fan(SourceEvent::kCreated | SourceEvent::kIsDir, 1, "d", 9),
       V{"entry 1/d", "data 1"}},
      {"chmod", Fan(SourceEvent::kAttrib, 1, "f", 2), V{"attr 2"}},
      {"write", Fan(SourceEvent::kModified, 1, "f", 2), V{"data 2"}},
      {"directory's own attributes", Fan(SourceEvent::kAttrib | SourceEvent::kIsDir, {}, "", 3),
       V{"attr 3"}},
      {"deleted itself", Fan(SourceEvent::kSelfGone, {}, "", 2), V{"attr 2"}},
      {"in a directory the kernel does not hold", Fan(SourceEvent::kCreated, 8, "y", 9), V{}},
      {"made through the mount (by a daemon's thread)", Fan(SourceEvent::kCreated, 1, "z", 9, 42),
       V{}},
  };
  for (auto& c : cases) EXPECT_EQ(Run({c.event}), c.told) << c.what;
}

TEST_F(InvalidatorTest, ABatchTellsEachNodeOnce) {
  std::vector<SourceEvent> storm;
  for (int i = 0; i < 1000; ++i) storm.push_back(Fan(SourceEvent::kModified, 1, "f", 2));
  storm.push_back(Fan(SourceEvent::kAttrib, 1, "f", 2));
  for (int i = 0; i < 50; ++i) storm.push_back(Fan(SourceEvent::kCreated, 1, "n", 9));
  EXPECT_EQ(Run(storm), (V{"entry 1/n", "data 1", "data 2"}))
      << "data implies attributes: no separate attribute invalidation";
}

// A lookup answered just before a change can reach the kernel just after
// its invalidation: entry invalidations go out once more a moment later.
TEST_F(InvalidatorTest, EntryInvalidationsAreRepeatedOnceAMomentLater) {
  recorder_.log.clear();
  int wait_ms = invalidator_.Handle(std::vector{Fan(SourceEvent::kCreated, 1, "new", 9),
                                                Fan(SourceEvent::kAttrib, 1, "f", 2)});
  EXPECT_GT(wait_ms, 0);
  EXPECT_LE(wait_ms, 51);
  recorder_.log.clear();
  invalidator_.Handle({});
  EXPECT_TRUE(recorder_.log.empty()) << "not due yet";
  std::this_thread::sleep_for(Invalidator::kRepeatAfter + std::chrono::milliseconds(5));
  EXPECT_EQ(invalidator_.Handle({}), -1) << "nothing left afterwards";
  EXPECT_EQ(recorder_.log, (V{"entry 1/new", "data 1"})) << "attributes are not repeated";
  recorder_.log.clear();
  std::this_thread::sleep_for(Invalidator::kRepeatAfter + std::chrono::milliseconds(5));
  invalidator_.Handle({});
  EXPECT_TRUE(recorder_.log.empty()) << "repeated once only";
}

TEST_F(InvalidatorTest, OverflowDropsEverything) {
  SourceEvent lost;
  lost.flags = SourceEvent::kOverflow;
  EXPECT_EQ(Run({Fan(SourceEvent::kModified, 1, "f", 2), lost}), V{"everything"});
  EXPECT_EQ(invalidator_.overflows(), 1u);
}

// inotify names a watched directory by its tag and the entry by name.
TEST_F(InvalidatorTest, InotifyEventsResolveEntriesByName) {
  index_.children[{1, "f"}] = 2;
  auto in = [](uint32_t flags, std::string name) {
    SourceEvent e;
    e.flags = flags;
    e.dir_tag = 1;
    e.name = std::move(name);
    return e;
  };
  EXPECT_EQ(Run({in(SourceEvent::kModified, "f")}), V{"data 2"});
  EXPECT_EQ(Run({in(SourceEvent::kCreated, "g")}), (V{"entry 1/g", "data 1"}));
  EXPECT_EQ(Run({in(SourceEvent::kAttrib, "")}), V{"attr 1"}) << "the directory itself";
}

// --------------------------------------------------------------- parsers

void Put(std::vector<std::byte>& out, const void* p, size_t n) {
  auto* b = static_cast<const std::byte*>(p);
  out.insert(out.end(), b, b + n);
}

// One fanotify event as the kernel lays it out: metadata, then info
// records (header, fsid, file_handle, name), each padded to 4 bytes.
std::vector<std::byte> FanRecord(uint64_t mask, int pid,
                                 std::vector<std::tuple<uint8_t, uint8_t, std::string>> infos) {
  std::vector<std::byte> body;
  for (auto& [type, handle_byte, name] : infos) {
    std::vector<std::byte> rec;
    fanotify_event_info_header h{type, 0, 0};
    Put(rec, &h, sizeof(h));
    int fsid[2] = {7, 0};
    Put(rec, fsid, sizeof(fsid));
    uint32_t bytes = 8;
    int32_t htype = 1;
    Put(rec, &bytes, 4);
    Put(rec, &htype, 4);
    uint8_t handle[8] = {handle_byte, 0, 0, 0, 1, 2, 3, 4};
    Put(rec, handle, 8);
    if (type == FAN_EVENT_INFO_TYPE_DFID_NAME) Put(rec, name.c_str(), name.size() + 1);
    while (rec.size() % 4) rec.push_back(std::byte{0});
    uint16_t len = static_cast<uint16_t>(rec.size());
    std::memcpy(rec.data() + 2, &len, 2);
    body.insert(body.end(), rec.begin(), rec.end());
  }
  fanotify_event_metadata m{};
  m.vers = FANOTIFY_METADATA_VERSION;
  m.metadata_len = sizeof(m);
  m.event_len = static_cast<uint32_t>(sizeof(m) + body.size());
  m.mask = mask;
  m.fd = FAN_NOFD;
  m.pid = pid;
  std::vector<std::byte> out;
  Put(out, &m, sizeof(m));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

TEST(WatcherParsers, FanotifyRecords) {
  auto records = FanRecord(FAN_CREATE | FAN_MODIFY, 55,
                           {{FAN_EVENT_INFO_TYPE_DFID_NAME, 1, "f"}, {FAN_EVENT_INFO_TYPE_FID, 2, ""}});
  auto self = FanRecord(FAN_ATTRIB | FAN_ONDIR, 56, {{FAN_EVENT_INFO_TYPE_DFID_NAME, 3, "."}});
  records.insert(records.end(), self.begin(), self.end());
  auto overflow = FanRecord(FAN_Q_OVERFLOW, 0, {});
  records.insert(records.end(), overflow.begin(), overflow.end());
  auto events = SourceWatcher::ParseFanotify(records);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].flags, SourceEvent::kCreated | SourceEvent::kModified);
  EXPECT_EQ(events[0].pid, 55);
  EXPECT_EQ(events[0].fsid, 7u);
  EXPECT_EQ(events[0].dir, H(1));
  EXPECT_EQ(events[0].name, "f");
  EXPECT_EQ(events[0].object, H(2));
  EXPECT_EQ(events[1].flags, SourceEvent::kAttrib | SourceEvent::kIsDir);
  EXPECT_EQ(events[1].object, H(3)) << "a directory's own event: its DFID with \".\"";
  EXPECT_TRUE(events[1].dir.empty());
  EXPECT_TRUE(events[1].name.empty());
  EXPECT_EQ(events[2].flags, SourceEvent::kOverflow);
  // Truncated or lying lengths end the parse, never read past the buffer.
  for (size_t cut = 1; cut < records.size(); ++cut) {
    auto some = SourceWatcher::ParseFanotify(std::span(records).first(cut));
    EXPECT_LE(some.size(), 3u);
  }
}

TEST(WatcherParsers, InotifyRecords) {
  std::vector<std::byte> records;
  auto add = [&](int wd, uint32_t mask, std::string name) {
    inotify_event e{wd, mask, 0, static_cast<uint32_t>(name.empty() ? 0 : 16)};
    Put(records, &e, sizeof(e));
    std::string padded = name;
    padded.resize(e.len, '\0');
    Put(records, padded.data(), padded.size());
  };
  add(4, IN_CREATE | IN_ISDIR, "sub");
  add(4, IN_ATTRIB, "");
  add(9, IN_MODIFY, "gone");  // a watch the caller no longer knows
  add(-1, IN_Q_OVERFLOW, "");
  auto events = SourceWatcher::ParseInotify(records, [](int wd) { return wd == 4 ? 11u : 0u; });
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].flags, SourceEvent::kCreated | SourceEvent::kIsDir);
  EXPECT_EQ(events[0].dir_tag, 11u);
  EXPECT_EQ(events[0].name, "sub");
  EXPECT_EQ(events[1].flags, SourceEvent::kAttrib);
  EXPECT_TRUE(events[1].name.empty());
  EXPECT_EQ(events[2].flags, SourceEvent::kOverflow);
}

}  // namespace
}  // namespace passthroughfs
