#include "process_helpers.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "fusekit/unique_fd.h"
#include "mount_fixture.h"

namespace fusekit::testing {

namespace {

std::string ReadWhole(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "";
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv) {
  auto child = ChildServer::Start(argv, /*mountpoint=*/"");
  if (!child) return {};
  CommandResult result;
  result.status = child->WaitExit(std::chrono::seconds(30));
  result.output = child->Output();
  return result;
}

int RunShellAs(const std::string& user, const std::string& command) {
  std::string group = user == "nobody" ? "nogroup" : user;
  auto r = RunCommand(
      {"setpriv", "--reuid=" + user, "--regid=" + group, "--clear-groups", "sh", "-c", command});
  return r.status && WIFEXITED(*r.status) ? WEXITSTATUS(*r.status) : -1;
}

std::string DescribeStatus(std::optional<int> status) {
  if (!status) return "still running";
  if (WIFEXITED(*status)) return "exit " + std::to_string(WEXITSTATUS(*status));
  if (WIFSIGNALED(*status)) return std::string("killed by ") + strsignal(WTERMSIG(*status));
  return "status " + std::to_string(*status);
}

bool ExitedWith(std::optional<int> status, int code) {
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
}

pid_t FindAutoUnmountHelper(const std::string& mountpoint) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = ReadWhole(e.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.rfind("fusermount3 ", 0) == 0 &&
        cmdline.find("auto_unmount") != std::string::npos &&
        cmdline.find(" " + mountpoint + " ") != std::string::npos) {
      return static_cast<pid_t>(std::stoi(name));
    }
  }
  return -1;
}

bool ProcessRunning(pid_t pid) {
  std::string stat = ReadWhole("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

std::string FindInPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

bool UserAllowOther() {
  std::istringstream conf(ReadWhole("/etc/fuse.conf"));
  std::string line;
  while (std::getline(conf, line)) {
    auto start = line.find_first_not_of(" \t");
    if (start != std::string::npos && line.compare(start, 16, "user_allow_other") == 0) return true;
  }
  return false;
}

std::optional<UnprivilegedUser> UnprivilegedUser::Nobody(std::string* why) {
  if (::geteuid() != 0) return *why = "needs root to switch to another user", std::nullopt;
  if (FindInPath("setpriv").empty()) return *why = "no setpriv (util-linux) in PATH", std::nullopt;
  std::string fusermount = FindInPath("fusermount3");
  struct stat st;
  if (fusermount.empty() || ::stat(fusermount.c_str(), &st) != 0 || st.st_uid != 0 ||
      !(st.st_mode & S_ISUID)) {
    return *why = "no setuid-root fusermount3 (apt-get install fuse3)", std::nullopt;
  }
  const passwd* pw = ::getpwnam("nobody");
  if (pw == nullptr) return *why = "no user 'nobody'", std::nullopt;
  UnprivilegedUser user;
  user.uid_ = pw->pw_uid;
  user.gid_ = pw->pw_gid;
  // fusermount3 opens /dev/fuse with the user's own privileges.
  auto probe = RunCommand(user.AsUser({"test", "-r", "/dev/fuse", "-a", "-w", "/dev/fuse"}));
  if (!ExitedWith(probe.status, 0)) {
    *why = "user 'nobody' cannot open /dev/fuse (distributions make it 0666; here it is not): "
           "run the test through tests/integration/unprivileged_ns.sh, as ctest does";
    return std::nullopt;
  }
  return user;
}

std::vector<std::string> UnprivilegedUser::AsUser(std::vector<std::string> argv) const {
  std::vector<std::string> out = {"setpriv", "--reuid=" + std::to_string(uid_),
                                  "--regid=" + std::to_string(gid_), "--clear-groups"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string UnprivilegedUser::CopyExecutable(const std::string& binary, const std::string& dir) {
  std::string bytes = ReadWhole(binary);
  if (bytes.rfind("\x7f" "ELF", 0) != 0) return "";
  std::string copy = dir + "/" + std::filesystem::path(binary).filename().string();
  UniqueFd out(::open(copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755));
  if (!out) return "";
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(out.get(), bytes.data() + done, bytes.size() - done);
    if (n <= 0) return "";
    done += static_cast<size_t>(n);
  }
  return copy;
}

}  // namespace fusekit::testing
