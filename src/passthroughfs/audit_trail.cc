#include "audit_trail.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "fusekit/log.h"

namespace passthroughfs {

using fusekit::Errno;
using fusekit::LogError;
using fusekit::LogInfo;
using fusekit::LogWarn;
using fusekit::UniqueFd;

namespace {

// The length of the well-formed UTF-8 sequence at the start of `s`, or 0
// (overlong forms, surrogates and code points past U+10FFFF are not).
size_t Utf8SequenceLength(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = byte(0);
  size_t length;
  uint32_t code;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    length = 2, code = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3, code = b0 & 0x0f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4, code = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i) & 0x3f);
  }
  if ((length == 3 && code < 0x800) || (length == 4 && code < 0x10000) || code > 0x10ffff ||
      (code >= 0xd800 && code <= 0xdfff))
    return 0;
  return length;
}

void AppendEscaped(std::string& out, std::string_view text) {
  out += '"';
  while (!text.empty()) {
    unsigned char c = static_cast<unsigned char>(text[0]);
    size_t n = Utf8SequenceLength(text);
    char escape[8];
    if (n == 0) {
      std::snprintf(escape, sizeof(escape), "\\udc%02x", c);
      out += escape;
      n = 1;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      std::snprintf(escape, sizeof(escape), "\\u%04x", c);
      out += escape;
    } else {
      out.append(text.substr(0, n));
    }
    text.remove_prefix(n);
  }
  out += '"';
}

void AppendKey(std::string& out, std::string_view key) {
  out += ',';
  AppendEscaped(out, key);
  out += ':';
}

// How long the writer lets records gather before it writes them.
constexpr std::chrono::milliseconds kGather(5);

}  // namespace

std::string JsonString(std::string_view text) {
  std::string out;
  AppendEscaped(out, text);
  return out;
}

std::string FormatAuditLine(const AuditRecord& r) {
  struct tm utc;
  ::gmtime_r(&r.time.tv_sec, &utc);
  char time[96];
  std::snprintf(time, sizeof(time), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                r.time.tv_nsec / 1000);
  std::string out = "{\"time\":\"";
  out += time;
  out += '"';
  AuditMembers head;
  head.Add("uid", uint64_t{r.uid}).Add("gid", uint64_t{r.gid}).Add("pid", uint64_t{r.pid});
  head.Add("comm", r.comm).Add("op", r.op).Add("path", r.path);
  if (!r.path2_key.empty()) head.Add(r.path2_key, r.path2);
  out += head.Take();
  out += r.details;
  AuditMembers tail;
  tail.Add("result", uint64_t(r.error));
  if (r.error != 0) {
    const char* name = ::strerrorname_np(r.error);
    tail.Add("error", name != nullptr ? name : std::to_string(r.error));
  }
  out += tail.Take();
  out += "}\n";
  return out;
}

AuditMembers& AuditMembers::Add(std::string_view key, std::string_view value) {
  AppendKey(text_, key);
  AppendEscaped(text_, value);
  return *this;
}

AuditMembers& AuditMembers::Add(std::string_view key, uint64_t value) {
  AppendKey(text_, key);
  text_ += std::to_string(value);
  return *this;
}

AuditMembers& AuditMembers::AddOctal(std::string_view key, uint32_t value) {
  char octal[16];
  std::snprintf(octal, sizeof(octal), "%04o", value);
  return Add(key, std::string_view(octal));
}

AuditMembers& AuditMembers::AddRaw(std::string_view key, std::string_view json) {
  AppendKey(text_, key);
  text_ += json;
  return *this;
}

namespace {

fusekit::Result<UniqueFd> OpenForAppend(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600));
  if (!fd) return fusekit::Fail(Errno::Last());
  return fd;
}

}  // namespace

fusekit::Result<std::unique_ptr<AuditTrail>> AuditTrail::Open(const Options& options) {
  auto fd = OpenForAppend(options.path);
  if (!fd) return fusekit::Fail(fd.error());
  return std::unique_ptr<AuditTrail>(new AuditTrail(options, std::move(*fd)));
}

AuditTrail::AuditTrail(const Options& options, UniqueFd fd)
    : options_(options), fd_(std::move(fd)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

AuditTrail::~AuditTrail() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  work_.notify_one();
  writer_.join();
  if (fd_) ::fdatasync(fd_.get());
}

