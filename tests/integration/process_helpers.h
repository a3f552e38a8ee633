// Commands run as children, and an unprivileged user to run them as: what
// the tests of non-root mounts (through fusermount3) share.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace fusekit::testing {

// A command that mounts nothing: its wait status (nullopt if it did not
// end within 30 s; it is then killed) and output.
struct CommandResult {
  std::optional<int> status;
  std::string output;
};
CommandResult RunCommand(const std::vector<std::string>& argv);

// `command` run by sh as `user` (a name; its group of the same name, or
// nogroup for nobody; no supplementary groups): its exit status, -1 if it
// did not exit.
int RunShellAs(const std::string& user, const std::string& command);

std::string DescribeStatus(std::optional<int> status);
bool ExitedWith(std::optional<int> status, int code);

// The fusermount3 process that watches `mountpoint` for auto_unmount, or -1.
pid_t FindAutoUnmountHelper(const std::string& mountpoint);
// Alive and not a zombie (a reparented helper may wait to be reaped).
bool ProcessRunning(pid_t pid);
std::string FindInPath(const std::string& program);
// Whether /etc/fuse.conf lets users mount with allow_other.
bool UserAllowOther();

// The user 'nobody', for commands run through setpriv. Nobody() says why
// not (for GTEST_SKIP) when this machine cannot give an unprivileged user a
// FUSE mount: not root, no setpriv, no setuid-root fusermount3, or a
// /dev/fuse the user cannot open (tests/integration/unprivileged_ns.sh
// makes one that it can, in a private mount namespace).
class UnprivilegedUser {
 public:
  static std::optional<UnprivilegedUser> Nobody(std::string* why);

  uid_t uid() const { return uid_; }
  gid_t gid() const { return gid_; }
  // argv, run as this user with no supplementary groups.
  std::vector<std::string> AsUser(std::vector<std::string> argv) const;
  // A copy of `binary` in `dir` (which the user can reach, unlike the build
  // tree or root's 0700 temp dirs), mode 0755; "" on failure.
  static std::string CopyExecutable(const std::string& binary, const std::string& dir);

 private:
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

}  // namespace fusekit::testing
