#!/usr/bin/env bash
# Runs a libFuzzer binary for SECONDS on a scratch copy of the seed corpus
# (tests/fuzz/corpus), so that a run never changes the committed seeds.
#
#   scripts/run-fuzz.sh BINARY SECONDS
#
# Prints one summary line. Exits non-zero when the fuzzer finds a crash,
# leak, timeout or sanitizer report; the reproducer and the full log are then
# kept in build/fuzz-failures/ and their paths printed. Reproduce with
# BINARY build/fuzz-failures/<run>/crash-..., then add the reproducer to
# tests/fuzz/corpus so that the unit tests replay it in every build.
set -uo pipefail

if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 BINARY SECONDS" >&2
  exit 2
fi
binary=$1
seconds=$2
if [ ! -x "$binary" ]; then
  echo "run-fuzz: $binary is not an executable (build it with the fuzz preset)" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
seeds="$root/tests/fuzz/corpus"
if [ ! -d "$seeds" ]; then
  echo "run-fuzz: no seed corpus at $seeds" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fusekit-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$seeds" "$work/corpus"
mkdir "$work/artifacts"
seed_count=$(find "$work/corpus" -type f | wc -l)

# -timeout: a request handled for seconds is a hang (the harness answers at
# once). -rss_limit_mb: libFuzzer's default, stated so that an allocation
# sized by the request is reported rather than swapped.
# -entropic_feature_frequency_threshold: with the default (255) every one of
# the tens of thousands of features of this -O0 build counts as rare for a
# long while, and libFuzzer's linear search of the rare list dominated short
# runs (~400 execs/s; ~4000 with 8, and more coverage in the same time).
"$binary" "$work/corpus" \
  -max_total_time="$seconds" \
  -timeout=25 \
  -rss_limit_mb=2048 \
  -entropic_feature_frequency_threshold=8 \
  -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" \
  >"$work/log" 2>&1
status=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n1)
cov=$(grep -oE 'cov: [0-9]+' "$work/log" | tail -n1 | cut -d' ' -f2)
corpus_after=$(find "$work/corpus" -type f | wc -l)
name=$(basename "$binary")

if [ "$status" -eq 0 ]; then
  echo "$name: ok after ${seconds}s, ${runs:-?} runs, coverage ${cov:-?}," \
       "corpus $seed_count -> $corpus_after inputs"
  exit 0
fi

keep="$root/build/fuzz-failures/$name-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$keep"
cp "$work/log" "$keep/log"
cp "$work"/artifacts/* "$keep/" 2>/dev/null
reproducer=$(find "$keep" -type f ! -name log | head -n1)
echo "--- last lines of the fuzzer's log ($keep/log) ---" >&2
grep -v '^#[0-9]' "$keep/log" | tail -n 30 >&2
echo "$name: FAILED (exit $status) after ${runs:-?} runs; reproducer: ${reproducer:-none}," \
     "log: $keep/log"
exit "$status"
