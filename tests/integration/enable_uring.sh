#!/bin/sh
# ctest fixture for the suites that run over FUSE-over-io_uring: `set FILE`
# saves the kernel's enable_uring switch in FILE and turns it on; `restore
# FILE` puts the saved value back. Fails loudly when it cannot, so that the
# io_uring cases never quietly skip.
set -eu
param=/sys/module/fuse/parameters/enable_uring
case $1 in
  set)
    [ -w "$param" ] || { echo "enable_uring: $param not writable (root and a kernel with CONFIG_FUSE_IO_URING needed)"; exit 1; }
    cat "$param" > "$2"
    echo Y > "$param"
    [ "$(cat "$param")" = Y ] || { echo "enable_uring: could not turn it on"; exit 1; }
    ;;
  restore)
    [ -f "$2" ] && cat "$2" > "$param" && rm -f "$2"
    ;;
esac
