#!/usr/bin/env bash
# make run: mirrors SOURCE at MOUNTPOINT with passthroughfs, in the
# foreground, until Ctrl-C or `umount MOUNTPOINT`.
#
#   scripts/run-demo.sh [SOURCE [MOUNTPOINT]]
#
# Without SOURCE it mirrors a demo directory, /tmp/passthroughfs-demo/source
# (created with a few files, one of 1 MiB); without MOUNTPOINT it mounts at
# /tmp/passthroughfs-demo/mnt. PASSTHROUGHFS overrides the binary
# (default: the release build).
set -euo pipefail
binary=${PASSTHROUGHFS:-build/release/src/passthroughfs/passthroughfs}
demo=/tmp/passthroughfs-demo
source=${1:-}
mountpoint=${2:-}

if [ ! -x "$binary" ]; then
  echo "run-demo: no $binary; build first (make build)" >&2
  exit 1
fi

if [ -z "$source" ]; then
  source=$demo/source
  if [ ! -d "$source" ]; then
    mkdir -p "$source/docs"
    printf 'hello from passthroughfs\n' >"$source/hello.txt"
    printf 'This directory is mirrored by passthroughfs; see README.md.\n' >"$source/docs/README.txt"
    head -c 1048576 /dev/urandom >"$source/random-1MiB.bin"
    ln -s hello.txt "$source/link-to-hello"
  fi
fi

if [ -z "$mountpoint" ]; then
  mountpoint=$demo/mnt
  # A demo mount left by a killed server answers ENOTCONN: detach it.
  if ! stat "$mountpoint" >/dev/null 2>&1 && grep -qs " $mountpoint fuse" /proc/mounts; then
    umount -l "$mountpoint" || true
  fi
  mkdir -p "$mountpoint"
fi

try="ls -l $mountpoint"
[ -f "$source/hello.txt" ] && try="$try; cat $mountpoint/hello.txt"
cat <<MSG
passthroughfs: mirroring $source at $mountpoint (in the foreground)
  try, in another shell:  $try
  stop it with Ctrl-C, or: umount $mountpoint   (or: fusermount3 -u $mountpoint)
MSG
# exec: Ctrl-C (SIGINT) and SIGTERM reach passthroughfs itself, which
# unmounts and exits 0.
exec "$binary" -f "$source" "$mountpoint"
