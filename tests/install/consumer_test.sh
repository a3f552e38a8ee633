#!/usr/bin/env bash
# The installed tree works without the source tree: `cmake --install` of
# this build (DESTDIR honoured; stripped), each public header compiling
# alone against the installed include dir, and examples/consumer built
# against it once through find_package(fusekit) and once through
# pkg-config, each binary mounted and read.
#   consumer_test.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d /tmp/fusekit-install.XXXXXX)
pids=()
cleanup() {
  for m in "$tmp"/mnt-*; do
    if [ -d "$m" ] && grep -q " $m " /proc/mounts; then umount "$m" 2>/dev/null || umount -l "$m"; fi
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# DESTDIR: nothing outside it.
DESTDIR=$tmp/dest cmake --install "$build" --prefix /usr/local >/dev/null
for f in include/fusekit/session.h lib/cmake/fusekit/fusekitConfig.cmake \
         lib/cmake/fusekit/fusekitConfigVersion.cmake lib/pkgconfig/fusekit.pc sbin/passthroughfs \
         share/man/man8/passthroughfs.8 share/man/man3/fusekit.3 \
         share/doc/fusekit/examples/consumer/CMakeLists.txt share/doc/fusekit/examples/minimal/minimal.cc; do
  [ -e "$tmp/dest/usr/local/$f" ] || fail "DESTDIR install lacks /usr/local/$f"
done
ls "$tmp"/dest/usr/local/lib/libfusekit.* >/dev/null 2>&1 || fail "no libfusekit installed"

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" --strip >/dev/null
readelf -S "$prefix/sbin/passthroughfs" | grep -q '\.debug_info' && fail "passthroughfs not stripped"
[ -d "$prefix/include/fusekit" ] || fail "no include/fusekit"
libdir=$(dirname "$(find "$prefix" -name fusekit.pc)")/..

# Public headers include nothing private: each compiles alone.
compile_alone() {
  printf '#include <fusekit/%s>\nint main() {}\n' "$1" |
    c++ -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I"$2/include" -x c++ - ||
    { echo "header fusekit/$1 does not compile alone"; return 1; }
}
export -f compile_alone
(cd "$prefix/include/fusekit" && ls *.h) | xargs -P "$(nproc)" -I{} bash -c "compile_alone {} $prefix" ||
  fail "a public header needs more than the installed tree"

examples=$prefix/share/doc/fusekit/examples
cmake -S "$examples/consumer" -B "$tmp/by-cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null ||
  fail "find_package(fusekit) from the installed tree"
cmake --build "$tmp/by-cmake" -j"$(nproc)" >/dev/null || fail "building against fusekit::fusekit"
PKG_CONFIG_PATH=$libdir/pkgconfig make -s -C "$examples/consumer" >/dev/null || fail "building with pkg-config"

mount_and_read() {  # binary name
  local mnt=$tmp/mnt-$2 pid
  mkdir -p "$mnt"
  "$1" "$mnt" & pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do grep -q " $mnt " /proc/mounts && break; sleep 0.05; done
  grep -q " $mnt " /proc/mounts || fail "$2: did not mount"
  [ "$(cat "$mnt/greeting")" = "hi from fusekit" ] || fail "$2: wrong greeting"
  umount "$mnt"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  wait "$pid" || fail "$2: exit status $? after umount"
  echo "$2: built against the installed tree, mounted, read, unmounted"
}
mount_and_read "$tmp/by-cmake/minimal" find_package
mount_and_read "$examples/consumer/minimal" pkg-config
