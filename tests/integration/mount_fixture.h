// Real-mount test fixture: temp dirs, in-process mounts and child-process
// servers that never leave a mount or a process behind.
//
// Everything here mounts below a fresh directory under /tmp and tears down
// even when the test fails: mounts are detached lazily, and a connection
// whose server hangs is aborted through fusectl
// (/sys/fs/fuse/connections/N/abort) so that nothing blocks forever.
//
// Thread-safety: none of these objects is thread-safe; use each from one
// thread (InProcessMount serves on its own thread internally).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fusekit/mount.h"
#include "fusekit/operations.h"
#include "fusekit/session.h"
#include "fusekit/unique_fd.h"

namespace fusekit::testing {

// A fresh directory under /tmp (mkdtemp). The destructor lazily unmounts
// whatever is still mounted below it, then removes the tree without
// crossing into any mount.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // Creates the directory path()/name (mode 0755, fine if it exists) and
  // returns its path.
  std::string Sub(const std::string& name) const;

 private:
  std::string path_;
};

// Whether something is mounted exactly at `path`, from /proc/self/mountinfo.
// Never touches the mount itself, so it cannot hang on a dead server.
bool IsMounted(const std::string& path);

// Polls `pred` until it is true or `timeout` passed; returns its last value.
bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// Serves `ops` in-process on a fresh mount under a temp dir, Run() on its
// own thread. `ops` must outlive this object.
class InProcessMount {
 public:
  // Returns once INIT is answered (so that what Operations::Init recorded
  // may be read). Fails the test (ADD_FAILURE) and returns nullptr when it
  // cannot mount or the session does not answer INIT within 10 s.
  static std::unique_ptr<InProcessMount> Start(Operations& ops, Config config = {},
                                               MountOptions options = {});
  InProcessMount(const InProcessMount&) = delete;
  InProcessMount& operator=(const InProcessMount&) = delete;
  ~InProcessMount();  // Stop() if not stopped

  const std::string& path() const { return path_; }  // the mount point
  Session& session() { return *session_; }
  Mount& mount() { return *mount_; }

  // Unmounts and joins the Run thread. If Run does not return within 10 s,
  // aborts the connection via fusectl and then joins; returns false if it
  // had to abort (or if Run failed). Idempotent.
  bool Stop();

 private:
  InProcessMount() = default;

  TempDir tmp_;
  std::string path_;
  std::unique_ptr<Mount> mount_;
  std::unique_ptr<Session> session_;
  std::thread thread_;
  struct RunState;
  std::shared_ptr<RunState> run_;
  bool stopped_ = false;
  bool clean_ = true;
};

// Runs a server binary as a child process (posix_spawn), its stdout and
// stderr captured together. `mountpoint` is where it mounts, cleaned up by
// the destructor; empty for a plain command that mounts nothing.
class ChildServer {
 public:
  static std::unique_ptr<ChildServer> Start(std::vector<std::string> argv,
                                            const std::string& mountpoint);
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;
  // SIGKILL if still running, reap, then make sure the mount point is not
  // left mounted (detach; if that hangs, abort the connection first).
  ~ChildServer();

  // True once the mount point shows in mountinfo; false on timeout or if
  // the child exited first.
  bool WaitMounted(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // The raw wait status, nullopt on timeout. May be called again after the
  // child exited: returns the same status.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  // What it printed so far (stdout and stderr interleaved).
  std::string Output() const;

 private:
  ChildServer() = default;
  bool Reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string mountpoint_;
  std::string command_;
  UniqueFd output_;  // a memfd: nothing to clean up on disk
};

// The path of a built example or program, e.g. BinaryPath("hello"): looked
// up in examples/ and src/passthroughfs/ below the build directory. Fails
// the test and returns "" when it is not there.
std::string BinaryPath(const std::string& name);

size_t CountOpenFds();   // entries in /proc/self/fd
size_t CountThreads();   // entries in /proc/self/task

}  // namespace fusekit::testing