void AuditTrail::Record(const AuditRecord& record) {
  std::string line = FormatAuditLine(record);
  std::unique_lock lock(mutex_);
  if (queue_.size() >= options_.queue_capacity) {
    ++counts_.waited;
    room_.wait(lock, [&] { return queue_.size() < options_.queue_capacity || stop_; });
  }
  queue_.push_back(std::move(line));
  bool was_empty = queue_.size() == 1;
  lock.unlock();
  if (was_empty) work_.notify_one();
}

void AuditTrail::Reopen() {
  {
    std::lock_guard lock(mutex_);
    reopen_ = true;
  }
  work_.notify_one();
}

AuditTrail::Counts AuditTrail::counts() const {
  std::lock_guard lock(mutex_);
  Counts c = counts_;
  c.queued = queue_.size();
  return c;
}

bool AuditTrail::OpenAgain() {
  auto fd = OpenForAppend(options_.path);
  if (!fd) {
    LogWarn("audit {}: cannot reopen: {}; writing on to the file open before",
            options_.path, fd.error().message());
    return false;
  }
  fd_ = std::move(*fd);
  return true;
}

bool AuditTrail::WriteAll(const std::string& batch) {
  size_t done = 0;
  while (done < batch.size()) {
    ssize_t n = ::write(fd_.get(), batch.data() + done, batch.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

void AuditTrail::WriterLoop() {
  ::pthread_setname_np(::pthread_self(), "audit-writer");
  // Lines taken from the queue and not yet written. While they wait for a
  // failing file, nothing more is taken, so the queue stays the bound.
  std::string batch;
  size_t batch_records = 0;
  bool failing = false;
  int stop_tries = 0;
  for (;;) {
    bool reopen = false;
    {
      std::unique_lock lock(mutex_);
      auto ready = [&] { return stop_ || reopen_ || (!queue_.empty() && batch.empty()); };
      if (failing) {
        // Not woken by stop_: at exit, too, a failing file gets its pause.
        work_.wait_for(lock, options_.retry,
                       [&] { return reopen_ || (!queue_.empty() && batch.empty()); });
      } else if (batch.empty()) {
        work_.wait(lock, ready);
        // Let a burst gather (a record is queued per change, one at a
        // time by a single-threaded tar): one write and one wakeup per
        // few milliseconds, not per record.
        work_.wait_for(lock, kGather, [&] {
          return stop_ || reopen_ || queue_.size() >= options_.queue_capacity / 2;
        });
      }
      if (stop_ && queue_.empty() && batch.empty()) return;
      reopen = std::exchange(reopen_, false);
      if (batch.empty()) {
        while (!queue_.empty()) {
          batch += queue_.front();
          queue_.pop_front();
          ++batch_records;
        }
        room_.notify_all();
      }
    }
    // A failing file is opened again before each try: the path may name a
    // new file by now, or the old one may work again.
    if (reopen || failing) OpenAgain();
    if (batch.empty()) continue;
    if (WriteAll(batch)) {
      if (failing) LogInfo("audit {}: writing works again", options_.path);
      failing = false;
      refusing_.store(false, std::memory_order_relaxed);
      std::lock_guard lock(mutex_);
      counts_.written += batch_records;
      counts_.failing = false;
      batch.clear();
      batch_records = 0;
      continue;
    }
    int error = errno;
    if (!failing) {
      LogError("audit {}: cannot write: {}{}", options_.path, std::strerror(error),
               options_.required ? "; changes through the mount are refused (EIO) until it works"
                                 : "; records are lost until it works");
    }
    failing = true;
    refusing_.store(options_.required, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    ++counts_.write_errors;
    counts_.failing = true;
    bool give_up = stop_ && ++stop_tries > 5;
    if (!options_.required || give_up) {
      if (give_up) LogError("audit {}: {} records not written at exit", options_.path,
                            batch_records + queue_.size());
      counts_.lost += batch_records;
      batch.clear();
      batch_records = 0;
      if (give_up) {
        counts_.lost += queue_.size();
        queue_.clear();
        return;
      }
    }
  }
}

}  // namespace passthroughfs
