// -o audit=PATH at a real passthroughfs mount: a scripted run of every kind
// of change gives exactly its records (paths below SOURCE, the caller, the
// result), denials included; a stress load with a logrotate cycle in the
// middle loses no record; a required trail that cannot be written refuses
// changes; a bad path mounts nothing. With kernel passthrough and with
// passthrough=never.
#include <fcntl.h>
#include <linux/fs.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mount_fixture.h"
#include "process_helpers.h"

namespace fusekit::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

std::vector<Json> ReadRecords(const std::string& path) {
  std::ifstream in(path);
  std::vector<Json> records;
  for (std::string line; std::getline(in, line);) {
    auto record = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(record.is_discarded()) << "not JSON: " << line;
    records.push_back(record);
  }
  return records;
}

// "op path [second path] -> result", the part of a record a script decides.
std::string Summary(const Json& r) {
  std::string s = r.value("op", "?") + " " + r.value("path", "?");
  for (const char* key : {"new_path", "target", "from"})
    if (r.contains(key)) s += std::string(" ") + key + "=" + r[key].get<std::string>();
  return s + " -> " + std::to_string(r.value("result", -1));
}

class AuditMount : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown, other users)";
    ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
    source_ = tmp_.Sub("source");
    mnt_ = tmp_.Sub("mnt");
    log_ = tmp_.path() + "/audit.log";
    std::ofstream(source_ + "/file") << "0123456789";
  }

  void Mount(const std::string& options) {
    child_ = ChildServer::Start({BinaryPath("passthroughfs"), "-f", "-o",
                                 "audit=" + log_ + "," + options + "," + GetParam(), source_,
                                 mnt_},
                                mnt_);
    ASSERT_NE(child_, nullptr);
    ASSERT_TRUE(child_->WaitMounted()) << child_->Output();
  }

  // Unmounts as a user would; the daemon writes what is queued and exits.
  void Unmount() {
    ASSERT_EQ(RunCommand({"umount", mnt_}).status, 0);
    auto status = child_->WaitExit(10s);
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << DescribeStatus(status) << "\n" << child_->Output();
  }

  std::string M(const std::string& name) const { return mnt_ + "/" + name; }

  int As(const std::string& user, const std::string& command) { return RunShellAs(user, command); }

  TempDir tmp_;
  std::string source_, mnt_, log_;
  std::unique_ptr<ChildServer> child_;
};

