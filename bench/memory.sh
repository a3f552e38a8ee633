#!/usr/bin/env bash
# Daemon memory per inode: RSS of passthroughfs before and after the kernel
# has looked up N files (default 100,000), divided by N. Inodes held by file
# handle (the default) need no fd each; with MEMORY_INODES=never each holds
# an O_PATH fd, so N is capped by the fd limit.
#   bench/memory.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
WORK=${BENCH_DIR:-/var/tmp/passthroughfs-bench}/memory
BIN=build/release/src/passthroughfs/passthroughfs
mkdir -p "$WORK/source" "$WORK/mnt"
umount -l "$WORK/mnt" 2>/dev/null || true
if [ "$(find "$WORK/source" -maxdepth 2 -type f | wc -l)" -lt "$N" ]; then
  echo "memory: creating $N files"
  for d in $(seq 0 $(( (N + 999) / 1000 - 1 ))); do
    mkdir -p "$WORK/source/d$d"
    (cd "$WORK/source/d$d" && seq -f "f%g" 0 999 | xargs touch)
  done
fi
MODE=${MEMORY_INODES:-always}
# By fd every inode holds an O_PATH fd: the daemon needs that many. Raise
# the limit where allowed; else measure as many inodes as the hard limit lets.
hard=$(ulimit -Hn)
if [ "$MODE" = never ] && ! prlimit --nofile=$((N + 1000)):$((N + 1000)) --pid $$ 2>/dev/null; then
  if [ "$hard" != unlimited ] && [ "$N" -gt $((hard - 1000)) ]; then
    echo "memory: the fd hard limit is $hard here (no CAP_SYS_RESOURCE); measuring $((hard - 1000)) inodes"
    N=$((hard - 1000))
  fi
  ulimit -n "$hard"
fi
# By fd, a budget above N, so that no inode is pruned while it is measured.
opts=inode_handles=$MODE
[ "$MODE" = never ] && opts+=",fd_cache=$((N + 1000))"
"$BIN" -f -o "$opts" "$WORK/source" "$WORK/mnt" 2>/dev/null &
pid=$!
trap 'umount -l "$WORK/mnt" 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q " $WORK/mnt " /proc/mounts && break; sleep 0.1; done
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
before=$(rss)
dirs=()
for d in $(seq 0 $(( N / 1000 - 1 ))); do dirs+=("$WORK/mnt/d$d"); done
looked=$(find "${dirs[@]}" -type f -printf '%s\n' 2>/dev/null | wc -l)
after=$(rss)
fds=$(ls "/proc/$pid/fd" | wc -l)
awk -v b="$before" -v a="$after" -v n="$looked" -v fds="$fds" -v mode="$MODE" 'BEGIN {
  printf "memory (inode_handles=%s): %d files looked up; daemon RSS %d KiB -> %d KiB: %.0f bytes per inode; %d fds open\n",
    mode, n, b, a, (a - b) * 1024 / n, fds }'
