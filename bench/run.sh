#!/usr/bin/env bash
# make bench: passthroughfs against the native filesystem it mirrors, side by
# side in one run. Native and mounted runs alternate so that machine drift
# hits both alike; each figure is repeated (BENCH_REPEATS, default 3) and
# reported as the median with its spread. Nothing here fails on a timing.
#
#   BENCH_SIZE=1G BENCH_REPEATS=3 BENCH_DIR=/var/tmp/passthroughfs-bench bench/run.sh
#   (also BENCH_MODES, BENCH_FIO_RUNTIME=15, BENCH_WARM_RUNTIME=3, and
#   BENCH_FIGURES=io or meta for one half of the figures only)
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${BENCH_SIZE:-1G}
REPEATS=${BENCH_REPEATS:-3}
WORK=${BENCH_DIR:-/var/tmp/passthroughfs-bench}
MODES=(${BENCH_MODES:-passthrough byfd io_uring never direct_io})
BIN=build/release
RESULTS=${BENCH_RESULTS:-bench/results}
FIO_RUNTIME=${BENCH_FIO_RUNTIME:-15}
# Warm reads from the page cache finish a file in milliseconds, below fio's
# resolution: they loop over it for this many seconds instead.
WARM_RUNTIME=${BENCH_WARM_RUNTIME:-3}

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (drop_caches, mount)"; exit 1; }
for tool in fio gnuplot tar git; do
  command -v "$tool" >/dev/null || { echo "bench: $tool missing (make deps)"; exit 1; }
done

SOURCE=$WORK/source
mkdir -p "$SOURCE" "$RESULTS"
RAW=$RESULTS/raw.csv
: > "$RAW"
declare -A DIR_OF
DIR_OF[native]=$SOURCE
MOUNTED=()

# FUSE-over-io_uring needs the kernel's global switch; put it back after.
URING_PARAM=/sys/module/fuse/parameters/enable_uring
URING_WAS=$(cat "$URING_PARAM" 2>/dev/null || echo "")

cleanup() {
  for m in "${MOUNTED[@]}"; do umount -l "$m" 2>/dev/null || true; done
  if [ -n "$URING_WAS" ]; then echo "$URING_WAS" > "$URING_PARAM" 2>/dev/null || true; fi
}
trap cleanup EXIT

mount_target() {  # name, command...
  local name=$1; shift
  local mnt=$WORK/mnt-$name
  mkdir -p "$mnt"
  umount -l "$mnt" 2>/dev/null || true
  "$@" "$SOURCE" "$mnt"
  for _ in $(seq 50); do grep -q " $mnt " /proc/mounts && break; sleep 0.1; done
  MOUNTED+=("$mnt")
  DIR_OF[$name]=$mnt
}

for mode in "${MODES[@]}"; do
  case $mode in
    passthrough) mount_target passthrough "$BIN/src/passthroughfs/passthroughfs" -o passthrough=always ;;
    # The same with inodes held by fd instead of by file handle.
    byfd) mount_target byfd "$BIN/src/passthroughfs/passthroughfs" -o passthrough=always,inode_handles=never ;;
    io_uring)
      if ! echo Y > "$URING_PARAM" 2>/dev/null; then
        echo "bench: cannot turn on $URING_PARAM: no io_uring row"
        continue
      fi
      mount_target io_uring "$BIN/src/passthroughfs/passthroughfs" -o passthrough=always,io_uring ;;
    never) mount_target never "$BIN/src/passthroughfs/passthroughfs" -o passthrough=never ;;
    direct_io) mount_target direct_io "$BIN/src/passthroughfs/passthroughfs" -o direct_io ;;
  esac
done
# The floor: a minimal fusekit server that only registers backing files
# (examples/passthrough_file). Its root holds just regular files, so it
# serves the I/O figures only.
"$BIN/examples/passthrough_file" "$SOURCE" "$WORK/mnt-floor" >/dev/null 2>&1 &
mkdir -p "$WORK/mnt-floor"
for _ in $(seq 50); do grep -q " $WORK/mnt-floor " /proc/mounts && break; sleep 0.1; done
MOUNTED+=("$WORK/mnt-floor")
DIR_OF[floor]=$WORK/mnt-floor

