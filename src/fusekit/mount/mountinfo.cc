#include "fusekit/mountinfo.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "fusekit/unique_fd.h"

namespace fusekit {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 3).c_str(), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Not ifstream: its fd would lack O_CLOEXEC.
std::string ReadWholeFile(const char* path) {
  std::string out;
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

std::vector<MountInfoEntry> ReadMountInfo() {
  std::vector<MountInfoEntry> mounts;
  std::istringstream in(ReadWholeFile("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, field, source;
    MountInfoEntry entry;
    fields >> id >> parent >> dev >> root >> point >> entry.mount_options;
    // Optional fields run up to the "-" separator.
    while (fields >> field && field != "-") {
    }
    fields >> entry.fstype >> source >> entry.super_options;
    entry.point = Unescape(point);
    entry.source = Unescape(source);
    entry.id = static_cast<unsigned>(std::strtoul(id.c_str(), nullptr, 10));
    entry.parent_id = static_cast<unsigned>(std::strtoul(parent.c_str(), nullptr, 10));
    if (auto colon = dev.find(':'); colon != std::string::npos) {
      entry.major = static_cast<unsigned>(std::strtoul(dev.c_str(), nullptr, 10));
      entry.minor = static_cast<unsigned>(std::strtoul(dev.c_str() + colon + 1, nullptr, 10));
    }
    mounts.push_back(std::move(entry));
  }
  return mounts;
}

std::optional<MountInfoEntry> FindMount(const std::string& canonical_path) {
  // Mounts stacked at one path: the topmost is the one no other mount
  // there is mounted on.
  std::vector<MountInfoEntry> here;
  for (auto& m : ReadMountInfo()) {
    if (m.point == canonical_path) here.push_back(std::move(m));
  }
  for (auto& m : here) {
    bool covered = false;
    for (auto& other : here) covered |= other.parent_id == m.id;
    if (!covered) return std::move(m);
  }
  return std::nullopt;
}

unsigned MountIdOf(int fd) {
  std::string info = ReadWholeFile(("/proc/self/fdinfo/" + std::to_string(fd)).c_str());
  auto at = info.find("mnt_id:");
  if (at == std::string::npos) return 0;
  return static_cast<unsigned>(std::strtoul(info.c_str() + at + 7, nullptr, 10));
}

}  // namespace fusekit
