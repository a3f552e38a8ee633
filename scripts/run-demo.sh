#!/usr/bin/env bash
# make run: mounts the hello example at a demo mount point, in the
# foreground, until Ctrl-C (which unmounts).
set -euo pipefail
mountpoint=${2:-${TMPDIR:-/tmp}/fusekit-demo}
mkdir -p "$mountpoint"
echo "mounting hello at $mountpoint; try: ls -l $mountpoint; cat $mountpoint/hello"
echo "Ctrl-C (or umount $mountpoint) ends it."
exec build/release/examples/hello "$mountpoint"