TEST_P(AuditMount, EveryKindOfChangeGivesExactlyItsRecord) {
  // no_default_permissions: the daemon itself refuses nobody's chmod.
  ASSERT_NO_FATAL_FAILURE(Mount("allow_other,no_default_permissions"));
  int fd = ::open(M("new").c_str(), O_CREAT | O_EXCL | O_WRONLY, 0640);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::write(fd, "hello", 5), 5);
  ASSERT_EQ(::close(fd), 0);
  ASSERT_EQ(::mknod(M("fifo").c_str(), S_IFIFO | 0600, 0), 0);
  ASSERT_EQ(::mkdir(M("sub").c_str(), 0750), 0);
  ASSERT_EQ(::symlink("some/target", M("sub/link").c_str()), 0);
  ASSERT_EQ(::link(M("new").c_str(), M("sub/hard").c_str()), 0);
  ASSERT_EQ(::renameat2(AT_FDCWD, M("sub/hard").c_str(), AT_FDCWD, M("renamed").c_str(),
                        RENAME_NOREPLACE),
            0);
  ASSERT_EQ(::chmod(M("new").c_str(), 0600), 0);
  ASSERT_EQ(::chown(M("new").c_str(), 1, 2), 0);
  ASSERT_EQ(::truncate(M("new").c_str(), 3), 0);
  timespec times[2] = {{1000, 5}, {2000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, M("new").c_str(), times, 0), 0);
  ASSERT_EQ(::setxattr(M("new").c_str(), "user.k", "v", 1, XATTR_CREATE), 0);
  ASSERT_EQ(::removexattr(M("new").c_str(), "user.k"), 0);
  fd = ::open(M("new").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fallocate(fd, 0, 0, 4096), 0) << std::strerror(errno);
  int from = ::open(M("file").c_str(), O_RDONLY);  // read-only: no record
  ASSERT_GE(from, 0);
  loff_t in_off = 2, out_off = 0;
  ASSERT_EQ(::copy_file_range(from, &in_off, fd, &out_off, 4, 0), 4) << std::strerror(errno);
  ::close(from);
  ::close(fd);
  fd = ::open(M("file").c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0);
  ::close(fd);
  // Refused by SOURCE: recorded with nobody's uid and the errno.
  EXPECT_NE(As("nobody", "chmod 777 " + M("file") + " 2>/dev/null"), 0);
  ASSERT_EQ(::unlink(M("renamed").c_str()), 0);
  ASSERT_EQ(::unlink(M("fifo").c_str()), 0);
  ASSERT_EQ(::unlink(M("sub/link").c_str()), 0);
  ASSERT_EQ(::rmdir(M("sub").c_str()), 0);
  ASSERT_NO_FATAL_FAILURE(Unmount());

  auto records = ReadRecords(log_);
  std::vector<std::string> got;
  for (const Json& r : records) got.push_back(Summary(r));
  std::vector<std::string> want = {
      "create new -> 0",
      "mknod fifo -> 0",
      "mkdir sub -> 0",
      "symlink sub/link target=some/target -> 0",
      "link sub/hard target=new -> 0",
      "rename sub/hard new_path=renamed -> 0",
      "setattr new -> 0",  // chmod
      "setattr new -> 0",  // chown
      "setattr new -> 0",  // truncate
      "setattr new -> 0",  // utimensat
      "setxattr new -> 0",
      "removexattr new -> 0",
      "open new -> 0",
      "fallocate new -> 0",
      "copy_file_range new from=file -> 0",
      "open file -> 0",
      "setattr file -> " + std::to_string(EPERM),
      "unlink renamed -> 0",
      "unlink fifo -> 0",
      "unlink sub/link -> 0",
      "rmdir sub -> 0",
  };
  ASSERT_EQ(got, want);
  const uid_t nobody = ::getpwnam("nobody")->pw_uid;
  for (size_t i = 0; i < records.size(); ++i) {
    const Json& r = records[i];
    bool by_nobody = i == 16;
    EXPECT_EQ(r["uid"], by_nobody ? nobody : 0u) << got[i];
    if (!by_nobody) {
      EXPECT_EQ(r["pid"], ::getpid()) << got[i];
      EXPECT_EQ(r["comm"], "audit_tests") << got[i];
    } else {
      EXPECT_EQ(r["comm"], "chmod");
      EXPECT_EQ(r["error"], "EPERM");
    }
    EXPECT_EQ(r["time"].get<std::string>().size(), std::string("2026-12-07T10:00:00.000000Z").size());
  }
  EXPECT_EQ(records[0]["mode"], "0640");
  EXPECT_EQ(records[0]["flags"], Json::array({"wronly", "creat", "excl"}));
  EXPECT_EQ(records[1]["mode"], "0600");
  EXPECT_EQ(records[1]["type"], "fifo");
  EXPECT_EQ(records[2]["mode"], "0750");
  EXPECT_EQ(records[5]["flags"], Json::array({"noreplace"}));
  EXPECT_EQ(records[6]["mode"], "0600");
  EXPECT_EQ(records[7]["uid"], 0);  // the caller's; the new owner is "owner"
  EXPECT_EQ(records[7]["owner"], 1);
  EXPECT_EQ(records[7]["group"], 2);
  EXPECT_EQ(records[8]["size"], 3);
  EXPECT_EQ(records[9]["atime"], 1000.000000005);
  EXPECT_EQ(records[9]["mtime"], 2000.0);
  EXPECT_EQ(records[10]["name"], "user.k");
  EXPECT_EQ(records[10]["flags"], Json::array({"create"}));
  EXPECT_EQ(records[12]["flags"], Json::array({"rdwr"}));
  EXPECT_EQ(records[13]["length"], 4096);
  EXPECT_EQ(records[14]["offset_in"], 2);
  EXPECT_EQ(records[14]["length"], 4);
  EXPECT_EQ(records[15]["flags"], Json::array({"wronly", "trunc"}));
  EXPECT_EQ(records[16]["mode"], "0777");
}

