#!/usr/bin/env bash
# The coherence figures of make bench: passthroughfs watching SOURCE
# (watch=auto: fanotify, caches kept an hour) and not watching it
# (watch=off: 1 s timeouts), side by side with native.
#   - staleness: ms from a change made in SOURCE until the mount shows it
#     (p50, p99), watched;
#   - warm metadata, each measured 2 s after the same walk warmed the caches
#     (so that 1 s timeouts have lapsed): stat, list, du, find, and git
#     status in a repository of /usr/include, run twice 2 s apart;
#   - the watcher's cost: create and untar, watched against unwatched;
#   - the daemon's CPU (user+system, from /proc/PID/stat) while a storm of
#     changes (tar extraction, rm -rf) runs in SOURCE beside the mount.
# Times are medians of BENCH_REPEATS (default 3). Nothing fails on a timing.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${BENCH_REPEATS:-3}
WORK=${BENCH_DIR:-/var/tmp/passthroughfs-bench}/coherence
BIN=build/release
OUT=bench/results/coherence.txt
[ "$(id -u)" -eq 0 ] || { echo "coherence: needs root"; exit 1; }
command -v git >/dev/null || { echo "coherence: git missing (make deps)"; exit 1; }
SRC=$WORK/source
mkdir -p "$SRC" "$WORK/watched" "$WORK/unwatched" bench/results
for m in watched unwatched; do umount -l "$WORK/$m" 2>/dev/null || true; done
cleanup() { for m in watched unwatched; do umount -l "$WORK/$m" 2>/dev/null || true; done; }
trap cleanup EXIT

if [ ! -d "$SRC/repo/.git" ]; then
  echo "coherence: making a git repository of /usr/include in $SRC/repo"
  rm -rf "$SRC/repo" && mkdir -p "$SRC/repo"
  cp -a /usr/include/. "$SRC/repo/"
  git -C "$SRC/repo" init -q
  git -C "$SRC/repo" add -A
  git -C "$SRC/repo" -c user.name=bench -c user.email=bench@localhost commit -qm tree
fi
[ -f "$WORK/tree.tar" ] || tar -C /usr -cf "$WORK/tree.tar" include
rm -rf "$SRC/meta" && mkdir -p "$SRC/meta" && "$BIN/bench/metabench" create "$SRC/meta" 100 100 >/dev/null

"$BIN/src/passthroughfs/passthroughfs" "$SRC" "$WORK/watched"
"$BIN/src/passthroughfs/passthroughfs" -o watch=off "$SRC" "$WORK/unwatched"
declare -A DIR=([native]=$SRC [watched]=$WORK/watched [unwatched]=$WORK/unwatched)
pid_of() { pgrep -f "passthroughfs.* $SRC $1\$" | head -1; }

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# Wall seconds of a command, to the microsecond (metabench prints its own).
seconds() {
  if [[ $1 == */metabench ]]; then "$@"; return; fi
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || true
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000 ))e-6" | awk '{printf "%.6f\n", $1}'
}

# figure target -> median seconds
declare -A T
warm() {  # figure, then the command with @ for the tree root
  local figure=$1; shift
  for t in native watched unwatched; do
    local cmd=("${@//@/${DIR[$t]}}") runs=()
    "${cmd[@]}" >/dev/null 2>&1 || true
    for _ in $(seq "$REPEATS"); do
      sleep 2
      runs+=("$(seconds "${cmd[@]}")")
    done
    T[$figure,$t]=$(printf '%s\n' "${runs[@]}" | median)
  done
}
warm stat_warm "$BIN/bench/metabench" stat @/meta 100 100
warm list_warm "$BIN/bench/metabench" list @/meta 100 100
warm du_warm du -s @/repo
warm find_warm find @/repo
warm git_status git -C @/repo status --porcelain

# git status right after another (the caches' warmest case)
for t in native watched unwatched; do
  runs=()
  for _ in $(seq "$REPEATS"); do
    git -C "${DIR[$t]}/repo" status --porcelain >/dev/null
    runs+=("$(seconds git -C "${DIR[$t]}/repo" status --porcelain)")
  done
  T[git_status_again,$t]=$(printf '%s\n' "${runs[@]}" | median)
done

# The watcher's cost on what the mount itself changes.
for t in watched unwatched; do
  c=() u=()
  for _ in $(seq "$REPEATS"); do
    rm -rf "$SRC/c" && mkdir -p "$SRC/c"
    sync; echo 3 > /proc/sys/vm/drop_caches
    c+=("$("$BIN/bench/metabench" create "${DIR[$t]}/c" 100 100)")
    rm -rf "$SRC/u" && mkdir -p "$SRC/u"
    u+=("$(seconds tar -C "${DIR[$t]}/u" -xf "$WORK/tree.tar")")
  done
  T[create,$t]=$(printf '%s\n' "${c[@]}" | median)
  T[untar,$t]=$(printf '%s\n' "${u[@]}" | median)
done
rm -rf "$SRC/c" "$SRC/u"

read -r p50 p99 < <("$BIN/bench/metabench" staleness "$SRC" "$WORK/watched" 200)
read -r up50 up99 < <("$BIN/bench/metabench" staleness "$SRC" "$WORK/unwatched" 50)

# The daemon's CPU during a storm beside the mount, with a reader on it.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wpid=$(pid_of "$WORK/watched")
ticks=$(getconf CLK_TCK)
rm -rf "$SRC/storm" && mkdir -p "$SRC/storm"
find "$WORK/watched/storm" >/dev/null
before=$(cpu "$wpid")
start=$(date +%s.%N)
for _ in 1 2 3; do
  tar -C "$SRC/storm" -xf "$WORK/tree.tar"
  find "$WORK/watched/storm" >/dev/null
  rm -rf "$SRC/storm/include"
done
end=$(date +%s.%N)
after=$(cpu "$wpid")
rm -rf "$SRC/storm"

{
  echo "coherence ($(uname -r), $(nproc) cores, $(date -I)); times are medians of $REPEATS, ratio = native time / mount time"
  printf '%-18s %10s %10s %8s %10s %8s\n' figure native watched ratio unwatched ratio
  for f in stat_warm list_warm du_warm find_warm git_status git_status_again; do
    n=${T[$f,native]} w=${T[$f,watched]} u=${T[$f,unwatched]}
    awk -v f="$f" -v n="$n" -v w="$w" -v u="$u" 'BEGIN {
      printf "%-18s %9.4fs %9.4fs %7.2fx %9.4fs %7.2fx\n", f, n, w, (w > 0 ? n / w : 0), u, (u > 0 ? n / u : 0) }'
  done
  for f in create untar; do
    w=${T[$f,watched]} u=${T[$f,unwatched]}
    awk -v f="$f" -v w="$w" -v u="$u" 'BEGIN {
      printf "%-18s watched %.3fs, unwatched %.3fs: the watcher costs %+.1f%%\n", f, w, u, (w / u - 1) * 100 }'
  done
  echo "staleness          watched: p50 $p50 ms, p99 $p99 ms; unwatched (1 s timeouts): p50 $up50 ms, p99 $up99 ms"
  awk -v b="$before" -v a="$after" -v t="$ticks" -v s="$start" -v e="$end" 'BEGIN {
    printf "storm              daemon CPU %.2f s over %.1f s of tar -x / rm -rf beside the mount (%.0f%% of one core)\n",
      (a - b) / t, e - s, (a - b) / t / (e - s) * 100 }'
} | tee "$OUT"