MOUNTED_MODES=()
for mode in "${MODES[@]}"; do [ -n "${DIR_OF[$mode]:-}" ] && MOUNTED_MODES+=("$mode"); done
TARGETS=(native "${MOUNTED_MODES[@]}")
IO_TARGETS=(native "${MOUNTED_MODES[@]}" floor)

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

record() { echo "$1,$2,$3,$4" >> "$RAW"; }  # figure, target, value, unit

# fio with terse output: field 7 is read KiB/s, field 48 write KiB/s.
fio_bw() {  # dir file rw bs jobs [extra...]
  local dir=$1 file=$2 rw=$3 bs=$4 jobs=$5; shift 5
  local line
  line=$(fio --name=bench --filename="$dir/$file" --rw="$rw" --bs="$bs" --size="$SIZE" \
    --numjobs="$jobs" --group_reporting --ioengine=psync --runtime="$FIO_RUNTIME" --invalidate=0 \
    --output-format=terse --terse-version=3 "$@" | tail -1)
  case $rw in
    *write*) echo "$line" | awk -F';' '{printf "%.1f", $48/1024}' ;;
    *) echo "$line" | awk -F';' '{printf "%.1f", $7/1024}' ;;
  esac
}

prepare_files() {
  echo "bench: laying out $SIZE test files in $SOURCE"
  fio --name=layout --filename="$SOURCE/read.dat" --rw=write --bs=1M --size="$SIZE" \
    --output-format=terse >/dev/null
  fio --name=layout --filename="$SOURCE/write.dat" --rw=write --bs=1M --size="$SIZE" \
    --output-format=terse >/dev/null
  if [ ! -f "$WORK/tree.tar" ]; then
    tar -C /usr -cf "$WORK/tree.tar" include
  fi
  # A real repository for the git figures: /usr/include, committed once.
  if [ ! -d "$WORK/repo.git" ]; then
    local tmp=$WORK/repo-work
    rm -rf "$tmp"; mkdir -p "$tmp"
    tar -C "$tmp" -xf "$WORK/tree.tar"
    git -C "$tmp" init -q
    git -C "$tmp" add -A
    git -C "$tmp" -c user.name=bench -c user.email=bench@localhost commit -qm tree
    git clone -q --bare "$tmp" "$WORK/repo.git"
    rm -rf "$tmp"
  fi
}

io_round() {
  local t dir
  for t in "${IO_TARGETS[@]}"; do
    dir=${DIR_OF[$t]}
    drop_caches
    record seqread_cold "$t" "$(fio_bw "$dir" read.dat read 1M 1)" MiB/s
    record seqread_warm "$t" "$(fio_bw "$dir" read.dat read 1M 1 --time_based --runtime="$WARM_RUNTIME")" MiB/s
    drop_caches
    record randread_cold "$t" "$(fio_bw "$dir" read.dat randread 4k 1 --time_based)" MiB/s
    fio_bw "$dir" read.dat read 1M 1 >/dev/null  # warm it again
    record randread_warm "$t" "$(fio_bw "$dir" read.dat randread 4k 1 --time_based --runtime="$WARM_RUNTIME")" MiB/s
    record randread_2jobs "$t" "$(fio_bw "$dir" read.dat randread 4k 2 --time_based --runtime="$WARM_RUNTIME")" MiB/s
    record seqwrite "$t" "$(fio_bw "$dir" write.dat write 1M 1 --end_fsync=1)" MiB/s
    record randwrite "$t" "$(fio_bw "$dir" write.dat randwrite 4k 1 --end_fsync=1)" MiB/s
  done
}

# Wall time in seconds, to 0.1 ms (a warm find or git status takes 10 ms).
# The command's status is ignored: git grep exits 1 when nothing matches.
seconds() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null || true
  end=$(date +%s%N)
  awk -v ns=$((end - start)) 'BEGIN { printf "%.4f", ns / 1e9 }'
}

