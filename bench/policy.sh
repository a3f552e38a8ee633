#!/usr/bin/env bash
# make bench, policy views: bindfs (Debian's, --multithreaded) and
# passthroughfs with the same policy (force-user, force-group, perms) side
# by side with native, in one run; then what -o audit= costs on create and
# untar (passthroughfs with and without it). Targets alternate within each
# round, figures are medians of BENCH_REPEATS rounds (default 5). Writes
# bench/results/policy.md. Nothing here fails on a timing.
#
#   BENCH_POLICY_SIZE=256M BENCH_REPEATS=3 bench/policy.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${BENCH_POLICY_SIZE:-256M}
REPEATS=${BENCH_REPEATS:-5}
WORK=${BENCH_DIR:-/var/tmp/passthroughfs-bench}/policy
BIN=build/release
RESULTS=${BENCH_RESULTS:-bench/results}
RUNTIME=${BENCH_FIO_RUNTIME:-5}
POLICY="force-user=nobody,force-group=nogroup,perms=0644:a+X"

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (drop_caches, mount)"; exit 1; }
for tool in fio tar bindfs; do
  command -v "$tool" >/dev/null || { echo "bench: $tool missing (make deps)"; exit 1; }
done

SOURCE=$WORK/source
RAW=$WORK/raw.csv
mkdir -p "$SOURCE" "$RESULTS"
: > "$RAW"
MOUNTED=()
cleanup() { for m in "${MOUNTED[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done; }
trap cleanup EXIT

mount_target() {  # name, command... (SOURCE and the mount point appended)
  local mnt=$WORK/mnt-$1; shift
  mkdir -p "$mnt"
  umount -l "$mnt" 2>/dev/null || true
  "$@" "$SOURCE" "$mnt"
  for _ in $(seq 50); do grep -q " $mnt " /proc/mounts && break; sleep 0.1; done
  MOUNTED+=("$mnt")
}
PT=$BIN/src/passthroughfs/passthroughfs
mount_target bindfs bindfs --multithreaded -o "$POLICY"
mount_target policy "$PT" -o "$POLICY"
mount_target plain "$PT" -o rw
mount_target audit "$PT" -o "audit=$WORK/audit.log"
dir_of() { [ "$1" = native ] && echo "$SOURCE" || echo "$WORK/mnt-$1"; }

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
record() { echo "$1,$2,$3" >> "$RAW"; }

fio_bw() {  # dir rw bs [extra...]: MiB/s
  local dir=$1 rw=$2 bs=$3; shift 3
  fio --name=bench --filename="$dir/data" --rw="$rw" --bs="$bs" --size="$SIZE" \
    --ioengine=psync --runtime="$RUNTIME" --invalidate=0 --output-format=terse --terse-version=3 \
    "$@" | tail -1 | awk -F';' -v w="$rw" '{printf "%.1f", (w ~ /write/ ? $48 : $7) / 1024}'
}
seconds() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null
  end=$(date +%s%N)
  awk -v ns=$((end - start)) 'BEGIN { printf "%.4f", ns / 1e9 }'
}

fio --name=layout --filename="$SOURCE/data" --rw=write --bs=1M --size="$SIZE" --output-format=terse >/dev/null
[ -f "$WORK/tree.tar" ] || tar -C /usr -cf "$WORK/tree.tar" include
for round in $(seq "$REPEATS"); do
  echo "bench: policy round $round of $REPEATS"
  for t in native bindfs policy; do
    d=$(dir_of "$t")
    record seqread_warm "$t" "$(fio_bw "$d" read 1M --time_based)"
    record randread_warm "$t" "$(fio_bw "$d" randread 4k --time_based)"
    record seqwrite "$t" "$(fio_bw "$d" write 1M --end_fsync=1)"
    record randwrite "$t" "$(fio_bw "$d" randwrite 4k --end_fsync=1 --time_based)"
  done
  for t in native bindfs policy plain audit; do
    d=$(dir_of "$t")
    rm -rf "$SOURCE/meta" "$SOURCE/tree"; mkdir -p "$SOURCE/meta" "$SOURCE/tree"
    drop_caches
    record create "$t" "$(seconds "$BIN/bench/metabench" create "$d/meta" 50 100)"
    record stat_after_create "$t" "$(seconds "$BIN/bench/metabench" stat "$d/meta" 50 100)"
    record stat_warm "$t" "$(seconds "$BIN/bench/metabench" stat "$d/meta" 50 100)"
    drop_caches
    record untar "$t" "$(seconds tar --no-same-owner -C "$d/tree" -xf "$WORK/tree.tar")"
  done
done
rm -rf "$SOURCE/meta" "$SOURCE/tree"
AUDIT_RECORDS=$(wc -l < "$WORK/audit.log")

# Medians, then ratios against native (speeds: target/native; times:
# native/target, so 1.00 is native and 0.50 half its speed) and the audit's
# cost (time with audit over time without).
awk -F, -v records="$AUDIT_RECORDS" '
  { v[$1, $2] = v[$1, $2] " " $3; if (!($1 in seen)) { seen[$1] = 1; fig[++n] = $1 } }
  function median(s,   a, m, i, j, t) {
    m = split(substr(s, 2), a, " ")
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  END {
    print "| figure | native | bindfs --multithreaded | passthroughfs | bindfs vs native | passthroughfs vs native |"
    print "|---|---|---|---|---|---|"
    for (i = 1; i <= n; i++) {
      f = fig[i]; speed = f ~ /read|write/
      nat = median(v[f, "native"]); b = median(v[f, "bindfs"]); p = median(v[f, "policy"])
      unit = speed ? " MiB/s" : " s"
      rb = speed ? b / nat : nat / b; rp = speed ? p / nat : nat / p
      printf "| %s | %s%s | %s%s | %s%s | %.2fx | %.2fx |\n", f, nat, unit, b, unit, p, unit, rb, rp
    }
    print ""
    print "| audit cost | passthroughfs | with audit= | extra time |"
    print "|---|---|---|---|"
    for (i = 1; i <= n; i++) {
      f = fig[i]; if (f != "create" && f != "untar") continue
      p = median(v[f, "plain"]); a = median(v[f, "audit"])
      printf "| %s | %s s | %s s | %+.1f%% |\n", f, p, a, (a / p - 1) * 100
    }
    printf "\n%d audit records written in all.\n", records
  }' "$RAW" | tee "$RESULTS/policy.md"
