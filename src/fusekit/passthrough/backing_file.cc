#include "fusekit/backing_file.h"

#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/log.h"

namespace fusekit {

Result<BackingFile> BackingFile::Open(std::shared_ptr<const UniqueFd> device, int fd) {
  if (!device || !device->valid()) return Fail(EBADF);
  abi::fuse_backing_map map{fd, 0, 0};
  int id = ::ioctl(device->get(), abi::FUSE_DEV_IOC_BACKING_OPEN, &map);
  if (id < 0) return FailLast();
  // 0 is not a valid id; a kernel that returns it has not registered anything.
  if (id == 0) return Fail(EIO);
  return BackingFile(std::move(device), BackingId(id));
}

BackingFile::BackingFile(BackingFile&& other) noexcept
    : device_(std::move(other.device_)), id_(other.id_) {}

BackingFile& BackingFile::operator=(BackingFile&& other) noexcept {
  if (this != &other) {
    (void)Close();
    device_ = std::move(other.device_);
    id_ = other.id_;
  }
  return *this;
}

BackingFile::~BackingFile() {
  auto status = Close();
  // After unmount the connection is gone and so is the id: not an error.
  if (!status && status.error().value() != ENOTCONN && status.error().value() != ENODEV) {
    LogWarn("closing backing id {} failed: {}", id_.value, status.error().message());
  }
}

Status BackingFile::Close() {
  if (!device_) return Ok();
  uint32_t id = static_cast<uint32_t>(id_.value);
  int r = ::ioctl(device_->get(), abi::FUSE_DEV_IOC_BACKING_CLOSE, &id);
  device_.reset();
  if (r < 0) return FailLast();
  return Ok();
}

bool BackingFile::MayRegister() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  if ((data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32))) == 0) return false;
  // A capability held in a user namespace of our own does not count: the
  // initial namespace maps every id to itself.
  std::ifstream map("/proc/self/uid_map");
  std::string inside, outside, count;
  map >> inside >> outside >> count;
  return inside == "0" && outside == "0" && count == "4294967295";
}

}  // namespace fusekit
