#!/usr/bin/env bash
# Draws bench/results/latest.csv as a bar chart of the speed ratios.
#   bench/chart.sh CSV PNG "native mode1 mode2 ..."
set -euo pipefail
CSV=$1
PNG=$2
TARGETS=($3)
command -v gnuplot >/dev/null || { echo "chart: gnuplot missing"; exit 0; }
# The chart: one group of bars per figure, one bar per mounted target.
  cols=()
  i=0
  for t in "${TARGETS[@]}"; do
    [ "$t" = native ] && continue
    cols+=("$t")
  done
  plot=""
  base=$((2 + 3 * ${#TARGETS[@]}))
  for idx in "${!cols[@]}"; do
    col=$((base + idx + 1))
    plot+="'$CSV' using $col:xtic(1) title '${cols[$idx]}',"
  done
  gnuplot <<GP
set datafile separator ','
set terminal pngcairo size 1200,500 noenhanced
set output '$PNG'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key outside right top
set yrange [0:2]  # a bar above 2 is cut off; the CSV has its value
set ylabel 'speed relative to native (1.0 = native, cut at 2)'
set xtics rotate by -35
set grid ytics
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2
set title 'passthroughfs vs native, $(uname -r)'
plot ${plot%,}
GP
  echo "chart: $PNG"
