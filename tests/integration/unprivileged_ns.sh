#!/usr/bin/env bash
# Runs a command (a test binary) in a private mount namespace set up the
# way a stock Debian machine is for unprivileged FUSE users: /dev/fuse a
# 0666 node (this machine's is 0600) and /etc/fuse.conf with
# user_allow_other. Both are bind mounts inside the namespace only: the
# machine's own node and fuse.conf are never changed, and every mount made
# in the namespace is gone with it. ctest runs the tests of non-root mounts
# through it (CROSSCOMPILING_EMULATOR); not as root, it runs the command
# as is (those tests then skip, saying why).
set -euo pipefail
[ "$(id -u)" -eq 0 ] || exec "$@"
exec unshare --mount --propagation private bash -euo pipefail -c '
  # A tmpfs over /mnt (in this namespace only) holds the node and the conf.
  mount -t tmpfs -o mode=0755,size=1m fusekit-ns /mnt
  mknod -m 0666 /mnt/fuse c 10 229
  mount --bind /mnt/fuse /dev/fuse
  { grep -v "^[[:space:]]*user_allow_other" /etc/fuse.conf 2>/dev/null || true; echo user_allow_other; } > /mnt/fuse.conf
  [ -e /etc/fuse.conf ] && mount --bind /mnt/fuse.conf /etc/fuse.conf
  exec "$@"' unprivileged_ns "$@"
