#!/usr/bin/env bash
# Turns bench/run.sh's raw rows (figure,target,value,unit) into the table,
# CSV and chart. Ratios are speeds relative to native: 1.00 is native, 0.50
# takes twice as long (for times, s or us, native/target; for MiB/s,
# target/native).
set -euo pipefail
RAW=$1
OUT=$2
TARGETS=($3)
CSV=$OUT/latest.csv
PNG=$OUT/ratios.png

# median and spread (min..max) per figure and target
awk -F, '
  { key = $1 "," $2; vals[key] = vals[key] " " $3; unit[$1] = $4; order[$1] = order[$1] ? order[$1] : ++n; figs[n] = $1 }
  END {
    for (key in vals) {
      m = split(substr(vals[key], 2), v, " ");
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      med = (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2;
      split(key, k, ",");
      printf "%s,%s,%s,%s,%s,%s,%d\n", k[1], k[2], med, v[1], v[m], unit[k[1]], order[k[1]];
    }
  }' "$RAW" | sort -t, -k7,7n -k2,2 > "$OUT/medians.tmp"

{
  printf "figure,unit"
  for t in "${TARGETS[@]}"; do printf ",%s,%s_min,%s_max" "$t" "$t" "$t"; done
  for t in "${TARGETS[@]}"; do [ "$t" = native ] || printf ",%s_ratio" "$t"; done
  printf "\n"
  awk -F, -v targets="${TARGETS[*]}" '
    BEGIN { nt = split(targets, T, " ") }
    { if (!($1 in seen)) { seen[$1] = 1; figs[++n] = $1; unit[$1] = $6 }
      med[$1, $2] = $3; lo[$1, $2] = $4; hi[$1, $2] = $5 }
    END {
      for (f = 1; f <= n; f++) {
        fig = figs[f]; printf "%s,%s", fig, unit[fig];
        for (i = 1; i <= nt; i++) printf ",%s,%s,%s", med[fig, T[i]], lo[fig, T[i]], hi[fig, T[i]];
        for (i = 1; i <= nt; i++) {
          if (T[i] == "native") continue;
          nat = med[fig, "native"]; val = med[fig, T[i]];
          if (val == "" || nat == "" || nat == 0 || val == 0) { printf ","; continue }
          r = (unit[fig] == "s" || unit[fig] == "us") ? nat / val : val / nat;
          printf ",%.3f", r;
        }
        printf "\n";
      }
    }' "$OUT/medians.tmp"
} > "$CSV"
rm -f "$OUT/medians.tmp"

# The table: figure, native, each target (median ± spread), ratios.
echo
echo "passthroughfs vs native ($(uname -r), $(nproc) cores, $(date -u +%Y-%m-%d)); ratio = speed relative to native"
awk -F, -v targets="${TARGETS[*]}" '
  BEGIN { nt = split(targets, T, " ") }
  NR == 1 { next }
  {
    line = sprintf("%-15s %-6s", $1, $2); col = 3;
    for (i = 1; i <= nt; i++) { line = line sprintf(" %10s (%s..%s)", $(col), $(col + 1), $(col + 2)); col += 3 }
    for (i = 1; i < nt; i++) { line = line sprintf(" %6s", $(col)); col++ }
    print line
  }' "$CSV" | column -t -s $'\t'
echo "CSV: $CSV"
bench/markdown.sh "$CSV" > "$OUT/latest.md"
echo "markdown table: $OUT/latest.md"
if [ -s "$OUT/requests.csv" ]; then
  echo
  bench/requests_table.sh passthrough "$OUT" | tee "$OUT/requests.md"
fi

bench/chart.sh "$CSV" "$PNG" "${TARGETS[*]}"
