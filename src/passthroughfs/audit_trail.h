// AuditTrail: the record of changes made through the mount (-o audit=PATH),
// one JSON object per line.
//
// Requests format their record and queue it; one writer thread appends the
// queue to the file in batches, so that a request never waits for the disk
// unless the queue is full. Then it waits: a record is never dropped for
// want of room.
//
// When the file cannot be written (ENOSPC, EIO, ...), the trail logs it once
// and retries, reopening the path, until it works again. What happens
// meanwhile is the caller's choice:
// - required (-o audit-required): the records already queued are kept and
//   written once writing works; Refusing() tells the filesystem to refuse
//   mutations (EIO) until then. No record is lost.
// - otherwise: the records that could not be written are counted as lost,
//   and the mount goes on.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "fusekit/result.h"
#include "fusekit/unique_fd.h"

namespace passthroughfs {

// One change, as it is written.
struct AuditRecord {
  timespec time{};  // CLOCK_REALTIME
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t pid = 0;
  std::string comm;  // the process name (/proc/PID/comm), empty if gone
  std::string_view op;  // "create", "rename", ... (a literal)
  std::string path;     // below SOURCE, "." for its root
  // A second path where the operation has one: "new_path" (rename),
  // "target" (link: the existing file; symlink: its contents), "from"
  // (copy_file_range: the file read). Empty key: none.
  std::string_view path2_key;
  std::string path2;
  // Further members, already JSON, each starting with ',' (AuditMembers).
  std::string details;
  int error = 0;  // the result: 0, or the errno the caller got
};

// The record as one line of JSON, '\n' included. Strings are escaped as JSON
// asks; bytes that are not UTF-8 (a file name may hold any byte but '/'
// and NUL) are written as \udcXX, Python's surrogateescape, so that the
// exact name can be recovered.
std::string FormatAuditLine(const AuditRecord& record);

// `text` as a JSON string, quotes included (the escaping of FormatAuditLine).
std::string JsonString(std::string_view text);

// Builds AuditRecord::details.
class AuditMembers {
 public:
  AuditMembers& Add(std::string_view key, std::string_view string_value);
  AuditMembers& Add(std::string_view key, uint64_t value);
  AuditMembers& AddOctal(std::string_view key, uint32_t value);
  // `json` is written as it is (an array, an object, true).
  AuditMembers& AddRaw(std::string_view key, std::string_view json);
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

class AuditTrail {
 public:
  struct Options {
    std::string path;
    bool required = false;
    size_t queue_capacity = 4096;  // records
    std::chrono::milliseconds retry{200};  // between tries while failing
  };

  // Opens (creates, mode 0600) `options.path` for appending: an error names
  // the path and errno, before anything is mounted.
  static fusekit::Result<std::unique_ptr<AuditTrail>> Open(const Options& options);
  // Writes what is queued (trying for a few retries if writing fails), then
  // syncs the file.
  ~AuditTrail();
  AuditTrail(const AuditTrail&) = delete;
  AuditTrail& operator=(const AuditTrail&) = delete;

  // Queues `record`; waits while the queue is full.
  void Record(const AuditRecord& record);
  // Writing fails and the trail is required: changes must be refused.
  bool Refusing() const { return refusing_.load(std::memory_order_relaxed); }
  // Reopens the path before the next write (SIGHUP, after logrotate moved
  // the file). Records queued before are written to the old file or the new
  // one, never lost. If the path cannot be opened, the old file stays.
  void Reopen();

  struct Counts {
    uint64_t written = 0;
    uint64_t lost = 0;          // not required, and not written
    uint64_t waited = 0;        // records that waited for room in the queue
    uint64_t write_errors = 0;  // failed writes, retries included
    size_t queued = 0;
    bool failing = false;
  };
  Counts counts() const;

 private:
  AuditTrail(const Options& options, fusekit::UniqueFd fd);
  void WriterLoop();
  // Writes `batch` whole: false (errno set) if the file refuses it.
  bool WriteAll(const std::string& batch);
  // Opens the path again; keeps the current file if it cannot.
  bool OpenAgain();

  const Options options_;
  fusekit::UniqueFd fd_;  // the writer thread's, once it runs
  std::atomic<bool> refusing_{false};

  mutable std::mutex mutex_;
  std::condition_variable work_;  // the writer: records, a reopen, or stop
  std::condition_variable room_;  // requests: the queue has room
  std::deque<std::string> queue_;
  bool reopen_ = false;
  bool stop_ = false;
  Counts counts_;
  std::thread writer_;
};

}  // namespace passthroughfs
