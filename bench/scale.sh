#!/usr/bin/env bash
# The scale row of make bench: DIRS x FILES files in SOURCE (default
# 1,000 x 1,000), then `find -type f | xargs stat` from a cold cache,
# natively and through passthroughfs with inodes by file handle and by fd,
# at this machine's fd limit. Prints the errors, the wall time against
# native, the daemon's peak fds, and its RSS per inode held.
#   bench/scale.sh [DIRS] [FILES]
set -euo pipefail
cd "$(dirname "$0")/.."
DIRS=${1:-1000}
FILES=${2:-1000}
N=$((DIRS * FILES))
WORK=${BENCH_DIR:-/var/tmp/passthroughfs-bench}/scale
BIN=build/release/src/passthroughfs/passthroughfs
OUT=bench/results/scale.txt
[ "$(id -u)" -eq 0 ] || { echo "scale: needs root (drop_caches, mount)"; exit 1; }
mkdir -p "$WORK/source" "$WORK/mnt" bench/results
umount -l "$WORK/mnt" 2>/dev/null || true
if [ "$(find "$WORK/source" -mindepth 2 -maxdepth 2 -type f | wc -l)" -ne "$N" ]; then
  echo "scale: creating $N files in $WORK/source"
  rm -rf "$WORK/source"
  for d in $(seq 0 $((DIRS - 1))); do
    mkdir -p "$WORK/source/d$d"
    (cd "$WORK/source/d$d" && seq -f "f%g" 0 $((FILES - 1)) | xargs touch)
  done
fi
ulimit -n "$(ulimit -Hn)"
limit=$(ulimit -n)

# Seconds and stat errors of `find DIR -type f | xargs stat`, cold.
walk() {
  sync
  echo 3 > /proc/sys/vm/drop_caches
  local start end errors
  start=$(date +%s.%N)
  errors=$( (find "$1" -type f -print0 | xargs -0 stat >/dev/null) 2>&1 | grep -c . || true)
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc) $errors"
}

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

read -r native_s native_err < <(walk "$WORK/source")
printf 'scale: %d files, fd limit %d; native: %.1f s, %d errors\n' "$N" "$limit" "$native_s" "$native_err" | tee "$OUT"
for mode in always never; do
  "$BIN" -f -o "inode_handles=$mode" "$WORK/source" "$WORK/mnt" 2>"$WORK/daemon.log" &
  pid=$!
  for _ in $(seq 50); do grep -q " $WORK/mnt " /proc/mounts && break; sleep 0.1; done
  idle=$(rss "$pid")
  ( peak=0
    while kill -0 "$pid" 2>/dev/null; do
      n=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
      [ "$n" -gt "$peak" ] && peak=$n && echo "$peak" > "$WORK/peak"
      sleep 0.05
    done ) &
  sampler=$!
  echo 0 > "$WORK/peak"
  read -r s err < <(walk "$WORK/mnt")
  after=$(rss "$pid")
  umount "$WORK/mnt"
  wait "$pid" || true
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  peak=$(cat "$WORK/peak")
  line=$(awk -v m="$mode" -v s="$s" -v ns="$native_s" -v e="$err" -v p="$peak" -v l="$limit" \
             -v i="$idle" -v a="$after" -v n="$N" 'BEGIN {
    printf "scale: inode_handles=%s: %.1f s (%.2fx native time), %d errors, daemon peak %d fds of %d, RSS %d -> %d KiB",
      m, s, s / ns, e, p, l, i, a
    if (m == "always") printf " (%.0f bytes per inode)", (a - i) * 1024 / n
    printf "\n" }')
  echo "$line" | tee -a "$OUT"
done
