#!/usr/bin/env bash
# Prints bench/results/latest.csv as the README's markdown table: each
# figure's median per target, with its speed relative to native.
#   bench/markdown.sh [CSV]
set -euo pipefail
CSV=${1:-$(dirname "$0")/results/latest.csv}
awk -F, '
  NR == 1 {
    for (i = 3; i <= NF; i++) {
      if ($i ~ /_(min|max|ratio)$/) { if ($i ~ /_ratio$/) ratio_col[substr($i, 1, length($i) - 6)] = i; continue }
      targets[++nt] = $i; col[$i] = i
    }
    printf "| figure |"; for (t = 1; t <= nt; t++) printf " %s |", targets[t]; printf "\n"
    printf "|---|"; for (t = 1; t <= nt; t++) printf "---|"; printf "\n"
    next
  }
  {
    unit = $2; printf "| %s (%s) |", $1, unit
    for (t = 1; t <= nt; t++) {
      name = targets[t]; v = $(col[name])
      if (v == "") { printf " – |"; continue }
      if (unit == "s") v = sprintf("%.3f", v); else if (unit == "us") v = sprintf("%.1f", v); else v = sprintf("%.0f", v)
      r = (name in ratio_col) ? $(ratio_col[name]) : ""
      if (r == "") printf " %s |", v; else printf " %s (%.2f×) |", v, r
    }
    printf "\n"
  }' "$CSV"
