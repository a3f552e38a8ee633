#!/usr/bin/env bash
# The Debian packages installed with dpkg and used as a user would: in a
# private mount namespace whose /usr, /etc and /var are overlays on the
# real ones, so that the machine's own stay untouched (all of it is gone
# when the namespace ends). There: dpkg -i, `mount -t fuse.passthroughfs`,
# an fstab line (mount -T), umount, man -w, and examples/consumer built
# against the packaged library with find_package and pkg-config.
#   deb_test.sh DEB_DIR
set -euo pipefail
debs=$(cd "$1" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "deb_test: needs root"; exit 1; }
tmp=$(mktemp -d /var/tmp/fusekit-deb-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

unshare -m --propagation private env DEBS="$debs" T="$tmp" bash -euo pipefail -c '
  fail() { echo "FAIL: $*"; exit 1; }
  for d in /usr /etc /var; do
    mkdir -p "$T/overlay$d/up" "$T/overlay$d/work"
    mount -t overlay overlay -o "lowerdir=$d,upperdir=$T/overlay$d/up,workdir=$T/overlay$d/work" "$d"
  done
  mkdir -p "$T/source" "$T/mnt"
  echo "through the package" > "$T/source/file"
  cleanup() {
    grep -q " $T/mnt " /proc/mounts && { umount "$T/mnt" 2>/dev/null || umount -l "$T/mnt"; }
    pkill -KILL -f "passthroughfs $T/source" 2>/dev/null || true
  }
  trap cleanup EXIT

  dpkg -i "$DEBS"/passthroughfs_*.deb "$DEBS"/libfusekit0_*.deb "$DEBS"/libfusekit-dev_*.deb >/dev/null ||
    fail "dpkg -i"
  [ -x /usr/sbin/passthroughfs ] || fail "no /usr/sbin/passthroughfs"
  man -w passthroughfs >/dev/null || fail "man passthroughfs"
  man -w 3 fusekit >/dev/null || fail "man 3 fusekit"

  # mount(8) runs mount.fuse3 with no PATH of ours: it must find the
  # binary where the package put it.
  env -i /usr/bin/mount -t fuse.passthroughfs "$T/source" "$T/mnt" -o passthrough=auto ||
    fail "mount -t fuse.passthroughfs"
  [ "$(cat "$T/mnt/file")" = "through the package" ] || fail "reading through mount -t"
  umount "$T/mnt"
  echo "$T/source $T/mnt fuse.passthroughfs defaults,allow_other 0 0" > "$T/fstab"
  env -i /usr/bin/mount -T "$T/fstab" "$T/mnt" || fail "mount from an fstab line"
  grep " $T/mnt " /proc/mounts | grep -q allow_other || fail "fstab options not applied"
  [ "$(cat "$T/mnt/file")" = "through the package" ] || fail "reading through the fstab mount"
  umount "$T/mnt"
  for _ in $(seq 100); do pgrep -f "passthroughfs $T/source" >/dev/null || break; sleep 0.05; done
  pgrep -f "passthroughfs $T/source" >/dev/null && fail "the daemon outlived umount"

  examples=/usr/share/doc/libfusekit-dev/examples
  cp -r "$examples" "$T/examples"
  cmake -S "$T/examples/consumer" -B "$T/by-cmake" >/dev/null || fail "find_package(fusekit)"
  cmake --build "$T/by-cmake" >/dev/null || fail "building with the packaged CMake package"
  ldd "$T/by-cmake/minimal" | grep -q "libfusekit.so.0" || fail "not linked to libfusekit.so.0"
  make -s -C "$T/examples/consumer" >/dev/null || fail "building with the packaged fusekit.pc"
  echo "deb_test: dpkg -i, mount -t fuse.passthroughfs, fstab, man, find_package and pkg-config all work"
'