// A change a policy denies is a change: recorded with its errno, and
// SOURCE untouched.
TEST_P(AuditMount, ADenialByAPolicyIsRecorded) {
  ASSERT_NO_FATAL_FAILURE(Mount("delete-deny,rename-deny"));
  EXPECT_NE(::unlink(M("file").c_str()), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(::rename(M("file").c_str(), M("moved").c_str()), 0);
  ASSERT_NO_FATAL_FAILURE(Unmount());
  struct stat st;
  EXPECT_EQ(::stat((source_ + "/file").c_str(), &st), 0);
  std::vector<std::string> got;
  for (const Json& r : ReadRecords(log_)) got.push_back(Summary(r));
  EXPECT_EQ(got, (std::vector<std::string>{"unlink file -> " + std::to_string(EPERM),
                                           "rename file new_path=moved -> " +
                                               std::to_string(EPERM)}));
}

// Four writers making and removing files while the log is rotated (moved
// aside, then SIGHUP): every change is in one of the two files, once.
TEST_P(AuditMount, AStressLoadWithALogrotateLosesNoRecord) {
  ASSERT_NO_FATAL_FAILURE(Mount("rw"));
  constexpr int kWriters = 4, kFiles = 600;
  std::atomic<int> done_files{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kFiles; ++i) {
        std::string name = M("w" + std::to_string(w) + "-" + std::to_string(i));
        int fd = ::open(name.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (fd < 0 || ::write(fd, "x", 1) != 1) failures++;
        if (fd >= 0) ::close(fd);
        if (::rename(name.c_str(), (name + ".done").c_str()) != 0) failures++;
        if (::unlink((name + ".done").c_str()) != 0) failures++;
        done_files++;
      }
    });
  }
  // Rotate once a third of the work is done, as logrotate would.
  while (done_files < kWriters * kFiles / 3) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(::rename(log_.c_str(), (log_ + ".1").c_str()), 0);
  child_->Signal(SIGHUP);
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_NO_FATAL_FAILURE(Unmount());
  auto before = ReadRecords(log_ + ".1");
  auto after = ReadRecords(log_);
  EXPECT_GT(before.size(), 0u);
  EXPECT_GT(after.size(), 0u) << "SIGHUP did not reopen the log";
  std::map<std::string, int> seen;
  for (const auto* part : {&before, &after})
    for (const Json& r : *part) seen[Summary(r)]++;
  EXPECT_EQ(before.size() + after.size(), size_t{3} * kWriters * kFiles);
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kFiles; ++i) {
      std::string name = "w" + std::to_string(w) + "-" + std::to_string(i);
      for (const std::string& want : {"create " + name + " -> 0",
                                      "rename " + name + " new_path=" + name + ".done -> 0",
                                      "unlink " + name + ".done -> 0"}) {
        EXPECT_EQ(seen[want], 1) << want;
      }
    }
  }
}

// audit-required with a trail that cannot be written (a symlink to
// /dev/full, every write ENOSPC): changes fail with EIO and leave SOURCE
// as it was; once writing works again (the link now names a file: the
// trail reopens its path while it fails), they go through, and the
// records held meanwhile are written.
TEST_P(AuditMount, ARequiredTrailThatCannotBeWrittenRefusesChanges) {
  std::string real_log = log_ + ".real";
  ASSERT_EQ(::symlink("/dev/full", log_.c_str()), 0);
  ASSERT_NO_FATAL_FAILURE(Mount("audit-required"));
  ASSERT_EQ(::mkdir(M("first").c_str(), 0755), 0);  // recorded, then the write fails
  bool refused = false;
  for (int i = 0; i < 500 && !refused; ++i) {
    std::this_thread::sleep_for(10ms);
    refused = ::mkdir(M("second").c_str(), 0755) != 0 && errno == EIO;
  }
  ASSERT_TRUE(refused) << "changes still accepted while the trail cannot be written";
  struct stat st;
  EXPECT_NE(::stat((source_ + "/second").c_str(), &st), 0);
  EXPECT_EQ(::open(M("file").c_str(), O_WRONLY), -1);
  EXPECT_EQ(errno, EIO);
  int fd = ::open(M("file").c_str(), O_RDONLY);  // reading is no change
  EXPECT_GE(fd, 0);
  if (fd >= 0) ::close(fd);
  std::ofstream(real_log).flush();
  ASSERT_EQ(::unlink(log_.c_str()), 0);
  ASSERT_EQ(::symlink(real_log.c_str(), log_.c_str()), 0);
  bool accepted = false;
  for (int i = 0; i < 500 && !accepted; ++i) {
    std::this_thread::sleep_for(10ms);
    accepted = ::mkdir(M("third").c_str(), 0755) == 0;
  }
  ASSERT_TRUE(accepted) << child_->Output();
  ASSERT_NO_FATAL_FAILURE(Unmount());
  std::vector<std::string> got;
  for (const Json& r : ReadRecords(real_log)) got.push_back(Summary(r));
  EXPECT_EQ(got, (std::vector<std::string>{"mkdir first -> 0", "mkdir third -> 0"}));
}

INSTANTIATE_TEST_SUITE_P(Modes, AuditMount, ::testing::Values("passthrough=auto", "passthrough=never"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           return std::string(p.param) == "passthrough=auto" ? "Passthrough"
                                                                              : "PassthroughNever";
                         });

TEST(AuditOption, AFileThatCannotBeOpenedMountsNothing) {
  TempDir tmp;
  std::string source = tmp.Sub("source"), mnt = tmp.Sub("mnt");
  auto r = RunCommand({BinaryPath("passthroughfs"), "-o", "audit=" + tmp.path() + "/no/such/log",
                       source, mnt});
  EXPECT_TRUE(ExitedWith(r.status, 2)) << DescribeStatus(r.status);
  EXPECT_NE(r.output.find("-o audit=" + tmp.path() + "/no/such/log: No such file or directory"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(IsMounted(mnt));
}

}  // namespace
}  // namespace fusekit::testing