REQUESTS=$RESULTS/requests.csv
: > "$REQUESTS"
. bench/requests.sh
# One metadata figure, in seconds: in the last round, with the requests it
# cost per file on each mount (FILES: the files or entries it touches).
meta_figure() {  # figure target files command...
  local fig=$1 t=$2 files=$3 value track=0
  shift 3
  if [ "$ROUND" = "$REPEATS" ] && [ "$t" != native ]; then track=1; requests_begin "$t"; fi
  value=$("$@")
  record "$fig" "$t" "$value" s
  if [ $track = 1 ]; then requests_end "$t" "$fig" "$files"; fi
}

meta_round() {
  local t dir
  for t in "${TARGETS[@]}"; do
    dir=${DIR_OF[$t]}/meta
    record statfs_rtt "$t" "$("$BIN/bench/metabench" statfs "${DIR_OF[$t]}")" us
    rm -rf "$SOURCE/meta"; mkdir -p "$SOURCE/meta"
    # ext4 scans past inodes deleted in the last minutes while their inode
    # table blocks are cached (recently_deleted()): without this, each
    # create would pay for the deletes of the run before it.
    drop_caches
    meta_figure create "$t" 10000 "$BIN/bench/metabench" create "$dir"
    drop_caches
    meta_figure stat_cold "$t" 10000 "$BIN/bench/metabench" stat "$dir"
    meta_figure stat_warm "$t" 10000 "$BIN/bench/metabench" stat "$dir"
    meta_figure list "$t" 10000 "$BIN/bench/metabench" list "$dir"
    drop_caches
    meta_figure list_cold "$t" 10000 "$BIN/bench/metabench" list "$dir"
    drop_caches
    meta_figure ls_l_cold "$t" 10000 seconds ls -lR "$dir"
    meta_figure read_small "$t" 10000 "$BIN/bench/metabench" read "$dir"
    meta_figure delete "$t" 10000 "$BIN/bench/metabench" delete "$dir"
    rm -rf "$SOURCE/tree"; mkdir -p "$SOURCE/tree"
    meta_figure untar "$t" "$TREE_ENTRIES" seconds tar -C "${DIR_OF[$t]}/tree" -xf "$WORK/tree.tar"
    drop_caches
    meta_figure du_cold "$t" "$TREE_ENTRIES" seconds du -s "${DIR_OF[$t]}/tree"
    meta_figure find_warm "$t" "$TREE_ENTRIES" seconds find "${DIR_OF[$t]}/tree"
    meta_figure rm_tree "$t" "$TREE_ENTRIES" seconds rm -rf "${DIR_OF[$t]}/tree/include"
    git_figures "$t"
  done
}

# A clone over the pack protocol (file://, as from a server: no hardlinks),
# then status and grep (every file opened) cold, and grep warm.
git_figures() {  # target
  local t=$1 clone=${DIR_OF[$1]}/clone
  rm -rf "$SOURCE/clone"
  drop_caches
  meta_figure git_clone "$t" "$REPO_FILES" seconds git clone -q "file://$WORK/repo.git" "$clone"
  drop_caches
  meta_figure git_status_cold "$t" "$REPO_FILES" seconds git -C "$clone" status --porcelain
  meta_figure git_status_warm "$t" "$REPO_FILES" seconds git -C "$clone" status --porcelain
  drop_caches
  meta_figure git_grep_cold "$t" "$REPO_FILES" seconds git -C "$clone" grep -c no_such_string_in_the_tree
  meta_figure git_grep_warm "$t" "$REPO_FILES" seconds git -C "$clone" grep -c no_such_string_in_the_tree
  rm -rf "$SOURCE/clone"
}

FIGURES=${BENCH_FIGURES:-all}
prepare_files
TREE_ENTRIES=$(tar -tf "$WORK/tree.tar" | wc -l)
REPO_FILES=$(git --git-dir="$WORK/repo.git" ls-tree -r HEAD | wc -l)
for ROUND in $(seq "$REPEATS"); do
  echo "bench: round $ROUND of $REPEATS"
  [ "$FIGURES" = meta ] || io_round
  [ "$FIGURES" = io ] || meta_round
done

bench/report.sh "$RAW" "$RESULTS" "${TARGETS[*]} floor"
